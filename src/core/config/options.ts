/**
 * The option table: one row per option, as data. The commander options and their help (with the
 * environment variables), the config file's schema and validation, the precedence merge, the password
 * sources, the shell completions, the man page, docs/options.md and the config file's JSON schema (npm run
 * docs) all read it, so an option is added in one place and its help cannot drift (npm-check-updates'
 * cli-options.ts is the model).
 */
import type { SecretRole } from '../errors.js';

/** How a value is read and checked, wherever it comes from (flag, environment, config file). */
export type OptionKind =
  /** A boolean switch (flags only). */
  | 'switch'
  /** Free text. */
  | 'text'
  /** A file path: relative to the working directory (flag, environment) or to the config file. */
  | 'path'
  /** One of `choices` (compared case-insensitively, stored as written in the table). */
  | 'choice'
  /** A duration such as 30s, 5m, 1h30m (a bare number is seconds unless `unitRequired`), within `max`. */
  | 'duration'
  /** A password file (flag, config `configFile`), the password itself (environment, config `configInline`). */
  | 'password';

export interface OptionRow {
  /** The name in code: commander's attribute name for the flag. */
  key: string;
  /** Commander's flags: '--url <url>', '-o, --output <file>', '--force'. */
  flags: string;
  help: string;
  kind: OptionKind;
  choices?: readonly string[];
  /** The value when nothing gives one, as a user would type it (shown in help). */
  defaultValue?: string;
  /** The largest duration accepted (kind 'duration'), as text. */
  max?: string;
  /** A day-scale duration (kind 'duration'): a bare number is refused instead of read as seconds. */
  unitRequired?: boolean;
  /** Environment variables that give it, highest precedence first. */
  env?: readonly string[];
  /** Its key in the config file ('url', 'keystore.path'); absent for flags that have none. */
  config?: string;
  /** For passwords: which one, and its two config keys (a file, or the password itself). */
  password?: { role: SecretRole; configFile?: string; configInline?: string };
  /**
   * For the device identity: options of one group replace the other group's as a whole, whichever
   * source is higher (a --cert/--key pair replaces a configured keystore and vice versa).
   */
  identity?: 'pem' | 'keystore';
  /** Not in help, the man page or the completions: a helper the completion scripts call. */
  hidden?: boolean;
}

const rows = [
  // Global options, on the program.
  { key: 'json', flags: '--json', kind: 'switch', help: 'machine-readable output wherever a command has a human one' },
  { key: 'quiet', flags: '-q, --quiet', kind: 'switch', help: 'print nothing but the requested data and errors' },
  { key: 'verbose', flags: '-v, --verbose', kind: 'switch', help: 'say what happens, step by step, on stderr (never secrets)' },
  { key: 'color', flags: '--no-color', kind: 'switch', help: 'no colours', env: ['NO_COLOR'] },
  { key: 'config', flags: '-c, --config <file>', kind: 'path', help: 'config file to use instead of searching', env: ['C8YTOKEN_CONFIG'] },
  { key: 'profile', flags: '-p, --profile <name>', kind: 'text', help: "use the named profile's settings over the top-level ones", env: ['C8YTOKEN_PROFILE'] },

  // Connection and credentials.
  { key: 'url', flags: '--url <url>', kind: 'text', help: 'tenant URL; port 8443 unless the URL names one', env: ['C8YTOKEN_URL', 'C8Y_HOST', 'C8Y_BASEURL', 'C8Y_URL'], config: 'url' },
  { key: 'cert', flags: '--cert <file>', kind: 'path', help: 'PEM device certificate, optionally followed by its intermediates', env: ['C8Y_CERTIFICATE_FILE'], config: 'cert', identity: 'pem' },
  {
    key: 'key',
    flags: '--key <file>',
    kind: 'path',
    help: 'PEM private key (PKCS#1, SEC1, PKCS#8, encrypted PKCS#8 or traditional), or a pkcs11: URI (RFC 7512) of a key in a TPM, smartcard or HSM; the PIN is the key password',
    env: ['C8Y_CERTIFICATE_KEY_FILE'],
    config: 'key',
    identity: 'pem',
  },
  {
    key: 'pkcs11Module',
    flags: '--pkcs11-module <file>',
    kind: 'path',
    help: "the PKCS#11 module of a pkcs11: key's token (e.g. libsofthsm2.so, opensc-pkcs11.so, libtpm2_pkcs11.so); default p11-kit's proxy",
    env: ['PKCS11_MODULE_PATH'],
    config: 'pkcs11.module',
  },
  {
    key: 'pkcs11Engine',
    flags: '--pkcs11-engine <file>',
    kind: 'path',
    help: "OpenSSL's PKCS#11 engine (libp11's pkcs11.so) for a pkcs11: key; default: found in OPENSSL_ENGINES or the usual folders",
    env: ['C8YTOKEN_PKCS11_ENGINE'],
    config: 'pkcs11.engine',
  },
  {
    key: 'keyPasswordFile',
    flags: '--key-password-file <file>',
    kind: 'password',
    help: 'file holding the password of an encrypted key or of a keystore entry with its own',
    env: ['C8YTOKEN_KEY_PASSWORD'],
    password: { role: 'key', configFile: 'keyPasswordFile', configInline: 'keyPassword' },
  },
  {
    key: 'keystore',
    flags: '--keystore <file>',
    kind: 'path',
    help: 'PKCS#12 (.p12/.pfx) or JKS keystore holding key and chain',
    env: ['C8YTOKEN_KEYSTORE'],
    config: 'keystore.path',
    identity: 'keystore',
  },
  {
    key: 'keystoreType',
    flags: '--keystore-type <type>',
    kind: 'choice',
    choices: ['pkcs12', 'jks'],
    help: 'keystore format; detected from the content when absent',
    env: ['C8YTOKEN_KEYSTORE_TYPE'],
    config: 'keystore.type',
    identity: 'keystore',
  },
  {
    key: 'keystorePasswordFile',
    flags: '--keystore-password-file <file>',
    kind: 'password',
    help: 'file holding the keystore password (also the key password unless one is given)',
    env: ['C8YTOKEN_KEYSTORE_PASSWORD'],
    password: { role: 'keystore', configFile: 'keystore.passwordFile', configInline: 'keystore.password' },
  },
  { key: 'alias', flags: '--alias <name>', kind: 'text', help: 'which key entry, when the keystore holds several', env: ['C8YTOKEN_KEYSTORE_ALIAS'], config: 'keystore.alias', identity: 'keystore' },
  {
    key: 'truststore',
    flags: '--truststore <file>',
    kind: 'path',
    help: "PEM, PKCS#12 or JKS with the CA(s) of the platform's server certificate; replaces the built-in roots",
    env: ['C8YTOKEN_TRUSTSTORE'],
    config: 'truststore.path',
  },
  {
    key: 'truststorePasswordFile',
    flags: '--truststore-password-file <file>',
    kind: 'password',
    help: 'file holding the truststore password (JKS/PKCS#12)',
    env: ['C8YTOKEN_TRUSTSTORE_PASSWORD'],
    password: { role: 'truststore', configFile: 'truststore.passwordFile', configInline: 'truststore.password' },
  },
  {
    key: 'deviceCa',
    flags: '--device-ca <file>',
    kind: 'path',
    help: 'the device CA(s) uploaded to the tenant (PEM): the anchor verify-chain checks the chain against',
    env: ['C8YTOKEN_DEVICE_CA'],
    config: 'deviceCa',
  },
  {
    key: 'chainHeader',
    flags: '--chain-header <mode>',
    kind: 'choice',
    choices: ['auto', 'none', 'full'],
    defaultValue: 'auto',
    help: 'what goes into X-Ssl-Cert-Chain: auto (the certificates after the leaf), none, full (leaf too)',
    env: ['C8YTOKEN_CHAIN_HEADER'],
    config: 'chainHeader',
  },
  {
    key: 'proxy',
    flags: '--proxy <url>',
    kind: 'text',
    help: 'HTTP CONNECT proxy to the platform, http://[USER@]HOST:PORT or https://...; "none" for a direct connection. NO_PROXY exempts hosts',
    // The standard variables sit between C8YTOKEN_PROXY and the config file, as curl reads them (lower case
    // first): the merge weighs them like any variable (platform/proxy/select.ts PROXY_VARIABLES, tested equal).
    env: ['C8YTOKEN_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'],
    config: 'proxy',
  },
  {
    key: 'proxyCa',
    flags: '--proxy-ca <file>',
    kind: 'path',
    help: "PEM CA(s) for an https:// proxy's own certificate (default: the system's roots); the platform's trust stays --truststore",
    env: ['C8YTOKEN_PROXY_CA'],
    config: 'proxyCa',
  },
  {
    key: 'proxyPasswordFile',
    flags: '--proxy-password-file <file>',
    kind: 'password',
    help: 'file holding the password of the user in the proxy URL (wins over a password in the URL)',
    env: ['C8YTOKEN_PROXY_PASSWORD'],
    password: { role: 'proxy', configFile: 'proxyPasswordFile', configInline: 'proxyPassword' },
  },
  { key: 'timeout', flags: '--timeout <duration>', kind: 'duration', defaultValue: '30s', max: '1h', help: 'whole-request limit', env: ['C8YTOKEN_TIMEOUT'], config: 'timeout' },

  // fetch
  { key: 'format', flags: '--format <format>', kind: 'choice', choices: ['token', 'header', 'json', 'env'], help: 'token (default: the JWT), header (for curl -H @-), json, env (shell exports)' },
  { key: 'shell', flags: '--shell <shell>', kind: 'choice', choices: ['bash', 'zsh', 'fish', 'powershell'], defaultValue: 'bash', help: 'shell syntax for --format env' },
  {
    key: 'output',
    flags: '-o, --output <file>',
    kind: 'path',
    help: 'write the token to FILE (atomically, mode 0600, no newline) instead of stdout; - is stdout; reuses the token there while it is before its half-life',
  },
  { key: 'cache', flags: '--cache <file>', kind: 'path', help: 'reuse the token in FILE while it is before its half-life, and keep FILE updated (for stdout output)' },
  { key: 'force', flags: '--force', kind: 'switch', help: 'always ask the platform, even when the cached token is still fresh' },
  {
    key: 'meta',
    flags: '--meta <file>',
    kind: 'path',
    help: "also write a JSON sidecar (mode 0600, atomically) with the token's times, device user, tenant, endpoint, certificate expiry and fingerprint, clock offset; never the token",
    config: 'meta',
  },

  // watch
  { key: 'exec', flags: '--exec', kind: 'switch', help: 'after each new token, run the command given after -- (argv as given, no shell)' },
  { key: 'once', flags: '--once', kind: 'switch', help: 'fetch if needed, write, and exit (for cron and systemd timers)' },
  { key: 'exitOnError', flags: '--exit-on-error', kind: 'switch', help: 'exit with the error class code instead of retrying failures retrying will not fix' },
  { key: 'minRetry', flags: '--min-retry <duration>', kind: 'duration', defaultValue: '2s', max: '1d', help: 'first retry delay after a failure' },
  { key: 'maxRetry', flags: '--max-retry <duration>', kind: 'duration', defaultValue: '5m', max: '1d', help: 'longest retry delay' },
  { key: 'slowRetry', flags: '--slow-retry <duration>', kind: 'duration', defaultValue: '5m', max: '1d', help: 'retry delay after a failure retrying will not fix, e.g. a rejected certificate' },

  // verify-chain
  { key: 'at', flags: '--at <date>', kind: 'text', help: 'check validity at this moment instead of now, e.g. 2027-01-01' },
  { key: 'connect', flags: '--connect', kind: 'switch', help: 'also perform the TLS handshake with the platform (no token is requested)' },
  {
    key: 'purpose',
    flags: '--purpose <purpose>',
    kind: 'choice',
    choices: ['client', 'server', 'any'],
    defaultValue: 'client',
    help: 'what the device certificate must be good for: client (what the platform needs), server, any',
  },

  // inspect
  { key: 'check', flags: '--check', kind: 'switch', help: 'exit 1 when the token is expired, not yet valid or (with --expires-within) expiring soon' },
  { key: 'expiresWithin', flags: '--expires-within <duration>', kind: 'duration', max: '3650d', help: 'with --check: fail when the token expires within this time, e.g. 5m' },
  { key: 'showSecrets', flags: '--show-secrets', kind: 'switch', help: 'show xsrfToken and the signature instead of masking them' },

  // cert renew, needs-renewal, enroll; watch --renew-before
  { key: 'newKey', flags: '--new-key', kind: 'switch', help: 'make a new key of the same type (RSA size, EC curve) instead of keeping the current one' },
  {
    key: 'within',
    flags: '--within <duration>',
    kind: 'duration',
    defaultValue: '30d',
    max: '3650d',
    unitRequired: true,
    help: 'renew now when the certificate expires within this time (or has expired), with a unit: 30d, 12h',
  },
  {
    key: 'estUrl',
    flags: '--est-url <url>',
    kind: 'text',
    help: "EST server (cert renew, cert enroll, watch --renew-before) when it is not the tenant's: default the --url host on port 443 unless --url names a port",
    env: ['C8YTOKEN_EST_URL'],
    config: 'estUrl',
  },
  { key: 'deviceId', flags: '--device-id <id>', kind: 'text', help: 'the device id registered in the tenant: the certificate CN (the device user is device_<id>)', env: ['C8YTOKEN_DEVICE_ID'] },
  {
    key: 'oneTimePasswordFile',
    flags: '--one-time-password-file <file>',
    kind: 'password',
    help: 'file holding the one-time password the device was registered with (never on the command line)',
    env: ['C8YTOKEN_ONE_TIME_PASSWORD'],
    password: { role: 'one-time' },
  },
  { key: 'retryEvery', flags: '--retry-every <duration>', kind: 'duration', defaultValue: '30s', max: '1h', help: 'while the device is not registered yet: ask again after this pause' },
  { key: 'maxWait', flags: '--max-wait <duration>', kind: 'duration', defaultValue: '10m', max: '30d', help: 'give up waiting for the registration after this time' },
  {
    key: 'allowShorter',
    flags: '--allow-shorter',
    kind: 'switch',
    help: 'accept a renewed certificate that expires before the current one (refused by default)',
    env: ['C8YTOKEN_ALLOW_SHORTER'],
    config: 'allowShorter',
  },
  {
    key: 'renewBefore',
    flags: '--renew-before <duration>',
    kind: 'duration',
    max: '3650d',
    unitRequired: true,
    help: 'renew the device certificate (PEM files or keystore, in place) when it expires within this time, e.g. 30d',
    env: ['C8YTOKEN_RENEW_BEFORE'],
    config: 'renewBefore',
  },

  // proxy, status
  {
    key: 'listen',
    flags: '--listen <address>',
    kind: 'text',
    defaultValue: '127.0.0.1:8001',
    help: 'where the proxy listens: HOST:PORT (loopback unless --tls-cert, --tls-key, --client-ca), unix:PATH, or systemd (socket activation); for status: where to ask',
    env: ['C8YTOKEN_LISTEN'],
  },
  {
    key: 'upstreamAuth',
    flags: '--upstream-auth <mode>',
    kind: 'choice',
    choices: ['token', 'mtls'],
    defaultValue: 'token',
    help: 'token: add the device token (tenant port 443); mtls: no token, the device certificate on port 8443 (unless the URL names a port)',
    env: ['C8YTOKEN_UPSTREAM_AUTH'],
  },
  { key: 'allowUi', flags: '--allow-ui', kind: 'switch', help: 'forward apps/... and *.js paths (the web UI: fetching it with a device token gets the token revoked)' },
  { key: 'tlsCert', flags: '--tls-cert <file>', kind: 'path', help: 'serve HTTPS with this PEM certificate (and its chain)' },
  { key: 'tlsKey', flags: '--tls-key <file>', kind: 'path', help: 'the PEM key of --tls-cert' },
  { key: 'clientCa', flags: '--client-ca <file>', kind: 'path', help: 'with --tls-cert: require client certificates signed by these PEM CAs' },
  { key: 'socketMode', flags: '--socket-mode <mode>', kind: 'choice', choices: ['0600', '0660'], defaultValue: '0600', help: 'mode of the unix socket: 0600 (this user) or 0660 (and --socket-group)' },
  { key: 'socketGroup', flags: '--socket-group <group>', kind: 'text', help: 'group of the unix socket (name or number; with --socket-mode 0660)' },
  {
    key: 'requireHeader',
    flags: '--require-header <name[:value]>',
    kind: 'text',
    help: 'answer 403 to requests without this header (and value): a guard against requests forged by a browser or an SSRF',
  },
  { key: 'headerTimeout', flags: '--header-timeout <duration>', kind: 'duration', defaultValue: '10s', max: '10m', help: 'a client must send its request headers within this time' },
  { key: 'idleTimeout', flags: '--idle-timeout <duration>', kind: 'duration', defaultValue: '60s', max: '1d', help: 'close a client connection idle this long (body or answer stalled included)' },
  { key: 'drainTimeout', flags: '--drain-timeout <duration>', kind: 'duration', defaultValue: '10s', max: '10m', help: 'on SIGTERM: how long requests in flight may take to finish' },

  // completion
  { key: 'profiles', flags: '--profiles', kind: 'switch', hidden: true, help: 'list the profile names of the config file (the completion scripts call this); never fails' },
] as const satisfies readonly OptionRow[];

/** Every option's key. */
export type OptionKey = (typeof rows)[number]['key'];

/** The row of an option as the table writes it: its kind, choices and default as literal types. */
type RowOf<K extends OptionKey> = Extract<(typeof rows)[number], { key: K }>;

/**
 * What an option's value is once read (values.ts): a switch a boolean, a duration milliseconds, a choice
 * one of its choices (`format`: 'token' | 'header' | 'json' | 'env'), a path resolved against the working
 * directory or the config file's folder, text as given. A password option is where its password may
 * come from (`Sources`), read only when needed.
 */
export type OptionType<K extends OptionKey, Sources = never> =
  RowOf<K> extends { kind: 'switch' }
    ? boolean
    : RowOf<K> extends { kind: 'duration' }
      ? number
      : RowOf<K> extends { kind: 'choice'; choices: readonly (infer C)[] }
        ? C
        : RowOf<K> extends { kind: 'password' }
          ? Sources
          : string;

/** Whether an option always has a value: a switch (false when not given), a row with a default, a password's sources. */
type AlwaysGiven<K extends OptionKey> = RowOf<K> extends { kind: 'switch' | 'password' } | { defaultValue: string } ? true : false;

/**
 * A command's options object, derived from its key list: one property per key, typed from the table,
 * optional exactly when the option has no default.
 */
export type OptionsOf<K extends OptionKey, Sources = never> = {
  readonly [P in K]: AlwaysGiven<P> extends true ? OptionType<P, Sources> : OptionType<P, Sources> | undefined;
};

/** The table. */
export const OPTIONS: readonly OptionRow[] = rows;

const byKey = new Map<string, OptionRow>(OPTIONS.map((r) => [r.key, r]));

/** The row of an option. */
export function option(key: OptionKey): OptionRow {
  return byKey.get(key)!;
}

/** Options on the program itself, for every command. */
export const GLOBAL_OPTIONS = ['json', 'quiet', 'verbose', 'color', 'config', 'profile'] as const satisfies readonly OptionKey[];

/** The connection and credential options of every command that talks to the platform or reads the identity. */
export const CONNECTION_OPTIONS = [
  'url',
  'cert',
  'key',
  'pkcs11Module',
  'pkcs11Engine',
  'keyPasswordFile',
  'keystore',
  'keystoreType',
  'keystorePasswordFile',
  'alias',
  'truststore',
  'truststorePasswordFile',
  'deviceCa',
  'chainHeader',
  'timeout',
  'proxy',
  'proxyCa',
  'proxyPasswordFile',
] as const satisfies readonly OptionKey[];

/** What the token keeper reads to pace its refreshes: every command that keeps a token fresh (watch, exec, proxy). */
export const REFRESH_OPTIONS = ['minRetry', 'maxRetry', 'slowRetry'] as const satisfies readonly OptionKey[];

/** What the keeper reads to renew the device certificate over EST while it runs (watch, proxy). */
export const RENEWAL_OPTIONS = ['renewBefore', 'allowShorter', 'estUrl'] as const satisfies readonly OptionKey[];

/**
 * When an option given on the command line does nothing: the CLI warns instead of ignoring it silently.
 * `commands`: only these commands read it; the others still accept it (scripts that pass it keep working)
 * but do not list it in their help, completion or man page. `needs`: it works only when one of these is
 * given (with that value, if one is named). `not`: it does nothing when that switch is given.
 */
export interface NoEffectRule {
  option: OptionKey;
  commands?: readonly string[];
  needs?: readonly { key: OptionKey; value?: string }[];
  not?: { key: OptionKey; why: string };
}

export const NO_EFFECT: readonly NoEffectRule[] = [
  { option: 'deviceCa', commands: ['verify-chain', 'doctor'] },
  { option: 'expiresWithin', needs: [{ key: 'check' }] },
  { option: 'shell', needs: [{ key: 'format', value: 'env' }] },
  // No file to reuse a token from: every fetch asks the platform anyway.
  { option: 'force', needs: [{ key: 'output' }, { key: 'cache' }] },
  ...(['minRetry', 'maxRetry', 'slowRetry', 'exitOnError'] as const).map((key) => ({ option: key, not: { key: 'once' as const, why: 'it makes one attempt and exits with its error' } })),
];

/** The options a command lists (help, completion, man page): its own, without those it accepts but ignores. */
export function listedOptions(command: string, keys: readonly OptionKey[]): OptionKey[] {
  return keys.filter((key) => !NO_EFFECT.some((r) => r.option === key && r.commands && !r.commands.includes(command)));
}

/** Warnings for options given on the command line that have no effect with this command and the others given. */
export function noEffectWarnings(command: string, given: Partial<Record<OptionKey, string | boolean>>): string[] {
  const has = (key: OptionKey, value?: string): boolean => {
    const v = given[key];
    return v !== undefined && v !== false && (value === undefined || String(v).trim().toLowerCase() === value);
  };
  const flag = (key: OptionKey): string => longFlag(option(key));
  const out: string[] = [];
  for (const rule of NO_EFFECT) {
    if (!has(rule.option)) continue;
    if (rule.commands && !rule.commands.includes(command)) out.push(`${flag(rule.option)} has no effect on ${command} (only ${rule.commands.join(' and ')} read it): ignored.`);
    else if (rule.needs && !rule.needs.some((n) => has(n.key, n.value)))
      out.push(`${flag(rule.option)} has no effect without ${rule.needs.map((n) => `${flag(n.key)}${n.value ? ` ${n.value}` : ''}`).join(' or ')}: ignored.`);
    else if (rule.not && has(rule.not.key)) out.push(`${flag(rule.option)} has no effect with ${flag(rule.not.key)} (${rule.not.why}): ignored.`);
  }
  return out;
}

/** The long flag of a row: '--output' for '-o, --output <file>'. */
export function longFlag(row: OptionRow): string {
  return /--[\w-]+/.exec(row.flags)![0];
}

/** Rows whose values the config file can give (their config keys, including both keys of a password). */
export function configKeys(): { key: string; row: OptionRow; as: 'value' | 'passwordFile' | 'password' }[] {
  const out: { key: string; row: OptionRow; as: 'value' | 'passwordFile' | 'password' }[] = [];
  for (const row of OPTIONS) {
    if (row.config) out.push({ key: row.config, row, as: 'value' });
    if (row.password?.configFile) out.push({ key: row.password.configFile, row, as: 'passwordFile' });
    if (row.password?.configInline) out.push({ key: row.password.configInline, row, as: 'password' });
  }
  return out;
}
