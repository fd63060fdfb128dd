/** Runs `cert needs-renewal`: exit 0 when the certificate should be renewed now, 1 when not yet. */
import { certNeedsRenewalCommand } from './needs-renewal.js';
import { needsRenewalJson, renderNeedsRenewal } from './output.js';
import { ExitCode } from '../../core/errors.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  const io = r.io();
  const result = await certNeedsRenewalCommand(r.settings!, { withinMs: r.options.within }, io);
  if (r.term.json) r.cli.stdout.write(`${JSON.stringify(needsRenewalJson(result), null, 2)}\n`);
  else if (!r.term.quiet) r.cli.stdout.write(renderNeedsRenewal(result, io.now()));
  return result.renewNow ? ExitCode.ok : ExitCode.checkFailed;
}
