/**
 * A token, the way fetch (and exec) get one: the cache file while its token is before its half-life,
 * else identity and trust → one mTLS request → token (→ atomic file, → sidecar). Returns data.
 */
import type { X509Certificate } from 'node:crypto';
import { inputFiles, type Settings } from '../config/settings.js';
import { LIMITS } from '../limits.js';
import { readRegularFile } from '../files/read.js';
import { outputTarget } from '../files/target.js';
import { refuseOverlaps, type NamedFile } from '../files/overlap.js';
import { readCertificates } from '../x509/read.js';
import { tokenMeta, writeMeta } from './meta.js';
import { PasswordBook } from '../credentials/passwords.js';
import type { ClientIdentity } from '../credentials/identity.js';
import { tokenTimes, type DecodedJwt, type TokenTimes } from './jwt.js';
import { isoSeconds } from '../time/iso.js';
import { checkWritable, readTrustedTokenFile, writeTokenFile } from './file.js';
import { localMsOf, type ClockOffset } from './clock.js';
import { cachedToken, deviceUserOf, loadIdentityWithProgress, longerLivedToken, requestToken, requireEndpoint, type TokenSourceIo } from './source.js';
import { chainHeaderCertificates } from '../platform/chain-header.js';
import { dnOneLine } from '../x509/names.js';

export interface ObtainOptions {
  /** Write the token here (atomically) instead of returning it for stdout. */
  output?: string | undefined;
  /** Reuse the token in this file while it is before its half-life (default: the output file). */
  cache?: string | undefined;
  /** Always ask the platform, even when the cached token is still before its half-life. */
  force?: boolean | undefined;
  /** Also write the metadata sidecar here. */
  meta?: string | undefined;
}

/** Where the token came from: the platform (a new one, or the same as the one held), or the cache file. */
/** new, same (as in the file), reused (no request), older (the platform sent an older token; the file's was kept). */
export type TokenState = 'new' | 'same' | 'reused' | 'older';

export interface ObtainedToken {
  token: DecodedJwt;
  times: TokenTimes;
  endpoint: URL;
  /** The tenant URL as the user gave it (an explicit port kept). */
  tenant: URL;
  identitySource: string;
  /** Subjects of the certificates sent in X-Ssl-Cert-Chain. */
  chainHeaderSubjects: string[];
  tlsVersion?: string;
  /** The file written, when -o was given. */
  written?: string;
  source: 'platform' | 'cache';
  state: TokenState;
  /** Why the cached token was (not) used, when there was one. */
  cacheNote?: string;
  /** The platform's clock against this device's, when the answer said. */
  offset?: ClockOffset;
}

/** Gets a device token: from the cache file while it is fresh, else from the platform. */
export async function obtainToken(settings: Settings, options: ObtainOptions, io: TokenSourceIo): Promise<ObtainedToken> {
  const endpoint = requireEndpoint(settings);
  const tenant = settings.tenant!;
  // Fail on an output that cannot be written, or that is a file read here, before spending a request on it.
  refuseOverlaps(outputFiles(options), inputFiles(settings));
  if (options.output) checkWritable(options.output);
  if (options.cache && options.cache !== options.output) checkWritable(options.cache);
  if (options.meta) outputTarget(options.meta);
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  let identity: ClientIdentity | undefined;
  const cacheFile = options.cache ?? options.output;
  // The file is read once: for a token to reuse, to tell a new token from the same, and to keep a
  // longer-lived one than the platform's answer.
  const found = cacheFile ? await readTrustedTokenFile(cacheFile) : undefined;
  let cacheNote: string | undefined;
  if (cacheFile && found && !options.force) {
    const device = await deviceUserOf(settings, passwords, io);
    identity = device.identity;
    const cached = cachedToken(cacheFile, found, device.deviceUser, endpoint.hostname, io.now());
    if (cached.token) {
      io.progress(`reusing the token in ${cacheFile}: ${cached.note}`);
      const result: ObtainedToken = {
        token: cached.token,
        times: tokenTimes(cached.token.claims),
        endpoint,
        tenant,
        identitySource: identity?.source ?? settings.cert!,
        chainHeaderSubjects: [],
        source: 'cache',
        state: 'reused',
        cacheNote: cached.note,
      };
      if (options.output) {
        // The output file is the cache file, or gets the cached token too.
        if (options.output !== cacheFile) await writeTokenFile(options.output, cached.token.token);
        result.written = options.output;
      }
      if (options.meta) await writeMeta(options.meta, tokenMeta(cached.token, { endpoint, certificate: identity?.chain[0] ?? (await firstCertificate(settings)), source: 'cache' }));
      return result;
    }
    cacheNote = cached.note;
  }
  identity ??= await loadIdentityWithProgress(settings, passwords, io);
  const fetched = await requestToken(settings, identity, passwords, io);
  // An older token than the valid one in the file (a platform node behind the others) never replaces it:
  // the file's token is the answer, and nothing is written.
  const kept = found ? longerLivedToken(found, fetched.token, fetched.offset, io.now()) : undefined;
  if (kept) {
    io.warn(`the platform answered with a token that expires before the one in ${cacheFile} (${isoSeconds(tokenTimes(fetched.token.claims).expiresAt! * 1000)}); the file's token is kept.`);
    return {
      token: kept,
      times: tokenTimes(kept.claims),
      endpoint,
      tenant,
      identitySource: identity.source,
      chainHeaderSubjects: [],
      source: 'cache',
      state: 'older',
      ...(options.output ? { written: options.output } : {}),
    };
  }
  const { token } = fetched;
  const times = tokenTimes(token.claims);
  const result: ObtainedToken = {
    token,
    times,
    endpoint,
    tenant,
    identitySource: identity.source,
    chainHeaderSubjects: chainHeaderCertificates(identity.chain, settings.chainHeader).map((c) => dnOneLine(c.subject)),
    source: 'platform',
    state: found?.token === token.token ? 'same' : 'new',
  };
  if (cacheNote) result.cacheNote = cacheNote;
  if (fetched.tlsVersion) result.tlsVersion = fetched.tlsVersion;
  if (fetched.offset) result.offset = fetched.offset;
  // The file's time is when the token was issued, on this device's clock: its age is then right even
  // when the clock is off (token/refresh-policy.ts).
  const issuedLocal = times.issuedAt !== undefined ? localMsOf(times.issuedAt, fetched.offset) : fetched.receivedAt;
  if (options.output) {
    await writeTokenFile(options.output, token.token, issuedLocal);
    result.written = options.output;
  }
  if (options.cache && options.cache !== options.output) await writeTokenFile(options.cache, token.token, issuedLocal);
  if (options.meta) await writeMeta(options.meta, tokenMeta(token, { endpoint, certificate: identity.chain[0], offset: fetched.offset, source: 'platform' }));
  return result;
}

/** The files fetch writes: -o, --cache (when it is another file) and --meta. */
function outputFiles(options: ObtainOptions): NamedFile[] {
  const files: NamedFile[] = [];
  if (options.output) files.push({ path: options.output, option: '-o' });
  if (options.cache && options.cache !== options.output) files.push({ path: options.cache, option: '--cache' });
  if (options.meta) files.push({ path: options.meta, option: '--meta' });
  return files;
}

/** The device certificate of PEM credentials, for the sidecar of a cache hit (which did not load the identity). */
async function firstCertificate(settings: Settings): Promise<X509Certificate | undefined> {
  if (!settings.cert) return undefined;
  return readCertificates(await readRegularFile(settings.cert, 'certificate', LIMITS.certificateBytes), settings.cert, 'certificate')[0];
}
