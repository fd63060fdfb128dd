/** What the CLI needs from its process; the bin passes the real one (cli/process.ts), tests their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** stdin, created only when read: creating process.stdin costs start-up time. */
  stdin: () => NodeJS.ReadStream;
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal?: AbortSignal;
  now?: () => number;
  /** Registers a "refresh now" callback (SIGHUP); returns an unregister function. */
  onRefreshRequest?: (callback: () => void) => () => void;
  /**
   * Hands SIGINT, SIGTERM and SIGHUP to a command that forwards them (exec): while taken they neither
   * abort the command nor end the process. Returns the function that gives them back.
   */
  takeSignals?: (handler: (signal: NodeJS.Signals) => void) => () => void;
  /** Tunes the process for a command that runs for months (watch); a test's process is left as it is. */
  settleForLongRun?: () => void;
  /** The package version (the bin reads package.json: the bundle does not know where it is). */
  version: string;
}
