/** Runs `watch`: the typed options once, then events as lines on stderr or NDJSON on stdout until stopped. */
import { constants } from 'node:os';
import { watchCommand, type WatchEvent } from '../../commands/watch.js';
import { renderWatchEvent, watchEventJson } from '../../output/watch-output.js';
import { C8yError } from '../../core/errors.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { msOf, textOf, valueOf, type Run } from './run.js';

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

export async function run(r: Run): Promise<number> {
  const exec = r.flags.exec === true;
  // An empty command name is no command (Node's spawn would refuse it as an internal error).
  if (exec && (r.args.length === 0 || r.args[0] === '')) throw new C8yError('USAGE', { detail: '--exec needs a command after --, e.g. --exec -- systemctl reload my-agent.' });
  if (!exec && r.args.length > 0) throw new C8yError('USAGE', { detail: `Unexpected argument "${r.args[0]}".`, suggestion: 'To run a command after each new token, use --exec -- COMMAND ARGS.' });
  const output = textOf(r, 'output');
  if (!output || output === '-') throw new C8yError('USAGE', { detail: 'watch needs -o FILE: the token file to keep fresh.' });
  const minRetryMs = msOf(r, 'minRetry')!;
  const maxRetryMs = msOf(r, 'maxRetry')!;
  if (minRetryMs > maxRetryMs) throw new C8yError('USAGE', { detail: `--min-retry (${textOf(r, 'minRetry')}) is longer than --max-retry (${textOf(r, 'maxRetry')}).` });
  const renewBeforeMs = msOf(r, 'renewBefore');
  const io = r.io();
  const once = r.flags.once === true;
  if (!once) r.cli.settleForLongRun?.();
  // --once: a failed hook fails the run (a timer or cron job must see it), with the hook's exit code as
  // exec gives its command's. A watch that runs on logs the failure and goes on.
  let hookFailure: number | undefined;
  const code = await watchCommand(
    r.settings!,
    {
      output,
      meta: textOf(r, 'meta'),
      exec: exec ? r.args : undefined,
      once,
      exitOnError: r.flags.exitOnError === true,
      minRetryMs,
      maxRetryMs,
      slowRetryMs: msOf(r, 'slowRetry')!,
      renewal:
        renewBeforeMs === undefined
          ? undefined
          : { beforeMs: renewBeforeMs, renew: (...a) => import('../../commands/cert.js').then((m) => m.renewForKeeper(r.settings!, io, valueOf(r, 'allowShorter') === true, ...a)) },
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
function hookExitCode(event: Extract<WatchEvent, { event: 'hook' }>): number {
  if (event.error !== undefined) return /EACCES/.test(event.error) ? 126 : 127;
  if (event.signal) return 128 + (constants.signals[event.signal as NodeJS.Signals] ?? 0);
  return event.exitCode ?? 1;
}
