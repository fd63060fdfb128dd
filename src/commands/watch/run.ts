/** Runs `watch`: the typed options once, then events as lines on stderr or NDJSON on stdout until stopped. */
import { constants } from 'node:os';
import { keepTokenFresh, type TokenEvent } from '../../core/token/keeper.js';
import { renderWatchEvent, watchEventJson } from '../../output/token-events.js';
import { C8yError } from '../../core/errors.js';
import { formatDuration } from '../../core/time/duration.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

/**
 * A full garbage collection between refreshes. watch runs for months on devices with little memory and
 * sleeps between refreshes: V8 would otherwise grow its heap lazily to tens of megabytes of garbage
 * (measured: `npm run soak`). `--expose-gc` set at run time makes `gc` available in a new context.
 */
function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => gc();
}

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  const { exec, once, output, minRetry, maxRetry, renewBefore } = r.options;
  // An empty command name is no command (Node's spawn would refuse it as an internal error).
  if (exec && (r.args.length === 0 || r.args[0] === '')) throw new C8yError('USAGE', { detail: '--exec needs a command after --, e.g. --exec -- systemctl reload my-agent.' });
  if (!exec && r.args.length > 0) throw new C8yError('USAGE', { detail: `Unexpected argument "${r.args[0]}".`, suggestion: 'To run a command after each new token, use --exec -- COMMAND ARGS.' });
  if (!output || output === '-') throw new C8yError('USAGE', { detail: 'watch needs -o FILE: the token file to keep fresh.' });
  if (minRetry > maxRetry) throw new C8yError('USAGE', { detail: `--min-retry (${formatDuration(minRetry)}) is longer than --max-retry (${formatDuration(maxRetry)}).` });
  const io = r.io();
  if (!once) r.cli.settleForLongRun?.();
  // --once: a failed hook fails the run (a timer or cron job must see it), with the hook's exit code as
  // exec gives its command's. A watch that runs on logs the failure and goes on.
  let hookFailure: number | undefined;
  const code = await keepTokenFresh(
    r.settings!,
    {
      output,
      meta: r.options.meta,
      exec: exec ? r.args : undefined,
      once,
      exitOnError: r.options.exitOnError,
      minRetryMs: minRetry,
      maxRetryMs: maxRetry,
      slowRetryMs: r.options.slowRetry,
      renewal:
        renewBefore === undefined
          ? undefined
          : { beforeMs: renewBefore, renew: (...a) => import('../../core/est/device.js').then((m) => m.renewForKeeper(r.settings!, io, r.options.allowShorter, ...a)) },
    },
    {
      ...io,
      emit: (event) => {
        if (once && event.event === 'hook') hookFailure = hookExitCode(event) || undefined;
        if (r.term.json) r.cli.stdout.write(`${JSON.stringify(watchEventJson(event))}\n`);
        else if (!r.term.quiet || event.event === 'error' || event.event === 'expired' || event.event === 'renew-failed') r.cli.stderr.write(`${renderWatchEvent(event)}\n`);
      },
      random: Math.random,
      onRefreshRequest: r.cli.onRefreshRequest,
      idle: fullCollection(),
    },
  );
  return code === 0 && hookFailure !== undefined ? hookFailure : code;
}

/** A hook's exit code as a shell gives it: 128+N when signal N ended it, 126/127 when it could not be started. */
function hookExitCode(event: Extract<TokenEvent, { event: 'hook' }>): number {
  if (event.error !== undefined) return /EACCES/.test(event.error) ? 126 : 127;
  if (event.signal) return 128 + (constants.signals[event.signal as NodeJS.Signals] ?? 0);
  return event.exitCode ?? 1;
}
