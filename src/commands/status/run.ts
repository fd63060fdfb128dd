/** Runs `status`: the health document as JSON (--json) or lines; exit 0 while it can serve, 1 when not. */
import { parseListen } from '../../core/config/listen.js';
import { statusCommand } from './status.js';
import { renderStatus } from './output.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  const { listen, meta, within, timeout } = r.options;
  const doc = await statusCommand({ listen: parseListen(listen), meta, withinMs: within, timeoutMs: timeout }, (r.cli.now ?? Date.now)());
  r.cli.stdout.write(r.term.json ? `${JSON.stringify(doc)}\n` : renderStatus(doc));
  return doc.ok ? 0 : 1;
}
