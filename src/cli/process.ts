/**
 * The CLI wired to a process: its streams, its environment, signals and the exit code. The bin calls
 * this; tests call it with a process of their own. SIGINT and SIGTERM abort the running command and end
 * the process with 130 or 143 within a second even if the command does not stop (long work yields to the
 * event loop, so the handler always runs; a system call that a stalled file system holds, such as reading
 * a credential file on a hung network mount, is waited for); SIGHUP asks watch to refresh now.
 */
import type { CliIo } from '../commands/command.js';

// node:tty and node:v8 are loaded only when asked (process.getBuiltinModule): most runs need neither, and
// loading them was a part of every start-up.

/** What of a Node process the CLI uses. */
export interface ProcessLike {
  argv: string[];
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  stdout: CliIo['stdout'] & { on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown; listenerCount(event: 'error'): number };
  stderr: CliIo['stderr'];
  readonly stdin: NodeJS.ReadStream;
  exitCode?: number | string | null | undefined;
  cwd(): string;
  exit(code?: number): never;
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 }; // 128 + signal number
/** How long a command may take to stop after SIGINT/SIGTERM before the process ends anyway. */
export const STOP_GRACE_MS = 800;

/** Runs the CLI for a process: resolves when the command is done, with process.exitCode set. */
export async function runAsProcess(proc: ProcessLike, main: (argv: string[], io: CliIo) => Promise<number>, version: string): Promise<void> {
  // `c8ytoken ... | head` closes the pipe early: that is the reader's choice, not an error to report.
  const closed = (): never => proc.exit(Number(proc.exitCode ?? 0));
  const stdio = (name: 'stdout' | 'stderr'): CliIo['stdout'] => {
    const stream = (): CliIo['stdout'] => {
      const s = proc[name];
      if (name === 'stdout' && s.listenerCount('error') === 0) {
        proc.stdout.on('error', (err) => {
          if (err.code === 'EPIPE') closed();
          throw err;
        });
      }
      return s;
    };
    return proc === process && proc.platform !== 'win32' ? directWriter(name === 'stdout' ? 1 : 2, stream, closed) : stream();
  };
  const stdout = stdio('stdout');
  const stderr = stdio('stderr');
  const controller = new AbortController();
  // A command that forwards signals (exec) takes them; otherwise they stop the command.
  let taker: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (taker) return taker(signal);
    if (controller.signal.aborted) return;
    controller.abort(signal);
    // A command that does not stop in time must not keep the process alive.
    setTimeout(() => proc.exit(SIGNAL_EXIT[signal]), STOP_GRACE_MS).unref();
  };
  proc.on('SIGINT', onSignal);
  proc.on('SIGTERM', onSignal);
  const streamOutput = (): void => {
    for (const s of [stdout, stderr]) (s as Partial<DirectWriter>).useStream?.();
  };
  const code = await main(proc.argv.slice(2), {
    stdout,
    stderr,
    stdin: () => proc.stdin,
    // Asked only by what may read stdin or prompt (inspect without a token, a password on a terminal).
    get stdinIsTTY() {
      return isTerminal(0);
    },
    env: proc.env,
    cwd: proc.cwd(),
    signal: controller.signal,
    version,
    // SIGHUP asks `watch` to refresh now; Windows has no SIGHUP to send.
    onRefreshRequest: (callback) => {
      if (proc.platform === 'win32') return () => undefined;
      proc.on('SIGHUP', callback);
      return () => proc.off('SIGHUP', callback);
    },
    // watch: no optimising or baseline compiler. A refresh is a few milliseconds of JavaScript around a
    // TLS handshake; the compilers' code and the pages of Node they run from would stay resident for
    // nothing (`npm run soak`, 600 refreshes: 58.4 -> 57.0 MB, 1.35x -> 1.32x an idle Node with https;
    // the slowest keystore, GnuTLS's 600,000 iterations per bag, reads in 1.2 s instead of 1.0 s).
    // Months of lines to a reader that may stall (a journal, a logger): Node's streams queue them instead
    // of blocking the event loop in a synchronous write (watch, proxy, exec).
    streamOutput,
    settleForLongRun: () => {
      streamOutput();
      const v8 = process.getBuiltinModule('node:v8');
      v8.setFlagsFromString('--no-opt');
      v8.setFlagsFromString('--no-sparkplug');
    },
    takeSignals: (handler) => {
      taker = handler;
      const hangup = (): void => handler('SIGHUP');
      if (proc.platform !== 'win32') proc.on('SIGHUP', hangup);
      return () => {
        taker = undefined;
        if (proc.platform !== 'win32') proc.off('SIGHUP', hangup);
      };
    },
  });
  const reason = controller.signal.reason as NodeJS.Signals | undefined;
  proc.exitCode = controller.signal.aborted && reason ? (SIGNAL_EXIT[reason] ?? code) : code;
}

/**
 * Whether a descriptor is a terminal. node:tty brings node:net and the stream machinery with it: asked only
 * of a character device other than /dev/null (what cron and systemd give a service as stdin, and what
 * `>/dev/null` gives as stdout), told apart by its device number; a pipe, socket or file is no terminal.
 */
function isTerminal(fd: number): boolean {
  const fs = process.getBuiltinModule('node:fs');
  let info;
  try {
    info = fs.fstatSync(fd);
  } catch {
    return false; // closed
  }
  if (!info.isCharacterDevice()) return false;
  if (process.platform !== 'win32' && info.rdev === devNullRdev(fs)) return false;
  return process.getBuiltinModule('node:tty').isatty(fd);
}

/** /dev/null's device number, or undefined where it cannot be read (then node:tty decides). */
function devNullRdev(fs: typeof import('node:fs')): number | undefined {
  try {
    return fs.statSync('/dev/null').rdev;
  } catch {
    return undefined;
  }
}

interface DirectWriter {
  /** From now on, writes go through Node's stream (after the ones made directly, which are done). */
  useStream(): void;
}

/**
 * stdout or stderr of the process for the CLI. A terminal gets Node's stream (colours, the spinner, the
 * prompt). A pipe or a file is written with synchronous writes to its descriptor, and Node's stream is not
 * made unless something else of it is used: making it (a net.Socket and the stream machinery for a pipe)
 * was the largest single part of a short command's start-up after Node's own. A descriptor that would
 * block (another process made it non-blocking) and `useStream()` hand the writes to Node's stream.
 */
function directWriter(fd: 1 | 2, stream: () => CliIo['stdout'], closed: () => never): CliIo['stdout'] & DirectWriter {
  let tty: boolean | undefined;
  const isTTY = (): boolean => (tty ??= isTerminal(fd));
  let direct = true;
  const fs = process.getBuiltinModule('node:fs');
  const own = {
    get isTTY() {
      return isTTY();
    },
    get columns() {
      return isTTY() ? stream().columns : undefined;
    },
    useStream: () => {
      direct = false;
    },
    write(chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), callback?: (err?: Error | null) => void): boolean {
      const done = typeof encoding === 'function' ? encoding : callback;
      if (!direct || isTTY()) return typeof encoding === 'string' ? stream().write(chunk as string, encoding, callback) : stream().write(chunk, done);
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk;
      for (let at = 0; at < bytes.length;) {
        try {
          at += fs.writeSync(fd, bytes, at);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EPIPE') closed();
          if (code !== 'EAGAIN') throw err;
          direct = false;
          return stream().write(bytes.subarray(at), done);
        }
      }
      done?.();
      return true;
    },
  };
  return new Proxy(own, {
    // anything else (events, end, cork ...) is Node's stream's
    get: (target, key) => {
      if (key in target) return Reflect.get(target, key) as unknown;
      const s = stream() as unknown as Record<PropertyKey, unknown>;
      const value = s[key];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(s) : value;
    },
  }) as unknown as CliIo['stdout'] & DirectWriter;
}
