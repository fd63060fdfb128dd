/** `c8ytoken fetch`: settings → cached token, or identity and trust → one mTLS request → token (→ atomic file). Returns data. */
import type { Settings } from '../core/config/settings.js';
import { PasswordBook } from '../core/credentials/passwords.js';
import type { ClientIdentity } from '../core/credentials/identity.js';
import { tokenTimes, type DecodedJwt, type TokenTimes } from '../core/token/jwt.js';
import { checkWritable, readTokenFile, writeTokenFile } from '../core/token/file.js';
import { localMsOf, type ClockOffset } from '../core/token/clock.js';
import { cachedToken, deviceUserOf, loadIdentityWithProgress, requestToken, requireEndpoint } from '../core/token/source.js';
import { chainHeaderCertificates } from '../core/platform/chain-header.js';
import { dnOneLine } from '../core/x509/names.js';
import type { CommandIo } from './io.js';

export interface FetchOptions {
  /** Write the token here (atomically) instead of returning it for stdout. */
  output?: string | undefined;
  /** Reuse the token in this file while it is before its half-life (default: the output file). */
  cache?: string | undefined;
  /** Always ask the platform, even when the cached token is still before its half-life. */
  force?: boolean | undefined;
}

/** Where the token came from: the platform (a new one, or the same as the one held), or the cache file. */
export type TokenState = 'new' | 'same' | 'reused';

export interface FetchResult {
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
export async function fetchCommand(settings: Settings, options: FetchOptions, io: CommandIo): Promise<FetchResult> {
  const endpoint = requireEndpoint(settings);
  const tenant = settings.tenant!;
  // Fail on an output that cannot be written before spending a request on it.
  if (options.output) await checkWritable(options.output);
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  let identity: ClientIdentity | undefined;
  const cacheFile = options.cache ?? options.output;
  let cacheNote: string | undefined;
  if (cacheFile && !options.force) {
    const device = await deviceUserOf(settings, passwords, io);
    identity = device.identity;
    const cached = await cachedToken(cacheFile, device.deviceUser, endpoint.hostname, io.now());
    if (cached.token) {
      io.progress(`reusing the token in ${cacheFile}: ${cached.note}`);
      const result: FetchResult = {
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
      return result;
    }
    cacheNote = cached.note;
  }
  const before = cacheFile ? await readTokenFile(cacheFile) : undefined;
  identity ??= await loadIdentityWithProgress(settings, passwords, io);
  const fetched = await requestToken(settings, identity, passwords, io);
  const { token } = fetched;
  const times = tokenTimes(token.claims);
  const result: FetchResult = {
    token,
    times,
    endpoint,
    tenant,
    identitySource: identity.source,
    chainHeaderSubjects: chainHeaderCertificates(identity.chain, settings.chainHeader).map((c) => dnOneLine(c.subject)),
    source: 'platform',
    state: before === token.token ? 'same' : 'new',
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
  return result;
}
