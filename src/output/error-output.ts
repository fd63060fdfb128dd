/** Turning any error into what the user reads on stderr, and its exit code. No stack unless --verbose or a bug. */
import { C8yError, ExitCode, type ExitCodeValue } from '../core/errors.js';
import { shownText } from '../core/text.js';
import { describeError } from './messages.js';

export interface ErrorView {
  exitCode: ExitCodeValue;
  text: string;
}

/** The message (and hint, and with verbose the cause chain) for stderr, plain or as one JSON line. */
export function renderError(err: unknown, opts: { verbose: boolean; json: boolean; paint?: (s: string) => string }): ErrorView {
  const paint = opts.paint ?? ((s: string) => s);
  if (err instanceof C8yError) {
    const { message, hint } = describeError(err);
    if (opts.json) {
      const body: Record<string, unknown> = { code: err.code, exitCode: err.exitCode, message };
      if (hint) body.hint = hint;
      if (Object.keys(err.facts).length) body.details = err.facts;
      return { exitCode: err.exitCode, text: JSON.stringify({ error: body }) + '\n' };
    }
    let text = `${paint(`c8ytoken: ${message}`)}\n`;
    if (hint) text += `  ${hint}\n`;
    text += `  (error ${err.code}, exit code ${err.exitCode})\n`;
    if (opts.verbose && err.cause) text += `  cause: ${describeCause(err.cause)}\n`;
    return { exitCode: err.exitCode, text };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (opts.json) {
    return { exitCode: ExitCode.internal, text: JSON.stringify({ error: { code: 'INTERNAL', exitCode: ExitCode.internal, message: shownText(e.message) } }) + '\n' };
  }
  return {
    exitCode: ExitCode.internal,
    text: `${paint(`c8ytoken: internal error: ${shownText(e.message)}`)}\n  This is a bug in c8ytoken: please report it, with this stack and the command you ran (without passwords)\n${e.stack ?? ''}\n`,
  };
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${cause.name}${code ? ` ${code}` : ''}: ${shownText(cause.message)}${cause.stack ? `\n${cause.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
  }
  return shownText(String(cause));
}
