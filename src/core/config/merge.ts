/**
 * One option's value from the highest source that gives one (design.md: flags > environment > profile
 * section > top level of the config file > defaults), and a command's options object made of them. Kept
 * apart from settings.ts so that a command that reads no config file (inspect) loads only this.
 */
import { dirname, resolve } from 'node:path';
import { C8yError } from '../errors.js';
import type { PasswordSources } from '../credentials/passwords.js';
import { isPkcs11Uri } from '../credentials/pkcs11-uri.js';
import { longFlag, option, type OptionKey, type OptionRow, type OptionsOf } from './options.js';
import type { ConfigLayer } from './schema.js';
import { readValue, type OptionValue } from './values.js';

/** What the user gave as flags: option key → value (only options given on the command line). */
export type GivenFlags = Partial<Record<OptionKey, string | boolean>>;

/** A resolved option: its value and where it came from ("--url", "C8Y_HOST", '"url" in FILE', "default"). */
export interface Resolved {
  value: OptionValue;
  source: string;
  /** 4 flag, 3 environment, 2 profile, 1 top level, 0 default. */
  level: number;
}

/** What a command's options are read from: the settings when they were loaded (settings.ts), else the flags and the environment. */
export interface MergedOptions {
  resolved: Partial<Record<OptionKey, Resolved>>;
  secrets: Partial<Record<OptionKey, PasswordSources>>;
}

/** Whether a value came from the config file (its top level or a profile section). */
export function fromConfigFile(r: Resolved): boolean {
  return r.level === 1 || r.level === 2;
}

const nonEmpty = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v : undefined);

/**
 * A command's options object: every key it declares, with its value from the merge (the settings' when
 * they were loaded, else the flag's, the variable's or the default), typed from the option table.
 */
export function commandOptions<K extends OptionKey>(
  keys: readonly K[],
  settings: MergedOptions | undefined,
  given: { flags: GivenFlags; env: NodeJS.ProcessEnv; cwd: string },
): OptionsOf<K, PasswordSources> {
  const out: Partial<Record<OptionKey, OptionValue | PasswordSources>> = {};
  for (const key of keys) {
    const row = option(key);
    let value: OptionValue | PasswordSources | undefined;
    if (row.password) value = settings?.secrets[key] ?? passwordSources(row, given.flags, given.env, {}, {}, undefined, given.cwd);
    else if (settings) value = settings.resolved[key]?.value;
    else value = resolveOption(row, given.flags[key], given.env, {}, {}, undefined, undefined, given.cwd)?.value;
    out[key] = value ?? (row.kind === 'switch' ? false : undefined);
  }
  // values.ts reads each value as its row's kind says, which is what OptionsOf derives from the same rows.
  return out as OptionsOf<K, PasswordSources>;
}

/** One option's value from the highest source that gives one; bad values are errors naming the source. */
export function resolveOption(
  row: OptionRow,
  flag: string | boolean | undefined,
  env: NodeJS.ProcessEnv,
  section: ConfigLayer,
  top: ConfigLayer,
  profile: string | undefined,
  configPath: string | undefined,
  cwd: string,
): Resolved | undefined {
  // "-" names stdin or stdout (-o -, as in curl), not a file; a pkcs11: URI (--key) names a key in a token.
  const isFile = (v: OptionValue): boolean => row.kind === 'path' && v !== '-' && !isPkcs11Uri(String(v));
  const fromCwd = (v: OptionValue): OptionValue => (isFile(v) ? resolve(cwd, String(v)) : v);
  const fromFile = (v: OptionValue): OptionValue => (isFile(v) && configPath ? resolve(dirname(configPath), String(v)) : v);
  // A bad value is a usage error from a flag, a configuration error from a variable; config values and
  // defaults were checked when the file was read (and the table is tested).
  const read = (raw: unknown, fail: (problem: string) => C8yError): OptionValue => {
    const r = readValue(row, raw);
    if ('problem' in r) throw fail(r.problem);
    return r.value;
  };
  const checked = (problem: string): C8yError => new C8yError('INTERNAL', { detail: `${row.key}: ${problem}` });
  if (flag !== undefined && !(typeof flag === 'string' && flag.trim() === '')) {
    const source = longFlag(row);
    return { value: fromCwd(read(flag, (problem) => new C8yError('USAGE', { option: source, value: String(flag), reason: problem }))), source, level: 4 };
  }
  for (const name of row.env ?? []) {
    const value = nonEmpty(env[name]);
    if (value === undefined) continue;
    return { value: fromCwd(read(value, (problem) => new C8yError('CONFIG_INVALID', { option: name, value, reason: problem, source: 'environment' }))), source: name, level: 3 };
  }
  if (row.config) {
    if (row.config in section) return { value: fromFile(read(section[row.config], checked)), source: `"${row.config}" of profile ${profile} in ${configPath}`, level: 2 };
    if (row.config in top) return { value: fromFile(read(top[row.config], checked)), source: `"${row.config}" in ${configPath}`, level: 1 };
  }
  if (row.defaultValue !== undefined) return { value: read(row.defaultValue, checked), source: 'default', level: 0 };
  return undefined;
}

/** Where a password may come from: the flag's file, the environment, the config file's file or inline value. */
export function passwordSources(row: OptionRow, flags: GivenFlags, env: NodeJS.ProcessEnv, section: ConfigLayer, top: ConfigLayer, configPath: string | undefined, cwd: string): PasswordSources {
  const p = row.password!;
  const envName = row.env![0]!;
  const s: PasswordSources = { role: p.role, envName };
  const flag = flags[row.key as OptionKey];
  if (typeof flag === 'string' && flag.trim() !== '') s.flagFile = resolve(cwd, flag);
  if (env[envName] !== undefined) s.envValue = env[envName];
  const inSection = (k: string | undefined): boolean => k !== undefined && k in section;
  const layer = inSection(p.configFile) || inSection(p.configInline) ? section : top;
  if (p.configFile && layer[p.configFile] !== undefined && configPath) s.configFile = resolve(dirname(configPath), String(layer[p.configFile]));
  if (p.configInline && layer[p.configInline] !== undefined) s.configValue = String(layer[p.configInline]);
  if (configPath) s.configPath = configPath;
  return s;
}
