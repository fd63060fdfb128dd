/**
 * What a command is to the CLI: the shape of its spec (each command folder's spec.ts; the command table,
 * cli/commands.ts, lists them) and what the generic action hands its runner.
 */
import { C8yError } from '../core/errors.js';
import { longFlag, option, type OptionKey } from '../core/config/options.js';
import type { GivenFlags, Settings } from '../core/config/settings.js';
import { readValue, type OptionValue } from '../core/config/values.js';
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
  /** The package version (the bin reads package.json: the bundle does not know where it is). */
  version: string;
}

/** What the generic action hands a command's runner. */
export interface Run {
  args: string[];
  flags: GivenFlags;
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

export interface CommandSpec {
  name: string;
  summary: string;
  /** Commander's argument syntax and its description, e.g. ['[token]', 'the token, a file, or - for stdin']. */
  args?: readonly [string, string];
  /** What the shell completion offers for the arguments: files (the default), commands (the command after --), or these words. */
  argValues?: 'files' | 'commands' | readonly string[];
  examples: readonly string[];
  /** The command's options from the table (the global ones are on the program). */
  options: readonly OptionKey[];
  /** What an option means for this command when that differs from the table (enroll WRITES --cert and --key). */
  optionHelp?: Partial<Record<OptionKey, string>>;
  /** Options the settings merge resolves (flags > environment > profile > config > defaults); none: no settings are loaded. */
  settings?: readonly OptionKey[];
  /** What else the help says (signals, exit codes particular to the command). */
  notes?: string;
  /** The command's runner: maps the options once, runs the command, renders its result; resolves to the exit code. */
  load(): Promise<(run: Run) => Promise<number>>;
}

/** An option's value: the settings' (they already weigh flags, environment and config), else the flag's, else the default. */
export function valueOf(run: Pick<Run, 'flags' | 'settings'>, key: OptionKey): OptionValue | undefined {
  const resolved = run.settings?.resolved[key];
  if (resolved) return resolved.value;
  const row = option(key);
  const raw = run.flags[key] ?? row.defaultValue;
  if (raw === undefined) return undefined;
  const read = readValue(row, raw);
  if ('problem' in read) throw new C8yError('USAGE', { option: longFlag(row), value: String(raw), reason: read.problem });
  return read.value;
}

/** A text option's value. */
export function textOf(run: Pick<Run, 'flags' | 'settings'>, key: OptionKey): string | undefined {
  const v = valueOf(run, key);
  return v === undefined ? undefined : String(v);
}

/** A duration option's value in milliseconds. */
export function msOf(run: Pick<Run, 'flags' | 'settings'>, key: OptionKey): number | undefined {
  const v = valueOf(run, key);
  return typeof v === 'number' ? v : undefined;
}
