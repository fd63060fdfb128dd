/**
 * The config file's shape, derived from the option table: which keys exist (flat, `keystore.path`, or
 * nested, `keystore: {path}`; a string is short for `{path: ...}`), what each holds, and profiles.
 * Every problem is collected with its key path, so a user fixes the whole file in one go; unknown keys
 * are warnings, not errors (a newer file on an older tool). docs/c8ytokenrc.schema.json, for editors, is made
 * from the same table (npm run docs).
 */
import type { ConfigProblem } from '../errors.js';
import { configKeys, type OptionRow } from './options.js';
import { describe, readValue, type OptionValue } from './values.js';

/** One layer of settings (the top level, or a profile), flat: config key → value as written. */
export type ConfigLayer = Record<string, OptionValue>;

export interface ConfigFile {
  top: ConfigLayer;
  profiles: Record<string, ConfigLayer>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each config key's row and how it reads (a password key holds a file or the password itself). */
function keyTable(): Map<string, OptionRow> {
  const table = new Map<string, OptionRow>();
  // An inline password reads as kind 'password': its problems never show the value.
  for (const { key, row, as } of configKeys()) table.set(key, as === 'value' ? row : { ...row, kind: as === 'passwordFile' ? 'path' : 'password' });
  return table;
}

/** Checks a parsed config file; returns the flat layers, the errors and the warnings (unknown keys). */
export function validateConfig(raw: unknown): { config: ConfigFile; errors: ConfigProblem[]; warnings: ConfigProblem[] } {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  // No prototype: a profile named "__proto__" or "constructor" is a name like any other, never Object's.
  const config: ConfigFile = { top: {}, profiles: Object.create(null) as Record<string, ConfigLayer> };
  if (raw === null || raw === undefined) return { config, errors, warnings };
  if (!isObject(raw)) {
    errors.push({ path: '(top level)', message: 'must be an object of settings' });
    return { config, errors, warnings };
  }
  const table = keyTable();
  const groups = new Set([...table.keys()].filter((k) => k.includes('.')).map((k) => k.split('.')[0]!));
  const readLayer = (layer: Record<string, unknown>, prefix: string, out: ConfigLayer): void => {
    for (const [name, value] of Object.entries(layer)) {
      const path = prefix + name;
      if (groups.has(name)) {
        // `keystore: device.p12` is short for `keystore: { path: device.p12 }`.
        const nested = typeof value === 'string' && table.has(`${name}.path`) ? { path: value } : value;
        if (!isObject(nested)) {
          errors.push({ path, message: `must be ${table.has(`${name}.path`) ? 'a file path or ' : ''}an object of settings, not ${describe(value)}` });
          continue;
        }
        for (const [sub, subValue] of Object.entries(nested)) readOne(`${name}.${sub}`, subValue, `${path}.${sub}`, out);
      } else {
        readOne(name, value, path, out);
      }
    }
  };
  const readOne = (key: string, value: unknown, path: string, out: ConfigLayer): void => {
    const row = table.get(key);
    if (!row) {
      warnings.push({ path, message: 'is not a known setting and is ignored' });
      return;
    }
    const read = readValue(row, value);
    if ('problem' in read) errors.push({ path, message: read.problem });
    // Keep what was written (paths resolve later against the file; durations parse again then).
    else out[key] = value as OptionValue;
  };
  for (const [name, value] of Object.entries(raw)) {
    if (name !== 'profiles') continue;
    if (!isObject(value)) {
      errors.push({ path: 'profiles', message: 'must be an object of named profiles' });
      continue;
    }
    for (const [profile, layer] of Object.entries(value)) {
      if (!isObject(layer)) errors.push({ path: `profiles.${profile}`, message: 'must be an object of settings' });
      else readLayer(layer, `profiles.${profile}.`, (config.profiles[profile] = {}));
    }
  }
  // `$schema` tells an editor where the file's JSON schema is (docs/c8ytokenrc.schema.json): not a setting.
  const { profiles: _profiles, $schema: _schema, ...top } = raw;
  readLayer(top, '', config.top);
  return { config, errors, warnings };
}
