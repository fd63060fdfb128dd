/** Runs `fetch`: the typed options once, the command, then stdout gets the token form and stderr the summary. */
import { obtainToken } from '../../core/token/obtain.js';
import { renderToken, summaryLine, tokenJson } from './output.js';
import { startSpinner } from '../../output/terminal.js';
import { skewText } from '../../core/token/clock.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  const { output, format: asked, shell } = r.options;
  // `-o -` means stdout, as in curl.
  const file = output === '-' ? undefined : output;
  const spinner = await startSpinner('Fetching the device token:', r.cli.stderr, r.term);
  try {
    const io = r.io(spinner);
    const result = await obtainToken(r.settings!, { output: file, cache: r.options.cache, force: r.options.force, meta: r.options.meta }, io);
    spinner.stop();
    const skew = skewText(result.offset);
    if (skew)
      io.warn(`this device's clock is ${skew} (from the ${result.offset!.basis}): fix its time synchronisation (NTP, e.g. timedatectl set-ntp true); token times were judged on the platform's clock.`);
    // With -o the token stays off stdout unless a form was asked for; --json alone gives the metadata.
    if (!file) r.cli.stdout.write(renderToken(result, asked ?? (r.term.json ? 'json' : 'token'), shell));
    else if (asked) r.cli.stdout.write(renderToken(result, asked, shell));
    else if (r.term.json) r.cli.stdout.write(`${JSON.stringify(tokenJson(result, false), null, 2)}\n`);
    if (!r.term.quiet) r.cli.stderr.write(`${summaryLine(result, (r.cli.now ?? Date.now)())}\n`);
    return 0;
  } finally {
    spinner.stop();
  }
}
