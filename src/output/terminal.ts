/** The terminal side: colour decisions, a spinner on stderr, and the hidden password prompt. */
import { C8yError } from '../core/errors.js';

export interface TerminalOptions {
  quiet: boolean;
  json: boolean;
  verbose: boolean;
  color: boolean;
}

/** Colour only on a TTY, never with NO_COLOR or --no-color (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export interface Spinner {
  update(text: string): void;
  stop(): void;
}

/**
 * An ora spinner on stderr when stderr is a terminal of known width and output is for a person;
 * otherwise nothing. On a terminal that reports zero columns (`script`, some `docker exec -t`) ora
 * cannot wrap its line and redraws it forever, so there is none. It shows from the first progress
 * message on (after any password prompt), and `stop` clears it, e.g. before a prompt.
 */
export async function startSpinner(text: string, stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, opts: TerminalOptions): Promise<Spinner> {
  if (!stderr.isTTY || !(Number(stderr.columns) > 0) || opts.quiet || opts.json || opts.verbose) return { update: () => undefined, stop: () => undefined };
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: stderr, color: opts.color ? 'cyan' : false, isEnabled: true, discardStdin: false });
  return {
    update: (t) => {
      spinner.text = `${text} ${t}`;
      if (!spinner.isSpinning) spinner.start();
    },
    stop: () => spinner.stop(),
  };
}

/** Asks for a secret on the terminal without echoing it. Ctrl-C aborts with the usual exit code. */
export function promptHidden(question: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(question);
    const wasRaw = input.isRaw;
    input.setRawMode?.(true);
    input.resume();
    input.setEncoding('utf8');
    let value = '';
    const done = (err?: Error): void => {
      input.setRawMode?.(wasRaw);
      input.pause();
      input.removeListener('data', onData);
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new C8yError('INTERRUPTED'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}
