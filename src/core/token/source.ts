/**
 * Where a token comes from, for fetch, watch (and every command after them): a cache file checked
 * first, then the identity, the trust and one request to the platform. The answer's clock offset is
 * estimated, and expiry is judged on the platform's clock.
 */
import { C8yError, type WarningSink } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readRegularFile } from '../files/read.js';
import type { Settings } from '../config/settings.js';
import { isTokenKey, keyTypeLabel, loadIdentity, type ClientIdentity, type CredentialIo } from '../credentials/identity.js';
import type { PasswordBook, SecretPrompt } from '../credentials/passwords.js';
import type { Trust } from '../credentials/truststore.js';
import type { SecureContext } from 'node:tls';
import { pemCertificateCn, subjectCn } from '../x509/names.js';
import { decodeJwt, tokenTimes, type DecodedJwt } from './jwt.js';
import { isoSeconds } from '../time/iso.js';
import type { TrustedToken } from './file.js';
import { reusableToken } from './refresh-policy.js';
import { estimateOffset, platformNowSeconds, type ClockOffset } from './clock.js';
import { decideProxy, proxyRoute } from './proxy.js';
import type { ProxyDecision } from '../platform/proxy/select.js';
import type { ProxyRoute } from '../platform/proxy/agent.js';

/** What getting a token needs from its surroundings. */
export interface TokenSourceIo extends CredentialIo {
  env: NodeJS.ProcessEnv;
  /** Asks for a password without echo; present only when stdin is a terminal. */
  prompt?: SecretPrompt | undefined;
  warn: WarningSink;
  /** Progress for a spinner or --verbose; never given secrets. */
  progress(message: string): void;
  /** The local clock, ms since the epoch. */
  now(): number;
  userAgent?: string | undefined;
}

/**
 * Trust, the TLS context and the proxy route, made once for a set of credential files (watch keeps them
 * while the files are unchanged, so a refresh through a proxy builds no new contexts).
 */
export interface PreparedTls {
  trust: Trust;
  context: SecureContext;
  /** The proxy tunnel; absent: a direct connection. */
  proxy?: ProxyRoute | undefined;
}

/** The trust, the device's TLS context and the proxy route for a request; the proxy decided now unless given. */
export async function prepareTls(settings: Settings, identity: ClientIdentity, passwords: PasswordBook, io: TokenSourceIo, decision?: ProxyDecision): Promise<PreparedTls> {
  const chosen = decision ?? decideProxy(settings, io.env, requireEndpoint(settings));
  // Said where the TLS setup is made (once for watch while its files are unchanged), not at every request.
  if (io.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') io.warn('NODE_TLS_REJECT_UNAUTHORIZED=0 is ignored: c8ytoken always verifies the platform certificate.');
  const [{ deviceSecureContext }, trust] = await Promise.all([import('../platform/tls.js'), loadTrustWithProgress(settings, passwords, io)]);
  const context = deviceSecureContext(identity, trust);
  return { trust, context, proxy: await proxyRoute(settings, chosen, io) };
}

/** A token from the platform, with when it arrived and what the answer said about the clocks. */
export interface FetchedToken {
  token: DecodedJwt;
  /** Local ms when the answer arrived. */
  receivedAt: number;
  offset?: ClockOffset;
  tlsVersion?: string;
}

/** The endpoint, or the configuration error that says how to give one. */
export function requireEndpoint(settings: Settings): URL {
  if (settings.endpoint) return settings.endpoint;
  throw new C8yError('NO_URL');
}

/** The device identity, read from its files now (they may have been renewed since the last time). */
export async function loadIdentityWithProgress(settings: Settings, passwords: PasswordBook, io: TokenSourceIo): Promise<ClientIdentity> {
  const identity = await loadIdentity(settings, passwords, io);
  const key = identity.key;
  const where = isTokenKey(key) ? `in the token ${key.source} (module ${key.module}; it signed a challenge the certificate verifies)` : `from ${identity.source}`;
  io.progress(`identity: ${identity.chain.length} certificate(s) on the path, ${keyTypeLabel(key)} key ${where}`);
  return identity;
}

/** The platform trust, read from its file now; --verbose says what extends or replaces Node's roots. */
export async function loadTrustWithProgress(settings: Settings, passwords: PasswordBook, io: TokenSourceIo): Promise<Trust> {
  const { loadTrust } = await import('../credentials/truststore.js');
  const trust = await loadTrust(settings.truststore, passwords, io);
  const extra = io.env.NODE_EXTRA_CA_CERTS;
  io.progress(
    `trust: ${trust.source}${!trust.cas && extra ? `, extended by NODE_EXTRA_CA_CERTS=${extra}` : ''}${trust.cas && extra ? ` (NODE_EXTRA_CA_CERTS=${extra} does not apply: a truststore replaces the built-in roots)` : ''}`,
  );
  return trust;
}

/**
 * The platform's device user (device_<CN>) for the configured credentials. For PEM files the
 * certificate's CN is enough, read without the key or OpenSSL, so a cache hit costs little more than
 * starting Node; a keystore has to be opened, and the identity is returned for reuse.
 */
export async function deviceUserOf(settings: Settings, passwords: PasswordBook, io: TokenSourceIo): Promise<{ deviceUser: string; identity?: ClientIdentity }> {
  const pemUser = settings.cert && !settings.keystore ? await pemDeviceUser(settings.cert) : undefined;
  if (pemUser) return { deviceUser: pemUser };
  const identity = await loadIdentityWithProgress(settings, passwords, io);
  return { deviceUser: `device_${subjectCn(identity.chain[0])}`, identity };
}

async function pemDeviceUser(certPath: string): Promise<string | undefined> {
  try {
    const cn = pemCertificateCn((await readRegularFile(certPath, 'certificate', LIMITS.certificateBytes)).toString('latin1'));
    return cn === undefined ? undefined : `device_${cn}`;
  } catch {
    return undefined; // the full load that follows reports what is wrong with the file
  }
}

/** The token `found` in a cache file (file.ts readTrustedTokenFile) when it may be reused; otherwise a note saying why not. */
export function cachedToken(file: string, found: TrustedToken, deviceUser: string, host: string, nowMs: number): { token?: DecodedJwt; held?: DecodedJwt; note: string } {
  if (!found.token) return { note: `${file} ${found.note ?? 'holds no token'}` };
  let jwt: DecodedJwt;
  try {
    jwt = decodeJwt(found.token);
  } catch {
    return { note: `${file} does not hold a JWT` };
  }
  const verdict = reusableToken(jwt, deviceUser, host, nowMs, found.mtimeMs);
  if (verdict.reusable) return { token: jwt, held: jwt, note: `the token in ${file} is ${verdict.reason}` };
  // Past its half-life but still valid for this device: not reused, yet what a refresh must not replace
  // with an older token, and whose expiry watch reports.
  const stillHeld = jwt.claims.sub === deviceUser && (typeof jwt.claims.iss !== 'string' || jwt.claims.iss === host) && (verdict.times.expiresAt ?? 0) > nowMs / 1000;
  return { ...(stillHeld ? { held: jwt } : {}), note: `the token in ${file} was not reused: it ${verdict.reason}` };
}

/**
 * The token `found` in the file when it is for the same device and issuer as `fresh`, still valid on the
 * platform's clock, and expires after `fresh`: a platform node answering with an older token must not replace it.
 */
export function longerLivedToken(found: TrustedToken, fresh: DecodedJwt, offset: ClockOffset | undefined, nowMs: number): DecodedJwt | undefined {
  if (!found.token || found.token === fresh.token) return undefined;
  let jwt: DecodedJwt;
  try {
    jwt = decodeJwt(found.token);
  } catch {
    return undefined;
  }
  if (jwt.claims.sub !== fresh.claims.sub || jwt.claims.iss !== fresh.claims.iss) return undefined;
  const kept = tokenTimes(jwt.claims).expiresAt;
  const sent = tokenTimes(fresh.claims).expiresAt;
  return kept !== undefined && sent !== undefined && kept > platformNowSeconds(nowMs, offset) && sent < kept ? jwt : undefined;
}

/**
 * One token request with the identity given and the trust read now: what fetch and every watch refresh
 * do. `held` is the token already held (watch): a different token then counts as newly issued for the
 * clock estimate. A token that has expired on the platform's clock is NO_TOKEN, never used. The caller
 * reports a clock skew (token/clock.ts skewText): fetch as a warning, watch as an event.
 */
export async function requestToken(settings: Settings, identity: ClientIdentity, passwords: PasswordBook, io: TokenSourceIo, held?: DecodedJwt, prepared?: PreparedTls): Promise<FetchedToken> {
  const endpoint = requireEndpoint(settings);
  // The network stack is loaded only now: a cache hit never pays for it.
  const [{ postTokenRequest }, { tokenFromResponse }] = await Promise.all([import('../platform/request.js'), import('./answer.js')]);
  const { trust, context, proxy } = prepared ?? (await prepareTls(settings, identity, passwords, io));
  io.progress(`POST ${endpoint.href} as ${subjectCn(identity.chain[0])} (${identity.source})${proxy ? ` through ${proxy.shown}` : ''}`);
  const raw = await postTokenRequest({
    endpoint,
    identity,
    trust,
    context,
    chainHeader: settings.chainHeader,
    timeoutMs: settings.timeoutMs,
    signal: io.signal,
    userAgent: io.userAgent,
    now: () => io.now(),
    proxy,
  });
  io.progress(`HTTP ${raw.status} over ${raw.tlsVersion ?? 'TLS'}`);
  const token = tokenFromResponse(raw, endpoint, { identity, now: io.now() });
  const times = tokenTimes(token.claims);
  const offset = estimateOffset(raw, times.issuedAt, held !== undefined && held.token !== token.token);
  if (times.expiresAt !== undefined && times.expiresAt <= platformNowSeconds(raw.receivedAt, offset)) {
    throw new C8yError('NO_TOKEN', { url: endpoint.href, status: raw.status, reason: `the token expired at ${isoSeconds(times.expiresAt * 1000)} on the platform's clock` });
  }
  const fetched: FetchedToken = { token, receivedAt: raw.receivedAt };
  if (offset) fetched.offset = offset;
  if (raw.tlsVersion) fetched.tlsVersion = raw.tlsVersion;
  return fetched;
}
