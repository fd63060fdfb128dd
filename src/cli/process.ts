/**
 * The CLI wired to a process: its streams, its environment, signals and the exit code. The bin calls
 * this; tests call it with a process of their own. SIGINT and SIGTERM abort the running command and end
 * the process with 130 or 143 within a second even if the command does not stop (long work yields to the
 * event loop, so the handler always runs); SIGHUP asks watch to refresh now.
 */
import type { CliIo } from '../commands/command.js';

// node:tty and node:v8 are loaded only when asked (process.getBuiltinModule): most runs need neither, and
// loading them was a part of every start-up.

/** What of a Node process the CLI uses. */
export interface ProcessLike {
  argv: string[];
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  stdout: CliIo['stdout'] & { on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown };
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
  proc.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') proc.exit(Number(proc.exitCode ?? 0));
    throw err;
  });
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
  const code = await main(proc.argv.slice(2), {
    stdout: proc.stdout,
    stderr: proc.stderr,
    stdin: () => proc.stdin,
    // Asked only by what may read stdin or prompt (inspect without a token, a password on a terminal).
    get stdinIsTTY() {
      return process.getBuiltinModule('node:tty').isatty(0);
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
    settleForLongRun: () => {
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
