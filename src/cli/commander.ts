/** Commander options from the option table: flags, help with the default and the environment variables. */
import { Option, type Command } from 'commander';
import { option, type OptionKey, type OptionRow } from '../core/config/options.js';

/** The help text of a row, with what it may be, its default and its variables (generated: it cannot drift). */
export function helpText(row: OptionRow, help = row.help): string {
  const parts = [help];
  if (row.choices && !row.help.includes(row.choices.join(', '))) parts.push(`(${row.choices.join(' | ')})`);
  if (row.defaultValue !== undefined) parts.push(`(default ${row.defaultValue})`);
  if (row.env?.length) parts.push(`(env ${row.env.join(', ')})`);
  if (row.config) parts.push(`(config "${row.config}")`);
  if (row.password?.configFile) parts.push(`(config "${row.password.configFile}" or "${row.password.configInline}")`);
  return parts.join(' ');
}

/** Adds the table's options to a commander command. Commander applies no defaults and no choices:
 * precedence and checks are the settings merge's (flags > environment > config > defaults). Options not
 * `listed` are accepted but left out of the help (the command ignores them: options.ts NO_EFFECT); `overrides`
 * words an option for this command where it means more than the table says. */
export function addOptions(cmd: Command, keys: readonly OptionKey[], listed: readonly OptionKey[] = keys, overrides: Partial<Record<OptionKey, string>> = {}): void {
  for (const key of keys) cmd.addOption(new Option(option(key).flags, helpText(option(key), overrides[key])).hideHelp(option(key).hidden === true || !listed.includes(key)));
}
