/** Runs `cert renew`: the options once, the renewal, then the report on stdout (or JSON). */
import { certRenewCommand } from './renew.js';
import { renderRenewal, renewalJson } from './output.js';
import { startSpinner } from '../../output/terminal.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  const spinner = await startSpinner('Renewing the device certificate:', r.cli.stderr, r.term);
  try {
    const io = r.io(spinner);
    const result = await certRenewCommand(r.settings!, { newKey: r.options.newKey, allowShorter: r.options.allowShorter }, io);
    spinner.stop();
    if (r.term.json) r.cli.stdout.write(`${JSON.stringify(renewalJson(result), null, 2)}\n`);
    else if (!r.term.quiet) r.cli.stdout.write(renderRenewal(result, io.now()));
    return 0;
  } finally {
    spinner.stop();
  }
}
