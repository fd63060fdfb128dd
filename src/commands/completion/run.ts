/**
 * Runs `completion`: prints the completion script for a shell, made from the command and option tables;
 * with --profiles (what the scripts call when --profile is completed), the profile names of the config
 * file, one a line, and nothing at all, with exit code 0, when there are none or the file cannot be read.
 */
import { resolve } from 'node:path';
import { ExitCode, usageError } from '../../core/errors.js';
import { option } from '../../core/config/options.js';
import { readValue } from '../../core/config/values.js';
import { SHELLS, completionModel, completionScript, type Shell } from './script.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

/** The runner; the command table it describes comes with the run, so this module does not import the table back. */
export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  if (r.options.profiles) {
    const names = await profileNames(r).catch(() => []);
    if (names.length) r.cli.stdout.write(`${names.join('\n')}\n`);
    return ExitCode.ok;
  }
  const given = r.args[0];
  if (given === undefined)
    throw usageError(`completion needs a shell: ${SHELLS.join(', ')}.`, { suggestion: 'For example: c8ytoken completion bash > ~/.local/share/bash-completion/completions/c8ytoken' });
  const read = readValue({ ...option('shell'), choices: SHELLS }, given);
  if ('problem' in read) throw usageError(`The shell ${read.problem}.`);
  r.cli.stdout.write(completionScript(read.value as Shell, completionModel(r.table.commands, r.cli.version, r.table.groups)));
  return ExitCode.ok;
}

/** The profile names of the config file --config / C8YTOKEN_CONFIG names, else of the one the search finds. */
async function profileNames(r: Pick<Run, 'flags' | 'cli'>): Promise<string[]> {
  const { parseConfigFile, searchConfig } = await import('../../core/config/file.js');
  const named = typeof r.flags.config === 'string' && r.flags.config.trim() ? r.flags.config : r.cli.env.C8YTOKEN_CONFIG?.trim() ? r.cli.env.C8YTOKEN_CONFIG : undefined;
  const path = named ? resolve(r.cli.cwd, named) : searchConfig({ from: r.cli.cwd, env: r.cli.env, warn: () => undefined });
  if (!path) return [];
  const raw = await parseConfigFile(path, named !== undefined);
  const profiles = typeof raw === 'object' && raw !== null ? (raw as { profiles?: unknown }).profiles : undefined;
  if (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles)) return [];
  // One a line: a name with a line break in it cannot be completed.
  return Object.keys(profiles).filter((name) => name.trim() !== '' && !/[\r\n]/.test(name));
}
