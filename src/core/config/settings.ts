/**
 * Settings: the config file (found by cosmiconfig or named), the environment and the flags, merged with
 * the precedence of design.md: flags > environment > profile section > top level of the file > defaults.
 * Paths from a config file are resolved against that file's folder; paths from flags and environment
 * against the working directory.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { C8yError } from '../errors.js';
import { parseDuration } from '../time/duration.js';
import { tokenEndpoint } from '../platform/endpoint.js';
import { validateConfig, CHAIN_HEADER_MODES, KEYSTORE_TYPES, MODULE, SEARCH_PLACES, type ChainHeaderMode, type ConfigFile, type ConfigLayer } from './schema.js';
import type { KeystoreFormat } from '../keystore/types.js';

/** Connection options given as flags; absent means "not given" (defaults are applied here, not by commander). */
export interface ConnectionFlags {
  url?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  keyPasswordFile?: string | undefined;
  keystore?: string | undefined;
  keystoreType?: string | undefined;
  keystorePasswordFile?: string | undefined;
  alias?: string | undefined;
  truststore?: string | undefined;
  truststorePasswordFile?: string | undefined;
  deviceCa?: string | undefined;
  chainHeader?: string | undefined;
  timeout?: string | undefined;
  config?: string | undefined;
  profile?: string | undefined;
}

/** Where a password may come from, highest precedence first (flag file, env, config file, config inline). */
export interface PasswordSources {
  /** Human name: "key password", "keystore password", "truststore password". */
  label: string;
  flagFile?: string;
  envName: string;
  envValue?: string;
  configFile?: string;
  configValue?: string;
  /** The config file holding configValue, to warn when others can read it. */
  configPath?: string;
}

export interface Settings {
  /** The token endpoint; undefined when no URL was given anywhere. */
  endpoint?: URL;
  cert?: string;
  key?: string;
  keystore?: { path: string; type?: KeystoreFormat; alias?: string };
  truststore?: string;
  deviceCa?: string;
  chainHeader: ChainHeaderMode;
  timeoutMs: number;
  passwords: { key: PasswordSources; keystore: PasswordSources; truststore: PasswordSources };
  /** The config file used, if any. */
  configPath?: string;
  profile?: string;
  warnings: string[];
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface LoadSettingsInput {
  flags: ConnectionFlags;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Override of cosmiconfig's search start and stop (tests); defaults to cwd and the home folder. */
  searchFrom?: string;
}

const nonEmpty = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v : undefined);

/** Loads and merges every settings source; throws CONFIG_* errors listing every problem at once. */
export async function loadSettings(input: LoadSettingsInput): Promise<Settings> {
  const { flags, env, cwd } = input;
  const warnings: string[] = [];
  const configName = nonEmpty(flags.config) ?? nonEmpty(env.C8YTOKEN_CONFIG);
  const from = input.searchFrom ?? cwd;
  // The config loader (cosmiconfig) loads only when a config file may exist.
  const found = configName || configMayExist(from, env) ? await (await import('./file.js')).findConfig(configName ? resolve(cwd, configName) : undefined, from) : undefined;
  const configPath = found?.path;
  let file: ConfigFile = {};
  if (found) {
    const { config, errors, warnings: unknown } = validateConfig(found.raw, (v) => parseDuration(v) !== undefined);
    if (errors.length) {
      throw new C8yError('CONFIG_INVALID', `The config file ${found.path} has ${errors.length} problem(s):\n${errors.map((e) => `  - ${e.path}: ${e.message}`).join('\n')}`, {
        hint: 'Fix the keys listed; .c8ytokenrc.example shows every key with an example.',
        details: { configPath: found.path, problems: errors },
      });
    }
    for (const w of unknown) warnings.push(`${found.path}: "${w.path}" ${w.message}`);
    file = config;
  }

  const profile = nonEmpty(flags.profile) ?? nonEmpty(env.C8YTOKEN_PROFILE);
  let layer: ConfigLayer = withoutProfiles(file);
  if (profile !== undefined) {
    const section = file.profiles?.[profile];
    if (!section) {
      const names = Object.keys(file.profiles ?? {});
      throw new C8yError('CONFIG_INVALID', `There is no profile "${profile}"${configPath ? ` in ${configPath}` : ' (no config file was found)'}.`, {
        hint: names.length ? `Profiles there: ${names.join(', ')}.` : 'Add it under "profiles" in the config file, or drop --profile / C8YTOKEN_PROFILE.',
      });
    }
    layer = mergeLayers(layer, section);
  }
  const fromFile = (p: string | undefined): string | undefined => (p === undefined || !configPath ? p : resolve(dirname(configPath), p));
  const fromCwd = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(cwd, p));
  const pick = (flag: string | undefined, envValue: string | undefined, fileValue: string | undefined): string | undefined =>
    fromCwd(nonEmpty(flag)) ?? fromCwd(nonEmpty(envValue)) ?? fromFile(fileValue);

  // Our own variable is the most specific; then the names go-c8y-cli and go-c8y read, in their order.
  const urlEnv = (['C8YTOKEN_URL', 'C8Y_HOST', 'C8Y_BASEURL', 'C8Y_URL'] as const).find((n) => nonEmpty(env[n]));
  const [urlText, urlSource] = nonEmpty(flags.url)
    ? [flags.url!, '--url']
    : urlEnv
      ? [env[urlEnv]!, urlEnv]
      : layer.url
        ? [layer.url, `"url" in ${configPath}`]
        : [undefined, ''];

  const chainHeader = pickEnum(flags.chainHeader, '--chain-header', env.C8YTOKEN_CHAIN_HEADER, 'C8YTOKEN_CHAIN_HEADER', CHAIN_HEADER_MODES) ?? layer.chainHeader ?? 'auto';
  const keystoreType = pickEnum(flags.keystoreType?.toLowerCase(), '--keystore-type', env.C8YTOKEN_KEYSTORE_TYPE?.toLowerCase(), 'C8YTOKEN_KEYSTORE_TYPE', KEYSTORE_TYPES) ?? layer.keystore?.type?.toLowerCase();
  const timeoutMs = pickTimeout(flags.timeout, env.C8YTOKEN_TIMEOUT, layer.timeout);

  const keystorePath = pick(flags.keystore, env.C8YTOKEN_KEYSTORE, layer.keystore?.path);
  const alias = nonEmpty(flags.alias) ?? nonEmpty(env.C8YTOKEN_KEYSTORE_ALIAS) ?? layer.keystore?.alias;
  const settings: Settings = {
    chainHeader,
    timeoutMs,
    passwords: {
      key: passwordSources('key password', flags.keyPasswordFile, 'C8YTOKEN_KEY_PASSWORD', env, layer.keyPasswordFile, layer.keyPassword),
      keystore: passwordSources('keystore password', flags.keystorePasswordFile, 'C8YTOKEN_KEYSTORE_PASSWORD', env, layer.keystore?.passwordFile, layer.keystore?.password),
      truststore: passwordSources('truststore password', flags.truststorePasswordFile, 'C8YTOKEN_TRUSTSTORE_PASSWORD', env, layer.truststore?.passwordFile, layer.truststore?.password),
    },
    warnings,
  };
  function passwordSources(label: string, flagFile: string | undefined, envName: string, e: NodeJS.ProcessEnv, configFile: string | undefined, configValue: string | undefined): PasswordSources {
    const s: PasswordSources = { label, envName };
    if (nonEmpty(flagFile)) s.flagFile = fromCwd(flagFile)!;
    if (e[envName] !== undefined) s.envValue = e[envName];
    if (configFile) s.configFile = fromFile(configFile)!;
    if (configValue !== undefined) s.configValue = configValue;
    if (configPath) s.configPath = configPath;
    return s;
  }
  if (urlText !== undefined) settings.endpoint = tokenEndpoint(urlText, urlSource);
  const cert = pick(flags.cert, env.C8Y_CERTIFICATE_FILE, layer.cert);
  if (cert) settings.cert = cert;
  const key = pick(flags.key, env.C8Y_CERTIFICATE_KEY_FILE, layer.key);
  if (key) settings.key = key;
  if (keystorePath) {
    settings.keystore = { path: keystorePath };
    if (keystoreType) settings.keystore.type = keystoreType as KeystoreFormat;
    if (alias) settings.keystore.alias = alias;
  }
  const truststore = pick(flags.truststore, env.C8YTOKEN_TRUSTSTORE, layer.truststore?.path);
  if (truststore) settings.truststore = truststore;
  const deviceCa = pick(flags.deviceCa, env.C8YTOKEN_DEVICE_CA, layer.deviceCa);
  if (deviceCa) settings.deviceCa = deviceCa;
  if (configPath) settings.configPath = configPath;
  if (profile) settings.profile = profile;
  return settings;
}

function withoutProfiles(file: ConfigFile): ConfigLayer {
  const { profiles: _profiles, ...layer } = file;
  return layer;
}

/** A profile section over the top level; nested keystore/truststore objects merge key by key. */
function mergeLayers(base: ConfigLayer, top: ConfigLayer): ConfigLayer {
  const merged: ConfigLayer = { ...base, ...top };
  if (base.keystore || top.keystore) merged.keystore = { ...base.keystore, ...top.keystore };
  if (base.truststore || top.truststore) merged.truststore = { ...base.truststore, ...top.truststore };
  return merged;
}

function pickEnum<T extends string>(flag: string | undefined, flagName: string, envValue: string | undefined, envName: string, allowed: readonly T[]): T | undefined {
  if (nonEmpty(flag) !== undefined) {
    if (!(allowed as readonly string[]).includes(flag!)) {
      throw new C8yError('USAGE', `${flagName} must be one of ${allowed.join(', ')}, not "${flag}".`);
    }
    return flag as T;
  }
  if (nonEmpty(envValue) !== undefined) {
    if (!(allowed as readonly string[]).includes(envValue!)) {
      throw new C8yError('CONFIG_INVALID', `${envName} must be one of ${allowed.join(', ')}, not "${envValue}".`, {
        hint: `Fix or unset ${envName}.`,
      });
    }
    return envValue as T;
  }
  return undefined;
}

function pickTimeout(flag: string | undefined, envValue: string | undefined, fileValue: string | number | undefined): number {
  if (nonEmpty(flag) !== undefined) {
    const ms = parseDuration(flag!);
    if (ms === undefined || ms <= 0) throw new C8yError('USAGE', `--timeout must be a duration like 30s or 2m, not "${flag}".`);
    return ms;
  }
  if (nonEmpty(envValue) !== undefined) {
    const ms = parseDuration(envValue!);
    if (ms === undefined || ms <= 0) {
      throw new C8yError('CONFIG_INVALID', `C8YTOKEN_TIMEOUT must be a duration like 30s or 2m, not "${envValue}".`, { hint: 'Fix or unset C8YTOKEN_TIMEOUT.' });
    }
    return ms;
  }
  return fileValue === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(fileValue)!;
}



/**
 * A cheap look for any file cosmiconfig's search could find (the same places, upwards to the home
 * folder or the root, then the user's config folder): when there is none, cosmiconfig is not loaded,
 * which saves most of the cost of settings on a machine without a config file.
 */
function configMayExist(from: string, env: NodeJS.ProcessEnv): boolean {
  const home = homedir();
  for (let dir = resolve(from); ; ) {
    for (const name of SEARCH_PLACES) {
      const path = join(dir, name);
      if (!existsSync(path)) continue;
      if (name !== 'package.json') return true;
      try {
        if (Object.hasOwn(JSON.parse(readFileSync(path, 'utf8')) as object, MODULE)) return true;
      } catch {
        return true; // let cosmiconfig say what is wrong with it
      }
    }
    const parent = dirname(dir);
    if (dir === home || parent === dir) break;
    dir = parent;
  }
  return existsSync(globalConfigDir(env, home));
}

/** The user's config folder for c8ytoken, as cosmiconfig (env-paths) names it on each platform. */
function globalConfigDir(env: NodeJS.ProcessEnv, home: string): string {
  if (process.platform === 'darwin') return join(home, 'Library', 'Preferences', MODULE);
  if (process.platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), MODULE, 'Config');
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), MODULE);
}

/** True when others than the owner may read the file (POSIX only; Windows has no mode bits to check). */
export function readableByOthers(path: string): boolean {
  if (process.platform === 'win32') return false;
  try {
    return (statSync(path).mode & 0o044) !== 0;
  } catch {
    return false;
  }
}
