/** `c8ytoken fetch`: settings → identity and trust → one mTLS request → token (→ atomic file). Returns data. */
import { C8yError } from '../core/errors.js';
import { loadSettings, type ConnectionFlags, type Settings } from '../core/settings.js';
import { PasswordBook, type SecretPrompt } from '../core/passwords.js';
import { loadIdentity, type ClientIdentity } from '../core/identity.js';
import { loadTrust } from '../core/truststore.js';
import { postTokenRequest } from '../core/request.js';
import { tokenFromResponse } from '../core/token-response.js';
import { checkWritable, writeTokenFile } from '../core/token-file.js';
import { tokenTimes, type DecodedJwt, type TokenTimes } from '../core/jwt.js';
import { chainHeaderCertificates } from '../core/chain-header.js';

export interface FetchOptions {
  connection: ConnectionFlags;
  /** Write the token here (atomically) instead of returning it for stdout. */
  output?: string | undefined;
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
}

/** Gets a device token from the platform. */
export async function fetchCommand(options: FetchOptions, io: CommandIo): Promise<FetchResult> {
  const settings = await loadSettings({ flags: options.connection, env: io.env, cwd: io.cwd });
  for (const w of settings.warnings) io.warn(w);
  const endpoint = requireEndpoint(settings);
  // Fail on an unwritable output before spending a request on it.
  if (options.output) await checkWritable(options.output);
  const { identity, trust } = await loadCredentials(settings, io);
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
  const result: FetchResult = {
    token,
    times: tokenTimes(token.claims),
    endpoint,
    identitySource: identity.source,
    chainHeaderSubjects: chainHeaderCertificates(identity.chain, settings.chainHeader).map((c) => oneLine(c.subject)),
  };
  if (raw.tlsVersion) result.tlsVersion = raw.tlsVersion;
  if (options.output) {
    await writeTokenFile(options.output, token.token);
    result.written = options.output;
  }
  return result;
}

/** The endpoint, or the configuration error that says how to give one. */
export function requireEndpoint(settings: Settings): URL {
  if (settings.endpoint) return settings.endpoint;
  throw new C8yError('NO_URL', 'No tenant URL is configured.', {
    hint: 'Give --url https://TENANT.cumulocity.com, set C8Y_HOST, or put "url" in .c8ytokenrc.',
  });
}

/** Key, chain and trust, with each password asked for at most once and only when needed. */
export async function loadCredentials(settings: Settings, io: Pick<CommandIo, 'prompt' | 'warn' | 'progress'>): Promise<{ identity: ClientIdentity; trust: Awaited<ReturnType<typeof loadTrust>> }> {
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  const identity = await loadIdentity(settings, passwords);
  io.progress(`identity: ${identity.chain.length} certificate(s), ${identity.key.asymmetricKeyType?.toUpperCase()} key, from ${identity.source}`);
  const trust = await loadTrust(settings.truststore, passwords);
  for (const w of trust.warnings) io.warn(w);
  io.progress(`trust: ${trust.source}`);
  return { identity, trust };
}

function subjectCn(identity: ClientIdentity): string {
  const subject = identity.chain[0]?.subject ?? '';
  return /(?:^|\n)CN=([^\n]*)/.exec(subject)?.[1] ?? oneLine(subject);
}

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}
