/** Runs `cert renew`: the options once, the renewal, then the report on stdout (or JSON). */
import { certRenewCommand } from './renew.js';
import { renderRenewal, renewalJson } from './output.js';
import { startSpinner } from '../../output/terminal.js';
import { valueOf, type Run } from '../command.js';

export async function run(r: Run): Promise<number> {
  const spinner = await startSpinner('Renewing the device certificate:', r.cli.stderr, r.term);
  try {
    const io = r.io(spinner);
    const result = await certRenewCommand(r.settings!, { newKey: r.flags.newKey === true, allowShorter: valueOf(r, 'allowShorter') === true }, io);
    spinner.stop();
    if (r.term.json) r.cli.stdout.write(`${JSON.stringify(renewalJson(result), null, 2)}\n`);
    else if (!r.term.quiet) r.cli.stdout.write(renderRenewal(result, io.now()));
    return 0;
  } finally {
    spinner.stop();
  }
}
