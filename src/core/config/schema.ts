/**
 * The config file's shape and its validation. Every problem is collected with its key path, so a user
 * fixes the whole file in one go; unknown keys are warnings, not errors (a newer file on an older tool).
 */

/** cosmiconfig's module name, and the places it searches in each folder. */
export const MODULE = 'c8ytoken';
export const SEARCH_PLACES = ['package.json', `.${MODULE}rc`, `.${MODULE}rc.json`, `.${MODULE}rc.yaml`, `.${MODULE}rc.yml`];

export type ChainHeaderMode = 'auto' | 'none' | 'full';
export const CHAIN_HEADER_MODES: readonly ChainHeaderMode[] = ['auto', 'none', 'full'];
export const KEYSTORE_TYPES = ['pkcs12', 'jks'] as const;

/** One layer of connection settings, as a config file (top level or a profile) holds it. */
export interface ConfigLayer {
  url?: string;
  cert?: string;
  key?: string;
  keyPassword?: string;
  keyPasswordFile?: string;
  keystore?: { path?: string; type?: 'pkcs12' | 'jks'; password?: string; passwordFile?: string; alias?: string };
  truststore?: { path?: string; password?: string; passwordFile?: string };
  deviceCa?: string;
  chainHeader?: ChainHeaderMode;
  timeout?: string | number;
}

export interface ConfigFile extends ConfigLayer {
  profiles?: Record<string, ConfigLayer>;
}

export interface Problem {
  path: string;
  message: string;
}

type Kind = 'string' | 'duration' | 'chainHeader' | 'keystoreType';
const LAYER_KEYS: Record<string, Kind | Record<string, Kind>> = {
  url: 'string',
  cert: 'string',
  key: 'string',
  keyPassword: 'string',
  keyPasswordFile: 'string',
  keystore: { path: 'string', type: 'keystoreType', password: 'string', passwordFile: 'string', alias: 'string' },
  truststore: { path: 'string', password: 'string', passwordFile: 'string' },
  deviceCa: 'string',
  chainHeader: 'chainHeader',
  timeout: 'duration',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a parsed config file; returns the typed config, the errors and the warnings. */
export function validateConfig(raw: unknown, isDuration: (v: string | number) => boolean): { config: ConfigFile; errors: Problem[]; warnings: Problem[] } {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  if (raw === null || raw === undefined) return { config: {}, errors, warnings };
  if (!isObject(raw)) {
    errors.push({ path: '(top level)', message: 'must be an object of settings' });
    return { config: {}, errors, warnings };
  }
  const config = checkLayer(raw, '', errors, warnings, isDuration, true) as ConfigFile;
  return { config, errors, warnings };
}

function checkLayer(
  raw: Record<string, unknown>,
  prefix: string,
  errors: Problem[],
  warnings: Problem[],
  isDuration: (v: string | number) => boolean,
  allowProfiles: boolean,
): ConfigLayer | ConfigFile {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const path = prefix + key;
    if (allowProfiles && key === 'profiles') {
      if (!isObject(value)) {
        errors.push({ path, message: 'must be an object of named profiles' });
        continue;
      }
      const profiles: Record<string, ConfigLayer> = {};
      for (const [name, layer] of Object.entries(value)) {
        if (!isObject(layer)) errors.push({ path: `${path}.${name}`, message: 'must be an object of settings' });
        else profiles[name] = checkLayer(layer, `${path}.${name}.`, errors, warnings, isDuration, false);
      }
      out[key] = profiles;
      continue;
    }
    const kind = LAYER_KEYS[key];
    if (kind === undefined) {
      warnings.push({ path, message: 'is not a known setting and is ignored' });
      continue;
    }
    if (typeof kind === 'object') {
      // `keystore: device.p12` is short for `keystore: { path: device.p12 }`.
      if (typeof value === 'string') {
        out[key] = { path: value };
        continue;
      }
      if (!isObject(value)) {
        errors.push({ path, message: 'must be a file path or an object with "path"' });
        continue;
      }
      const nested: Record<string, unknown> = {};
      for (const [sub, subValue] of Object.entries(value)) {
        const subKind = kind[sub];
        if (subKind === undefined) warnings.push({ path: `${path}.${sub}`, message: 'is not a known setting and is ignored' });
        else if (checkValue(subValue, subKind, `${path}.${sub}`, errors, isDuration)) nested[sub] = subValue;
      }
      out[key] = nested;
      continue;
    }
    if (checkValue(value, kind, path, errors, isDuration)) out[key] = value;
  }
  return out as ConfigLayer;
}

function checkValue(value: unknown, kind: Kind, path: string, errors: Problem[], isDuration: (v: string | number) => boolean): boolean {
  switch (kind) {
    case 'string':
      if (typeof value === 'string' && value.trim() !== '') return true;
      errors.push({ path, message: `must be a non-empty string, not ${describe(value)}` });
      return false;
    case 'duration':
      if ((typeof value === 'string' || typeof value === 'number') && isDuration(value)) return true;
      errors.push({ path, message: `must be a duration like "30s" or "2m", not ${describe(value)}` });
      return false;
    case 'chainHeader':
      if (typeof value === 'string' && (CHAIN_HEADER_MODES as readonly string[]).includes(value)) return true;
      errors.push({ path, message: `must be one of ${CHAIN_HEADER_MODES.join(', ')}, not ${describe(value)}` });
      return false;
    case 'keystoreType':
      if (typeof value === 'string' && (KEYSTORE_TYPES as readonly string[]).includes(value.toLowerCase())) return true;
      errors.push({ path, message: `must be one of ${KEYSTORE_TYPES.join(', ')}, not ${describe(value)}` });
      return false;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
