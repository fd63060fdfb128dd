/** Runs `exec`: the token, then CMD with it; CMD's exit code is ours. Refresh problems are lines on stderr. */
import { execCommand } from './exec.js';
import { renderWatchEvent } from '../../output/token-events.js';
import { C8yError } from '../../core/errors.js';
import { shownText } from '../../core/text.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  // An empty command name is no command (Node's spawn would refuse it as an internal error).
  if (r.args.length === 0 || r.args[0] === '') throw new C8yError('USAGE', { detail: 'exec needs a command after --, e.g. c8ytoken exec -- curl -H "Authorization: $C8Y_HEADER_AUTHORIZATION" ...' });
  // It runs as long as its command, logging refreshes: never a blocking write to a reader that stalls.
  r.cli.streamOutput?.();
  const result = await execCommand(
    r.settings!,
    { command: r.args, output: r.options.output === '-' ? undefined : r.options.output, minRetryMs: r.options.minRetry, maxRetryMs: r.options.maxRetry, slowRetryMs: r.options.slowRetry },
    {
      ...r.io(),
      // The refresher's routine events stay quiet: CMD owns the terminal. Failures and expiry are said.
      emit: (event) => {
        if (event.event === 'error' || event.event === 'expired' || (r.term.verbose && event.event !== 'start' && event.event !== 'stop')) r.cli.stderr.write(`c8ytoken: ${renderWatchEvent(event)}\n`);
      },
      random: Math.random,
      takeSignals: r.cli.takeSignals,
    },
  );
  if (result.startError) r.cli.stderr.write(`c8ytoken: cannot run ${shownText(r.args[0]!, 100)}: ${shownText(result.startError)}\n`);
  return result.exitCode;
}
