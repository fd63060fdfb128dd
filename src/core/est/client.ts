/**
 * The two EST requests the platform serves (cumulocity.md): `simplereenroll` with the device token, and
 * `simpleenroll` with the device id and its one-time password. On the tenant URL's port 443 unless the URL
 * names one (not the token endpoint's 8443), TLS 1.2+, the server always verified, no redirects followed,
 * the body capped. Answers and failures become C8yErrors of the class a script can branch on; a secret
 * (token, one-time password) never appears in a message, a detail or a log line.
 */
import type { SecureContext } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { C8yError, isC8yError, withTravel, type EstRefusal, type EstWhere } from '../errors.js';
import { classifyError, exchange, type Seen } from '../platform/connection.js';
import type { ProxyRoute } from '../platform/proxy/agent.js';
import { MAX_EST_RETRY_AFTER_SECONDS, retryAfterSeconds } from '../platform/retry-after.js';
import { bodyExcerpt, platformError } from '../platform/token-response.js';
import type { ClientIdentity } from '../credentials/identity.js';
import { BUILT_IN_ROOTS } from '../credentials/truststore.js';
import { shownText } from '../text.js';
import type { DeviceId } from './names.js';
import { certificatesFromEstAnswer, DEFAULT_ANSWER_LIMITS, EstAnswerError } from './pkcs7.js';

/** EST is served on the tenant's normal HTTPS port. */
export const EST_PORT = 443;
/** First certificate of a device (HTTP Basic with the one-time password). */
export const SIMPLE_ENROLL_PATH = '/.well-known/est/simpleenroll';
/** Renewal (Bearer device token). */
export const SIMPLE_REENROLL_PATH = '/.well-known/est/simplereenroll';

/**
 * The EST base of the tenant URL (settings.tenant, from endpoint.ts tenantUrl): https://HOST[:PORT]/ with
 * port 443 unless the URL names one. Never the token endpoint's URL, which has 8443 filled in. An EST
 * server of its own (--est-url: a CA in front of the platform, a test server) wins over the tenant URL.
 */
export function estBaseUrl(tenant: URL, estUrl?: URL): URL {
  // URL drops :443 itself for https; any other explicit port stays.
  return new URL('/', (estUrl ?? tenant).origin);
}

/**
 * The request body as servers read it: base64 in lines of 64 characters, each ended by CRLF (RFC 2045
 * 6.8, which RFC 7030 4.2.1 names for Content-Transfer-Encoding: base64). OpenSSL's base64 BIO, which
 * libest and other servers decode with, reads nothing of a body that is one line without its end (libest
 * then answers 400 "Invalid or corrupted pkcs10 request"); CRLF rather than LF because RFC 2045 lines end
 * so, and every decoder drops the CR.
 */
export function estRequestBody(der: Buffer): Buffer {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1');
}

interface EstCommon {
  /** The EST base (estBaseUrl); only its origin is used. */
  tenantUrl: URL;
  /** The DER PKCS#10 request (csr.ts). */
  csrDer: Buffer;
  /** CAs to trust for the server certificate instead of Node's built-in roots. */
  trustCas?: readonly X509Certificate[] | undefined;
  /** Where trustCas came from, for messages (default "Node's built-in root CAs" / "the truststore"). */
  trustSource?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /**
   * The CONNECT proxy to tunnel through (decided for the EST URL, as for the token endpoint); TLS stays
   * end to end and is verified as without it. Absent: a direct connection, no pooling.
   */
  proxy?: ProxyRoute | undefined;
  userAgent?: string | undefined;
}

/** Options of simpleReenroll. */
export interface ReenrollOptions extends EstCommon {
  /** A device access token (deviceAccessToken), sent as Bearer. */
  token: string;
  /**
   * The current device certificate and key, offered in the handshake when the server asks (RFC 7030
   * 3.3.2: re-enrollment is authenticated by the certificate being renewed): the device's TLS context
   * (platform/tls.ts deviceSecureContext, which holds the trust too) and the identity it was made from.
   */
  client?: { context: SecureContext; identity: ClientIdentity } | undefined;
}

/** Options of simpleEnroll. */
export interface EnrollOptions extends EstCommon {
  /** The device id: the CN of the request and the Basic user name (no tenant prefix), checked where it entered. */
  deviceId: DeviceId;
  /** The one-time password registered for the device; sent as the Basic password, shown nowhere. */
  oneTimePassword: string;
}

/** A 2xx answer and the certificates read from it (leaf and any chain, in answer order). */
export interface EstAnswer {
  certificates: X509Certificate[];
  status: number;
  contentType: string;
  url: URL;
  tlsVersion?: string;
}

type Operation = 'simplereenroll' | 'simpleenroll';

/** POST /.well-known/est/simplereenroll with Authorization: Bearer <device token>. */
export async function simpleReenroll(options: ReenrollOptions): Promise<EstAnswer> {
  if (!/^[\x21-\x7e]+$/.test(options.token)) throw new C8yError('TOKEN_MALFORMED', { problem: 'header', where: 'for the renewal' });
  return estPost('simplereenroll', options, `Bearer ${options.token}`, options.client);
}

/** POST /.well-known/est/simpleenroll with HTTP Basic <device id>:<one-time password>. */
export async function simpleEnroll(options: EnrollOptions): Promise<EstAnswer> {
  // eslint-disable-next-line no-control-regex
  if (options.oneTimePassword === '' || /[\u0000-\u001f\u007f-\u009f]/.test(options.oneTimePassword)) {
    // The password itself is never a fact.
    throw new C8yError('USAGE', { option: 'The one-time password', reason: 'is empty or contains control characters (one trailing newline of its file is dropped, other ones are not)' });
  }
  const basic = Buffer.from(`${options.deviceId}:${options.oneTimePassword}`, 'utf8').toString('base64');
  return estPost('simpleenroll', options, `Basic ${basic}`);
}

async function estPost(operation: Operation, options: EstCommon, authorization: string, client?: ReenrollOptions['client']): Promise<EstAnswer> {
  const url = new URL(operation === 'simplereenroll' ? SIMPLE_REENROLL_PATH : SIMPLE_ENROLL_PATH, options.tenantUrl.origin);
  const body = estRequestBody(options.csrDer);
  const headers: Record<string, string> = {
    Authorization: authorization,
    'Content-Type': 'application/pkcs10',
    'Content-Transfer-Encoding': 'base64',
    'Content-Length': String(body.length),
  };
  // No Accept header: the platform's default answer is PKCS#7 (as thin-edge.io and go-c8y receive it);
  // the reader takes PEM too.
  if (options.userAgent) headers['User-Agent'] = options.userAgent;
  const cas = options.trustCas ? [...options.trustCas] : undefined;
  const trust = { ...(cas ? { cas } : {}), source: options.trustSource ?? (cas ? 'the truststore' : BUILT_IN_ROOTS) };
  const base = estWhere(url, operation);
  const answer = (await exchange({
    url,
    method: 'POST',
    headers,
    body,
    tls: {
      // The device's context carries the same trust as `ca` would, and offers its certificate when asked.
      ...(client ? { secureContext: client.context } : cas ? { ca: cas.map((c) => c.toString()) } : {}),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    proxy: options.proxy,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    maxBytes: DEFAULT_ANSWER_LIMITS.maxBytes,
    facts: base,
    // The headers (with the token or the one-time password) and the body go out only once the handshake
    // is done and the far end is known not to be an intercepting proxy: the platform's EST port asks for
    // a client certificate (without requiring it), as libest does, and a server inside the tunnel that
    // does not ask is a proxy terminating TLS, which is told nothing.
    waitForHandshake: true,
    classify: (err, seen) => networkError(err, url, seen, trust, operation, client?.identity),
    // A proxy's error names the EST operation it interrupted.
    proxyError: (err) => withTravel(err, { operation }),
  }))!;
  const { status, body: answerBody, receivedAt, tlsVersion } = answer;
  const contentType = String(answer.headers['content-type'] ?? '');
  if (status === 202) {
    // RFC 7030 4.2.3: accepted, no certificate yet; ask again after Retry-After (poll.ts). A body is
    // at most a note from the CA: a 202 never carries the certificate.
    throw new C8yError('EST_PENDING', { ...base, status, ...retryFacts(answer.headers, receivedAt) });
  }
  if (status === 200 || status === 201) {
    // 200 is RFC 7030's answer; Cumulocity's documentation shows 201.
    let certificates: X509Certificate[];
    try {
      certificates = certificatesFromEstAnswer(answerBody);
    } catch (err) {
      throw err instanceof EstAnswerError ? badAnswer(base, status, contentType, answerBody, err) : new C8yError('INTERNAL', { detail: `reading the answer of ${url.href} failed` }, { cause: err });
    }
    return { certificates, status, contentType, url, ...(tlsVersion ? { tlsVersion } : {}) };
  }
  if (status >= 200 && status < 300) {
    // 204 No Content, 203, 206...: no EST server answers a certificate so; reading one anyway would guess.
    throw new C8yError('EST_BAD_RESPONSE', { ...base, status, reason: `HTTP ${status} is not an EST answer (200, 201 or 202)`, actual: answerBody.length });
  }
  throw estStatusError(operation, url, status, answerBody, answer.headers.location, retryFacts(answer.headers, receivedAt));
}

/** A 202's, 429's or 503's Retry-After as seconds (delta-seconds or an HTTP date, read against the answer's Date). */
function retryFacts(headers: Record<string, string | string[] | undefined>, receivedAt: number): { retryAfterSeconds?: number } {
  const header = headers['retry-after'];
  const seconds = retryAfterSeconds(typeof header === 'string' ? header : undefined, typeof headers.date === 'string' ? headers.date : undefined, receivedAt, MAX_EST_RETRY_AFTER_SECONDS);
  return seconds === undefined ? {} : { retryAfterSeconds: seconds };
}

function badAnswer(base: EstWhere, status: number, contentType: string, body: Buffer, err: EstAnswerError): C8yError {
  // eslint-disable-next-line no-control-regex
  const printable = /^[\x09\x0a\x0d\x20-\x7e]*$/.test(body.subarray(0, 512).toString('latin1'));
  const excerpt = printable ? bodyExcerpt(body) : '';
  return new C8yError('EST_BAD_RESPONSE', {
    ...base,
    status,
    reason: err.problem,
    actual: body.length,
    ...(contentType ? { contentType: shownText(contentType, 80) } : {}),
    ...(excerpt ? { excerpt } : {}),
  });
}

const STATUS_CODES: Record<number, 'EST_CSR_REJECTED' | 'EST_UNAUTHORIZED' | 'EST_FORBIDDEN'> = { 400: 'EST_CSR_REJECTED', 401: 'EST_UNAUTHORIZED', 403: 'EST_FORBIDDEN' };

/** The facts of every EST error: where the request went. */
function estWhere(url: URL, operation: Operation): EstWhere {
  return { url: url.href, host: url.hostname, port: url.port || String(EST_PORT), operation };
}

/** The classified error of a non-2xx EST answer, with the platform's own error and message, made safe to show. */
export function estStatusError(operation: Operation, url: URL, status: number, body: Buffer, location?: string, retry: { retryAfterSeconds?: number } = {}): C8yError {
  const platform = platformError({ body });
  const excerpt = platform ? '' : bodyExcerpt(body);
  const facts: EstRefusal = { ...estWhere(url, operation), status, ...(platform ? { platform } : excerpt ? { excerpt } : {}) };
  if (status >= 300 && status < 400) return new C8yError('EST_REFUSED', { ...facts, reason: 'redirect', ...(location ? { location: shownText(location, 200) } : {}) });
  const known = STATUS_CODES[status];
  if (known) return new C8yError(known, facts);
  if (status === 429 || status >= 500) return new C8yError('EST_SERVER_ERROR', { ...facts, ...retry });
  return new C8yError('EST_REFUSED', facts);
}

/**
 * A connection failure, classified as the token request's are. With the device certificate offered
 * (renewal), an alert or a reset at the handshake is its refusal, as on the token endpoint. Without one
 * (enrollment), it is a server that demands a certificate when it asked for one (the token port 8443, an
 * EST server set up for certificates only): a wrong EST URL, since a first enrollment has no certificate;
 * otherwise a reset.
 */
function networkError(err: Error, url: URL, { progress, tls: seen }: Seen, trust: { cas?: X509Certificate[]; source: string }, operation: Operation, identity?: ClientIdentity): C8yError {
  const base = classifyError(err, { endpoint: url, trust, identity }, progress);
  if (isC8yError(base, 'CLIENT_CERT_REJECTED') && !identity) {
    const { stage, nodeCode } = base.facts;
    if (seen.clientCertRequested) return new C8yError('EST_CLIENT_CERT_REQUIRED', { ...estWhere(url, operation), ...(stage ? { stage } : {}), ...(nodeCode ? { nodeCode } : {}) }, { cause: err });
    return new C8yError('CONNECTION_RESET', { ...base.facts, operation, stage: progress.tlsDone ? 'after-handshake' : 'handshake' }, { cause: err });
  }
  return withTravel(base, { operation }, { cause: err });
}
