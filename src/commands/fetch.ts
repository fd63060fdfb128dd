/** `c8ytoken fetch`: settings → identity and trust → one mTLS request → token (→ atomic file). Returns data. */
import { C8yError } from '../core/errors.js';
import { loadSettings, type ConnectionFlags, type Settings } from '../core/config/settings.js';
import { PasswordBook, type SecretPrompt } from '../core/credentials/passwords.js';
import { loadIdentity, type ClientIdentity } from '../core/credentials/identity.js';
import { checkWritable, readTokenFile, writeTokenFile } from '../core/token/file.js';
import { decodeJwt, tokenTimes, type DecodedJwt, type TokenTimes } from '../core/token/jwt.js';
import { reusableToken } from '../core/token/refresh-policy.js';
import type { Trust } from '../core/credentials/truststore.js';
import { chainHeaderCertificates } from '../core/platform/chain-header.js';
import { readFile } from 'node:fs/promises';
import { commonName, dnOneLine, pemCertificateCn } from '../core/encoding/pem.js';

export interface FetchOptions {
  connection: ConnectionFlags;
  /** Write the token here (atomically) instead of returning it for stdout. */
  output?: string | undefined;
  /** Reuse the token in this file while it is before its half-life (default: the output file). */
  cache?: string | undefined;
  /** Always ask the platform, even when the cached token is still before its half-life. */
  force?: boolean | undefined;
}

/** What a command needs from its surroundings; tests pass their own. */
export interface CommandIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Present only when stdin is a terminal. */
  prompt?: SecretPrompt | undefined;
  warn(message: string): void;
  /** Progress for a spinner or --verbose; never given secrets. */
  progress(message: string): void;
  signal?: AbortSignal | undefined;
  /** The clock, in milliseconds since the epoch. */
  now(): number;
  userAgent?: string;
}

export interface FetchResult {
  token: DecodedJwt;
  times: TokenTimes;
  endpoint: URL;
  identitySource: string;
  /** Subjects of the certificates sent in X-Ssl-Cert-Chain. */
  chainHeaderSubjects: string[];
  tlsVersion?: string;
  /** The file written, when -o was given. */
  written?: string;
  /** 'cache': the token came from the cache file without a request. */
  source: 'platform' | 'cache';
  /** Why the cached token was not used, when there was one. */
  cacheNote?: string;
}

/** Gets a device token from the platform. */
export async function fetchCommand(options: FetchOptions, io: CommandIo): Promise<FetchResult> {
  const settings = await loadSettings({ flags: options.connection, env: io.env, cwd: io.cwd });
  for (const w of settings.warnings) io.warn(w);
  const endpoint = requireEndpoint(settings);
  // Fail on an unwritable output before spending a request on it.
  if (options.output) await checkWritable(options.output);
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  let identity: ClientIdentity | undefined;
  const cacheFile = options.cache ?? options.output;
  let cacheNote: string | undefined;
  if (cacheFile && !options.force) {
    const device = await deviceUserOf(settings, passwords, io);
    identity = device.identity;
    const deviceUser = device.deviceUser;
    const cached = await cachedToken(cacheFile, deviceUser, endpoint, io.now());
    if (cached.token) {
      io.progress(`reusing the token in ${cacheFile}: ${cached.note}`);
      const source = identity?.source ?? settings.cert!;
      const result: FetchResult = { token: cached.token, times: tokenTimes(cached.token.claims), endpoint, identitySource: source, chainHeaderSubjects: [], source: 'cache', cacheNote: cached.note };
      if (options.output) {
        // The output file is the cache file, or gets the cached token too.
        if (options.output !== cacheFile) await writeTokenFile(options.output, cached.token.token);
        result.written = options.output;
      }
      return result;
    }
    cacheNote = cached.note;
  }
  identity ??= await loadIdentityWithProgress(settings, passwords, io);
  const { token, tlsVersion } = await requestToken(settings, endpoint, identity, passwords, io);
  const result: FetchResult = {
    token,
    times: tokenTimes(token.claims),
    endpoint,
    identitySource: identity.source,
    chainHeaderSubjects: chainHeaderCertificates(identity.chain, settings.chainHeader).map((c) => dnOneLine(c.subject)),
    source: 'platform',
  };
  if (cacheNote) result.cacheNote = cacheNote;
  if (tlsVersion) result.tlsVersion = tlsVersion;
  if (options.output) {
    await writeTokenFile(options.output, token.token);
    result.written = options.output;
  }
  if (options.cache && options.cache !== options.output) await writeTokenFile(options.cache, token.token);
  return result;
}

/** One token request with the identity given and the trust read now: what fetch and every watch refresh do. */
export async function requestToken(settings: Settings, endpoint: URL, identity: ClientIdentity, passwords: PasswordBook, io: CommandIo): Promise<{ token: DecodedJwt; tlsVersion?: string }> {
  // The network stack is loaded only now: a cache hit never pays for it.
  const [{ postTokenRequest }, { tokenFromResponse }] = await Promise.all([import('../core/platform/request.js'), import('../core/platform/token-response.js')]);
  const trust = await loadTrustWithProgress(settings, passwords, io);
  io.progress(`POST ${endpoint.href} as ${subjectCn(identity)} (${identity.source})`);
  const raw = await postTokenRequest({
    endpoint,
    identity,
    trust,
    chainHeader: settings.chainHeader,
    timeoutMs: settings.timeoutMs,
    signal: io.signal,
    userAgent: io.userAgent,
  });
  io.progress(`HTTP ${raw.status} over ${raw.tlsVersion ?? 'TLS'}`);
  const token = tokenFromResponse(raw, endpoint);
  return raw.tlsVersion ? { token, tlsVersion: raw.tlsVersion } : { token };
}

/**
 * The platform's device user (device_<CN>) for the configured credentials. For PEM files the
 * certificate's CN is enough, read without the key or OpenSSL, so a cache hit costs little more than
 * starting Node; a keystore has to be opened, and the identity is returned for reuse.
 */
export async function deviceUserOf(settings: Settings, passwords: PasswordBook, io: Pick<CommandIo, 'progress'>): Promise<{ deviceUser: string; identity?: ClientIdentity }> {
  const pemUser = settings.cert && !settings.keystore ? await pemDeviceUser(settings.cert) : undefined;
  if (pemUser) return { deviceUser: pemUser };
  const identity = await loadIdentityWithProgress(settings, passwords, io);
  return { deviceUser: `device_${subjectCn(identity)}`, identity };
}

/** The endpoint, or the configuration error that says how to give one. */
export function requireEndpoint(settings: Settings): URL {
  if (settings.endpoint) return settings.endpoint;
  throw new C8yError('NO_URL', 'No tenant URL is configured.', {
    hint: 'Give --url https://TENANT.cumulocity.com, set C8Y_HOST, or put "url" in .c8ytokenrc.',
  });
}

/** The device identity, read from its files now (they may have been renewed since the last time). */
export async function loadIdentityWithProgress(settings: Settings, passwords: PasswordBook, io: Pick<CommandIo, 'progress'>): Promise<ClientIdentity> {
  const identity = await loadIdentity(settings, passwords);
  io.progress(`identity: ${identity.chain.length} certificate(s), ${identity.key.asymmetricKeyType?.toUpperCase()} key, from ${identity.source}`);
  return identity;
}

/** The platform trust, read from its file now. */
export async function loadTrustWithProgress(settings: Settings, passwords: PasswordBook, io: Pick<CommandIo, 'progress' | 'warn'>): Promise<Trust> {
  const { loadTrust } = await import('../core/credentials/truststore.js');
  const trust = await loadTrust(settings.truststore, passwords);
  for (const w of trust.warnings) io.warn(w);
  io.progress(`trust: ${trust.source}`);
  return trust;
}

/** The token in a cache file when it is reusable; otherwise a note saying why not. */
export async function cachedToken(file: string, deviceUser: string, endpoint: URL, nowMs: number): Promise<{ token?: DecodedJwt; note: string }> {
  let text: string | undefined;
  try {
    text = await readTokenFile(file);
  } catch {
    return { note: `${file} cannot be read` };
  }
  if (!text) return { note: `${file} holds no token` };
  let jwt: DecodedJwt;
  try {
    jwt = decodeJwt(text);
  } catch {
    return { note: `${file} does not hold a JWT` };
  }
  const verdict = reusableToken(jwt, deviceUser, endpoint.hostname, nowMs);
  return verdict.reusable ? { token: jwt, note: `the token in ${file} is ${verdict.reason}` } : { note: `the token in ${file} was not reused: it ${verdict.reason}` };
}

/** device_<CN> of the first certificate of a PEM file (the device certificate by convention), or undefined. */
async function pemDeviceUser(certPath: string): Promise<string | undefined> {
  try {
    const cn = pemCertificateCn(await readFile(certPath, 'latin1'));
    return cn === undefined ? undefined : `device_${cn}`;
  } catch {
    return undefined; // the full load that follows reports what is wrong with the file
  }
}

/** The CN of the device certificate: the platform's device user is device_<CN>. */
export function subjectCn(identity: ClientIdentity): string {
  const subject = identity.chain[0]?.subject;
  return commonName(subject) ?? dnOneLine(subject);
}
