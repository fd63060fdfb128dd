/** Runs `status`: the health document as JSON (--json) or lines; exit 0 while it can serve, 1 when not. */
import { msOf, textOf, type Run } from '../../cli/run/run.js';
import { parseListen } from '../proxy/listen.js';
import { statusCommand } from './status.js';
import { renderStatus } from './output.js';

export async function run(r: Run): Promise<number> {
  const doc = await statusCommand({ listen: parseListen(textOf(r, 'listen')!), meta: textOf(r, 'meta'), withinMs: msOf(r, 'within')!, timeoutMs: msOf(r, 'timeout')! }, (r.cli.now ?? Date.now)());
  r.cli.stdout.write(r.term.json ? `${JSON.stringify(doc)}\n` : renderStatus(doc));
  return doc.ok ? 0 : 1;
}
