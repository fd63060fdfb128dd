/**
 * What a command is to the CLI: the shape of its spec (each command folder's spec.ts; the command table,
 * cli/commands.ts, lists them) and what the generic action hands its runner.
 */
import { option, type OptionKey, type OptionsOf } from '../core/config/options.js';
import type { GivenFlags, Settings } from '../core/config/settings.js';
import type { PasswordSources } from '../core/credentials/passwords.js';
import type { TokenSourceIo } from '../core/token/source.js';
import type { TerminalOptions } from '../output/terminal.js';

/** What a command needs from its surroundings; the CLI passes the process's, tests their own. */
export interface CommandIo extends TokenSourceIo {
  cwd: string;
}

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
  /** Writes stdout and stderr through Node's streams from now on, never blocking (a long-running command's log). */
  streamOutput?: () => void;
  /** The package version (the bin reads package.json: the bundle does not know where it is). */
  version: string;
}

/** A command's options object: one typed property per key its spec declares (core/config/options.ts OptionsOf). */
export type CommandOptions<K extends OptionKey> = OptionsOf<K, PasswordSources>;

/** What the generic action hands a command's runner. */
export interface Run<K extends OptionKey = OptionKey> {
  args: string[];
  /** The command's options, resolved once by the merge (flags > environment > profile > config > defaults). */
  options: CommandOptions<K>;
  /** The flags as given on the command line (doctor makes its own merge; completion reads the global --config). */
  flags: GivenFlags;
  /** The connection settings the core takes (the same merge), when the command reads any option a config file can give. */
  settings: Settings | undefined;
  cli: CliIo;
  term: TerminalOptions;
  /** The command table the runner was loaded from (completion describes it). */
  table: CommandTable;
  /** The command's surroundings; progress also goes to `spinner` when one is given. */
  io(spinner?: { update(text: string): void; stop(): void }): CommandIo;
}

/** The commands and the descriptions of the groups ("cert" for "cert renew" ...). */
export interface CommandTable {
  commands: readonly CommandSpec[];
  groups: Readonly<Record<string, string>>;
}

export interface CommandSpec<K extends OptionKey = OptionKey> {
  name: string;
  summary: string;
  /** Commander's argument syntax and its description, e.g. ['[token]', 'the token, a file, or - for stdin']. */
  args?: readonly [string, string];
  /** What the shell completion offers for the arguments: files (the default), commands (the command after --), or these words. */
  argValues?: 'files' | 'commands' | readonly string[];
  examples: readonly string[];
  /** The command's options from the table (the global ones are on the program): the one list, resolved for its runner. */
  options: readonly K[];
  /** What an option means for this command when that differs from the table (enroll WRITES --cert and --key). */
  optionHelp?: Partial<Record<K, string>>;
  /** The command makes its own settings merge (doctor: a bad config file is one of its checks, not a failure). */
  ownSettings?: boolean;
  /**
   * The command reads no config file, though a config file could give some of its options: status asks a
   * running process about itself, and a config file's `meta` would turn a check of the proxy into a read
   * of a watch's sidecar. Its options come from the flags, the environment and the defaults.
   */
  noConfig?: boolean;
  /** What else the help says (signals, exit codes particular to the command). */
  notes?: string;
  /** The command's runner: maps the options once, runs the command, renders its result; resolves to the exit code. */
  load(): Promise<(run: Run<K>) => Promise<number>>;
}

/** A command's spec, its option keys kept as a union type so that its runner's options are typed from them. */
export function defineCommand<K extends OptionKey>(spec: CommandSpec<K>): CommandSpec<K> {
  return spec;
}

/**
 * Whether the generic action loads the settings for a command: when one of its options can come from a
 * config file (then the file is searched and read; inspect and completion never pay for that).
 */
export function readsSettings(spec: Pick<CommandSpec, 'options' | 'ownSettings' | 'noConfig'>): boolean {
  return spec.ownSettings !== true && spec.noConfig !== true && spec.options.some((key) => option(key).config !== undefined);
}
