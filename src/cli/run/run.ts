/**
 * What the generic action hands a command's runner: the arguments, the options read once (from the
 * settings merge, the flags, the table's defaults), the settings, and the command's surroundings.
 */
import { C8yError } from '../../core/errors.js';
import { option, type OptionKey } from '../../core/config/options.js';
import type { GivenFlags, Settings } from '../../core/config/settings.js';
import { readValue, type OptionValue } from '../../core/config/values.js';
import type { CommandIo } from '../../commands/io.js';
import { longFlag } from '../../core/config/options.js';
import type { TerminalOptions } from '../../output/terminal.js';
import type { CliIo } from '../io.js';

export interface Run {
  args: string[];
  flags: GivenFlags;
  settings: Settings | undefined;
  cli: CliIo;
  term: TerminalOptions;
  /** The command's surroundings; progress also goes to `spinner` when one is given. */
  io(spinner?: { update(text: string): void; stop(): void }): CommandIo;
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
