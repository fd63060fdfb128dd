/** What a command is to the CLI: the shape of a row of the command table (cli/commands.ts). */
import type { OptionKey } from '../core/config/options.js';
import type { Run } from './run/run.js';

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
