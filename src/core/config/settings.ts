/**
 * Settings: the config file, the environment and the flags, merged row by row of the option table with
 * the precedence of design.md: flags > environment > profile section > top level of the file > defaults.
 * Paths from a config file are resolved against that file's folder; paths from flags and environment
 * against the working directory. Every value remembers where it came from (for --verbose).
 */
import { resolve } from 'node:path';
import { C8yError, type PasswordRole, type WarningSink } from '../errors.js';
import type { NamedFile } from '../files/overlap.js';
import type { KeystoreFormat } from '../keystore/types.js';
import type { KeystoreSettings } from '../credentials/identity.js';
import type { PasswordSources } from '../credentials/passwords.js';
import { isPkcs11Uri, parsePkcs11Uri } from '../credentials/pkcs11-uri.js';
import type { Pkcs11Settings } from '../credentials/pkcs11.js';
import { tenantUrl, tokenEndpoint } from '../platform/endpoint.js';
import type { ChainHeaderMode } from '../platform/chain-header.js';
import { CONNECTION_OPTIONS, option, type OptionKey } from './options.js';
import { passwordSources, resolveOption, type GivenFlags, type Resolved } from './merge.js';
import { findConfig } from './file.js';
import { validateConfig, type ConfigLayer } from './schema.js';

export type { GivenFlags, Resolved } from './merge.js';

export interface Settings {
  /** The tenant URL as given (a port only when the user named one), and the token endpoint on 8443; undefined when no URL was given anywhere. */
  tenant?: URL;
  endpoint?: URL;
  cert?: string;
  /** The key file, or for a key in a token its pkcs11: URI without any PIN (then `pkcs11` is set too). */
  key?: string;
  /** A key in a PKCS#11 token (--key pkcs11:...): its URI, module and engine. */
  pkcs11?: Pkcs11Settings;
  keystore?: KeystoreSettings;
  truststore?: string;
  deviceCa?: string;
  /** The --proxy-ca file (the proxy setting itself is decided with the environment: token/proxy.ts). */
  proxyCa?: string;
  /** --est-url: an EST server of its own (client.ts estBaseUrl); absent: the tenant URL's port 443. */
  estUrl?: URL;
  chainHeader: ChainHeaderMode;
  timeoutMs: number;
  passwords: Record<PasswordRole, PasswordSources>;
  /** The config file used, if any, and the profile. */
  configPath?: string;
  profile?: string;
  /** Every resolved option, for the options a command reads beyond these and for --verbose. */
  resolved: Partial<Record<OptionKey, Resolved>>;
  /** Where each password option among the keys resolved may come from (the four of `passwords`, and a command's own). */
  secrets: Partial<Record<OptionKey, PasswordSources>>;
}

export interface LoadSettingsInput {
  flags: GivenFlags;
  env: NodeJS.ProcessEnv;
  cwd: string;
  warn: WarningSink;
  /** The options to resolve (default: the connection options); the command's own may be added. */
  keys?: readonly OptionKey[];
  /** Where the config search starts (tests); default cwd. */
  searchFrom?: string;
}

const nonEmpty = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v : undefined);

/** Loads and merges every settings source; throws CONFIG_* errors listing every problem at once. */
export async function loadSettings(input: LoadSettingsInput): Promise<Settings> {
  const { flags, env, cwd } = input;
  const named = nonEmpty(flags.config as string | undefined) ?? nonEmpty(env.C8YTOKEN_CONFIG);
  const found = await findConfig({ named: named ? resolve(cwd, named) : undefined, from: input.searchFrom ?? cwd, env, warn: input.warn });
  const configPath = found?.path;
  let top: ConfigLayer = {};
  let profiles: Record<string, ConfigLayer> = {};
  if (found) {
    const { config, errors, warnings } = validateConfig(found.raw);
    if (errors.length) throw new C8yError('CONFIG_INVALID', { path: found.path, role: 'config', problems: errors });
    for (const w of warnings) input.warn(`${found.path}: "${w.path}" ${w.message}`);
    top = config.top;
    profiles = config.profiles;
  }
  const profile = nonEmpty(flags.profile as string | undefined) ?? nonEmpty(env.C8YTOKEN_PROFILE);
  let section: ConfigLayer = {};
  if (profile !== undefined) {
    if (!Object.hasOwn(profiles, profile)) {
      throw new C8yError('CONFIG_INVALID', { role: 'config', profile, profiles: Object.keys(profiles), ...(configPath ? { path: configPath } : { reason: 'no config file' }) });
    }
    section = profiles[profile]!;
  }

  const resolved: Partial<Record<OptionKey, Resolved>> = {};
  const secrets: Partial<Record<OptionKey, PasswordSources>> = {};
  const keys = input.keys ?? CONNECTION_OPTIONS;
  for (const key of keys) {
    const row = option(key);
    // Passwords are read only when needed: here only where they may come from.
    if (row.password) secrets[key] = passwordSources(row, flags, env, section, top, configPath, cwd);
    else {
      const r = resolveOption(row, flags[key], env, section, top, profile, configPath, cwd);
      if (r) resolved[key] = r;
    }
  }
  chooseIdentity(resolved);

  const text = (key: OptionKey): string | undefined => resolved[key]?.value as string | undefined;
  const settings: Settings = {
    chainHeader: (text('chainHeader') ?? 'auto') as ChainHeaderMode,
    timeoutMs: (resolved.timeout?.value as number | undefined) ?? 30_000,
    passwords: {
      key: passwordSources(option('keyPasswordFile'), flags, env, section, top, configPath, cwd),
      keystore: passwordSources(option('keystorePasswordFile'), flags, env, section, top, configPath, cwd),
      truststore: passwordSources(option('truststorePasswordFile'), flags, env, section, top, configPath, cwd),
      proxy: passwordSources(option('proxyPasswordFile'), flags, env, section, top, configPath, cwd),
    },
    resolved,
    secrets,
  };
  // A password file that is a pipe (<(pass show NAME)) waits for its writer as long as a request may take.
  for (const sources of [...Object.values(settings.passwords), ...Object.values(secrets)]) sources.pipeWaitMs = settings.timeoutMs;
  if (resolved.url) {
    settings.tenant = tenantUrl(String(resolved.url.value), resolved.url.source);
    settings.endpoint = tokenEndpoint(settings.tenant);
  }
  if (text('cert')) settings.cert = text('cert')!;
  if (text('key')) settings.key = text('key')!;
  if (settings.key !== undefined && isPkcs11Uri(settings.key)) {
    settings.pkcs11 = tokenKeySettings(resolved, settings.key);
    // Shown wherever the key is named (doctor, --verbose, messages): never a pin-value.
    settings.key = settings.pkcs11.uri.shown;
    resolved.key = { ...resolved.key!, value: settings.key };
  }
  if (text('keystore')) {
    settings.keystore = { path: text('keystore')! };
    if (text('keystoreType')) settings.keystore.type = text('keystoreType') as KeystoreFormat;
    if (text('alias')) settings.keystore.alias = text('alias')!;
  }
  if (text('truststore')) settings.truststore = text('truststore')!;
  if (text('deviceCa')) settings.deviceCa = text('deviceCa')!;
  if (text('proxyCa')) settings.proxyCa = text('proxyCa')!;
  if (resolved.estUrl) settings.estUrl = tenantUrl(String(resolved.estUrl.value), resolved.estUrl.source);
  if (configPath) settings.configPath = configPath;
  if (profile) settings.profile = profile;
  return settings;
}

/**
 * A key in a token: its URI checked, the module from --pkcs11-module / PKCS11_MODULE_PATH / config, else
 * the URI's module-path. A pin-value in a URI on the command line is refused as any password on argv is
 * (every user sees it in ps); from the environment or a config file it is a key password source.
 */
function tokenKeySettings(resolved: Partial<Record<OptionKey, Resolved>>, value: string): Pkcs11Settings {
  const r = resolved.key!;
  const parsed = parsePkcs11Uri(value);
  const fail = (reason: string): C8yError => (r.level === 4 ? new C8yError('USAGE', { option: '--key', reason }) : new C8yError('CONFIG_INVALID', { option: r.source, reason, source: r.source }));
  if ('problem' in parsed) throw fail(parsed.problem);
  if (parsed.pinValue !== undefined && r.level === 4)
    throw fail(
      'carries the PIN (pin-value), and a PIN on the command line can be read by every user (ps): give it with --key-password-file FILE, C8YTOKEN_KEY_PASSWORD, or pin-source=file:FILE in the URI',
    );
  const module = (resolved.pkcs11Module?.value as string | undefined) ?? parsed.modulePath;
  const engine = resolved.pkcs11Engine?.value as string | undefined;
  return { uri: parsed, ...(module !== undefined ? { module } : {}), ...(engine !== undefined ? { engine } : {}) };
}

/**
 * The device identity is taken as a whole from the highest source that names one: a --cert/--key pair
 * replaces a keystore from the environment or the config file, and --keystore replaces configured PEM
 * files (design.md's precedence, applied to the identity rather than to each option). Both kinds from the
 * same source are a conflict.
 */
function chooseIdentity(resolved: Partial<Record<OptionKey, Resolved>>): void {
  const groupLevel = (group: 'pem' | 'keystore'): number =>
    Math.max(
      -1,
      ...Object.entries(resolved)
        .filter(([k, r]) => option(k as OptionKey).identity === group && r.level > 0)
        .map(([, r]) => r.level),
    );
  const pem = groupLevel('pem');
  const keystore = groupLevel('keystore');
  if (pem < 0 || keystore < 0) return;
  if (pem === keystore) {
    const sources = Object.entries(resolved)
      .filter(([k]) => option(k as OptionKey).identity)
      .map(([, r]) => r.source);
    throw new C8yError(pem === 4 ? 'USAGE' : 'CONFIG_INVALID', { reason: 'both a keystore and PEM files', source: sources.join(', ') });
  }
  const drop = pem > keystore ? 'keystore' : 'pem';
  for (const key of Object.keys(resolved) as OptionKey[]) if (option(key).identity === drop) delete resolved[key];
}

/** The files the identity, the trust, the proxy's CA and their passwords are read from. */
export function credentialFiles(settings: Settings): string[] {
  const p = settings.passwords;
  const files = [settings.cert, settings.pkcs11 ? settings.pkcs11.uri.pinSource : settings.key, settings.keystore?.path, settings.truststore, settings.proxyCa];
  for (const role of ['key', 'keystore', 'truststore', 'proxy'] as const) files.push(p[role].flagFile, p[role].configFile);
  return files.filter((f): f is string => f !== undefined);
}

/** The files a command reads for its settings: credentials, trust, password files, the config file. */
export function inputFiles(settings: Settings): NamedFile[] {
  const files: NamedFile[] = [];
  const add = (path: string | undefined, option: string): void => {
    if (path) files.push({ path, option });
  };
  add(settings.cert, '--cert');
  add(settings.pkcs11 ? settings.pkcs11.uri.pinSource : settings.key, settings.pkcs11 ? 'the PIN file' : '--key');
  add(settings.keystore?.path, '--keystore');
  add(settings.truststore, '--truststore');
  add(settings.deviceCa, '--device-ca');
  add(settings.proxyCa, '--proxy-ca');
  for (const sources of Object.values(settings.passwords)) {
    add(sources.flagFile, `the ${sources.role} password file`);
    add(sources.configFile, `the ${sources.role} password file`);
  }
  add(settings.configPath, 'the config file');
  return files;
}
