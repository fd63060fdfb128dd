/**
 * The two EST requests the platform serves (cumulocity.md): `simplereenroll` with the device token, and
 * `simpleenroll` with the device id and its one-time password. On the tenant URL's port 443 unless the URL
 * names one (not the token endpoint's 8443), TLS 1.2+, the server always verified, no redirects followed,
 * the body capped. Answers and failures become C8yErrors of the class a script can branch on; a secret
 * (token, one-time password) never appears in a message, a detail or a log line.
 */
import { request as httpsRequest, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { C8yError, type ErrorCode } from '../errors.js';
import { classifyError } from '../platform/request.js';
import { bodyExcerpt } from '../platform/token-response.js';
import { certificatesFromEstAnswer, DEFAULT_ANSWER_LIMITS, EstAnswerError } from './pkcs7.js';

/** EST is served on the tenant's normal HTTPS port. */
export const EST_PORT = 443;
/** First certificate of a device (HTTP Basic with the one-time password). */
export const SIMPLE_ENROLL_PATH = '/.well-known/est/simpleenroll';
/** Renewal (Bearer device token). */
export const SIMPLE_REENROLL_PATH = '/.well-known/est/simplereenroll';

/**
 * The EST base of a tenant URL as the user gave it (with or without scheme, port or path):
 * https://HOST[:PORT]/ with port 443 unless the URL names one. Give it the raw configured URL: the token
 * endpoint URL has 8443 filled in already, and EST must not inherit that.
 */
export function estBaseUrl(raw: string, source: string): URL {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new C8yError('BAD_URL', `The tenant URL "${raw}" (from ${source}) is not a URL.`, { hint: 'Give it like https://t12345.eu-latest.cumulocity.com' });
  }
  if (url.protocol !== 'https:') {
    throw new C8yError('BAD_URL', `The tenant URL "${raw}" (from ${source}) uses ${url.protocol.replace(':', '')}; certificate requests go over HTTPS only.`, { hint: 'Use an https:// URL.' });
  }
  if (url.username || url.password) {
    throw new C8yError('BAD_URL', `The tenant URL from ${source} carries user credentials; EST authenticates with the device token or the one-time password only.`, {
      hint: 'Remove user:password@ from the URL.',
    });
  }
  // URL drops :443 itself for https; any other explicit port stays.
  return new URL('/', url.origin);
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
   * The seam for a proxy: an https.Agent that makes the connection (e.g. one tunnelling through HTTP
   * CONNECT). TLS stays end to end and is verified as without it. Default: a fresh connection, no pooling.
   */
  agent?: Agent | undefined;
  userAgent?: string | undefined;
}

/** Options of simpleReenroll. */
export interface ReenrollOptions extends EstCommon {
  /** A device access token (deviceAccessToken), sent as Bearer. */
  token: string;
}

/** Options of simpleEnroll. */
export interface EnrollOptions extends EstCommon {
  /** The device id: the CN of the request and the Basic user name (no tenant prefix). */
  deviceId: string;
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
  if (!/^[\x21-\x7e]+$/.test(options.token)) {
    throw new C8yError('TOKEN_MALFORMED', 'The device token for the renewal is empty or contains characters a header cannot carry.', {
      hint: 'Fetch a new token (c8ytoken fetch) and retry.',
    });
  }
  return estPost('simplereenroll', options, `Bearer ${options.token}`);
}

/** POST /.well-known/est/simpleenroll with HTTP Basic <device id>:<one-time password>. */
export async function simpleEnroll(options: EnrollOptions): Promise<EstAnswer> {
  if (options.deviceId === '' || /[:\u0000-\u001f\u007f-\u009f]/.test(options.deviceId)) {
    throw new C8yError('USAGE', `The device id "${sanitize(options.deviceId, 80)}" cannot be used: it must be non-empty, without ":" or control characters.`, {
      hint: 'Give the device id as registered in the tenant.',
    });
  }
  if (options.oneTimePassword === '' || /[\u0000-\u001f\u007f-\u009f]/.test(options.oneTimePassword)) {
    throw new C8yError('USAGE', 'The one-time password is empty or contains control characters (a trailing newline of its file is dropped, others are not).', {
      hint: 'Check the one-time password file holds the password registered for the device (8–32 URL-safe characters).',
    });
  }
  const basic = Buffer.from(`${options.deviceId}:${options.oneTimePassword}`, 'utf8').toString('base64');
  return estPost('simpleenroll', options, `Basic ${basic}`);
}

function estPost(operation: Operation, options: EstCommon, authorization: string): Promise<EstAnswer> {
  const url = new URL(operation === 'simplereenroll' ? SIMPLE_REENROLL_PATH : SIMPLE_ENROLL_PATH, options.tenantUrl.origin);
  const body = Buffer.from(options.csrDer.toString('base64'), 'latin1');
  const headers: Record<string, string> = {
    Authorization: authorization,
    'Content-Type': 'application/pkcs10',
    'Content-Transfer-Encoding': 'base64',
    'Content-Length': String(body.length),
  };
  // No Accept header: the platform's default answer is PKCS#7 (as thin-edge.io and go-c8y receive it);
  // the reader takes PEM too.
  if (options.userAgent) headers['User-Agent'] = options.userAgent;
  const trust = { cas: options.trustCas ? [...options.trustCas] : undefined, source: options.trustSource ?? (options.trustCas ? 'the truststore' : "Node's built-in root CAs"), warnings: [] };
  const maxBytes = DEFAULT_ANSWER_LIMITS.maxBytes;

  return new Promise<EstAnswer>((resolve, reject) => {
    const state = { tcpConnected: false, keysExchanged: false, tlsDone: false };
    let settled = false;
    const finish = (err: C8yError | undefined, value?: EstAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) {
        request.destroy();
        reject(err);
      } else resolve(value!);
    };
    const request = httpsRequest(url, {
      method: 'POST',
      headers,
      ...(trust.cas ? { ca: trust.cas.map((c) => c.toString()) } : {}),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      agent: options.agent ?? false,
    });
    const timer = setTimeout(() => {
      finish(
        new C8yError('TIMEOUT', `No answer from ${url.origin} to the ${operation} request within ${options.timeoutMs / 1000} s${state.tlsDone ? '' : state.tcpConnected ? ' (the TLS handshake did not finish)' : ' (no connection)'}.`, {
          hint: `Check the network path to port ${url.port || EST_PORT}, or raise --timeout.`,
          details: { url: url.href },
        }),
      );
    }, options.timeoutMs);
    const onAbort = (): void => finish(new C8yError('INTERRUPTED', 'Interrupted.'));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort);

    request.on('socket', (socket) => {
      socket.once('connect', () => (state.tcpConnected = true));
      socket.once('secureConnect', () => (state.tlsDone = true));
    });
    request.on('error', (err) => finish(networkError(err, url, state, trust)));
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          finish(
            new C8yError('RESPONSE_TOO_LARGE', `${url.href} answered HTTP ${res.statusCode} with a body over ${maxBytes / 1024} KiB; an EST answer is a few KiB.`, {
              hint: 'Check the URL points at the Cumulocity tenant, not a proxy or another service.',
              details: { url: url.href, status: res.statusCode },
            }),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const contentType = String(res.headers['content-type'] ?? '');
        const answerBody = Buffer.concat(chunks);
        if (status === 202 && answerBody.length === 0) {
          // RFC 7030 4.2.3: accepted, no certificate yet; ask again later (enroll's polling does).
          const retryAfter = res.headers['retry-after'];
          finish(
            new C8yError('EST_SERVER_ERROR', `${url.href} answered HTTP 202: the request is pending and there is no certificate yet${retryAfter ? ` (retry after ${sanitize(String(retryAfter), 40)})` : ''}.`, {
              hint: 'Run again later; nothing was changed.',
              details: { url: url.href, status, operation },
            }),
          );
          return;
        }
        if (status >= 200 && status < 300) {
          try {
            const certificates = certificatesFromEstAnswer(answerBody);
            const tls = (res.socket as TLSSocket | null)?.getProtocol?.() ?? undefined;
            finish(undefined, { certificates, status, contentType, url, ...(tls ? { tlsVersion: tls } : {}) });
          } catch (err) {
            finish(err instanceof EstAnswerError ? badAnswer(url, status, contentType, answerBody, err) : new C8yError('INTERNAL', `Reading the answer of ${url.href} failed unexpectedly.`, { cause: err }));
          }
          return;
        }
        finish(estStatusError(operation, url, status, answerBody, res.headers.location));
      });
      res.on('error', (err) => finish(networkError(err, url, state, trust)));
    });
    request.end(body);
  });
}

function badAnswer(url: URL, status: number, contentType: string, body: Buffer, err: EstAnswerError): C8yError {
  const printable = /^[\x09\x0a\x0d\x20-\x7e]*$/.test(body.subarray(0, 512).toString('latin1'));
  const excerpt = printable ? bodyExcerpt(body) : '';
  return new C8yError('EST_BAD_RESPONSE', `${url.href} answered HTTP ${status}${contentType ? ` (${sanitize(contentType, 80)})` : ''} without a readable certificate: ${err.problem}${excerpt ? `. The answer began: "${excerpt}"` : ''}.`, {
    hint: 'Nothing was changed. Check the URL is the tenant (not a proxy or login page); retry later.',
    details: { url: url.href, status, bytes: body.length },
  });
}

/** The classified error of a non-2xx EST answer, with the platform's own error and message, sanitized. */
export function estStatusError(operation: Operation, url: URL, status: number, body: Buffer, location?: string): C8yError {
  const platform = platformMessage(body);
  const said = platform ? ` The platform said: ${platform}.` : bodyExcerpt(body) ? ` The answer was: "${bodyExcerpt(body)}".` : '';
  const details: Record<string, unknown> = { url: url.href, status, operation };
  if (platform) details.platform = platform;
  const enroll = operation === 'simpleenroll';
  const make = (code: ErrorCode, what: string, hint: string): C8yError => new C8yError(code, `${url.href} answered HTTP ${status}: ${what}.${said}`, { hint, details });
  if (status >= 300 && status < 400) {
    return new C8yError('EST_REFUSED', `${url.href} answered HTTP ${status}, a redirect${location ? ` to ${sanitize(location, 200)}` : ''}; c8ytoken does not follow redirects with device credentials.`, {
      hint: 'Use the tenant URL itself (its https:// address, without a path).',
      details,
    });
  }
  if (status === 400) {
    return make('EST_CSR_REJECTED', 'the certificate request was refused', 'The platform refuses requests for another CN, for CA:TRUE, or for keys it does not accept. Nothing was changed.');
  }
  if (status === 401) {
    return enroll
      ? make(
          'EST_UNAUTHORIZED',
          'the device id and one-time password were not accepted (the device is not registered yet, or the password is wrong or used up)',
          'Register the device in the tenant with this one-time password (Device management, Registration, Cumulocity CA), then run again; enroll waits for the registration with --max-wait.',
        )
      : make('EST_UNAUTHORIZED', 'the device token was not accepted for the renewal', 'Run again (a new token is fetched); if it persists, check the device is still registered and its certificate comes from the tenant\'s certificate authority.');
  }
  if (status === 403) {
    return enroll
      ? make('EST_FORBIDDEN', 'the enrollment is not allowed', 'Check the device id is the one registered with this one-time password. Nothing was changed.')
      : make('EST_FORBIDDEN', 'the renewal is not allowed (the request\'s CN must be the device\'s own, device_<CN>)', 'Renew the configured device\'s own certificate; check the certificate was issued by the tenant\'s certificate authority. Nothing was changed.');
  }
  if (status === 404) {
    return make('EST_REFUSED', `there is no ${operation} endpoint`, 'The Cumulocity certificate authority may be off on this tenant, or the URL is not the tenant\'s: check the URL and ask the platform administrator.');
  }
  if (status === 429 || status >= 500) {
    return make('EST_SERVER_ERROR', status === 429 ? 'too many requests' : 'the platform failed', 'Nothing was changed. Retry later; a platform error is usually temporary.');
  }
  return make('EST_REFUSED', `the ${operation} request was refused`, 'Nothing was changed. Check the tenant URL and the device\'s registration.');
}

/** "error: message" from the platform's JSON error, control characters replaced and the length capped. */
function platformMessage(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { error, message } = parsed as Record<string, unknown>;
    const parts = [error, message].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
    return parts.length ? sanitize(parts.join(': '), 300) : undefined;
  } catch {
    return undefined;
  }
}

/** Text from the platform, safe for a terminal: no control characters, at most `max` characters. */
export function sanitize(text: string, max: number): string {
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?').replace(/\s+/g, ' ').trim();
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

function networkError(err: Error, url: URL, state: { tcpConnected: boolean; keysExchanged: boolean; tlsDone: boolean }, trust: { cas?: X509Certificate[] | undefined; source: string; warnings: string[] }): C8yError {
  const base = classifyError(err, url, state, trust.cas ? { cas: trust.cas, source: trust.source, warnings: [] } : { source: trust.source, warnings: [] });
  const details = { ...base.details, operation: url.pathname };
  // EST sends no client certificate, so a reset is never "the certificate was refused".
  if (base.code === 'CLIENT_CERT_REJECTED' || base.code === 'CONNECTION_RESET') {
    return new C8yError('CONNECTION_RESET', `${url.origin} closed the connection${state.tlsDone ? ' after the TLS handshake' : state.tcpConnected ? ' during the TLS handshake' : ''}.`, {
      hint: 'Retry later; if it persists, a proxy or firewall may be cutting TLS on that port.',
      cause: err,
      details,
    });
  }
  const port = url.port || String(EST_PORT);
  const hints: Partial<Record<ErrorCode, string>> = {
    CONNECTION_REFUSED: `Nothing listens on port ${port} there. Certificate requests go to the tenant's port 443 (not the token endpoint's 8443) unless the URL names a port.`,
    TLS_FAILED: `Check the URL points at the tenant's HTTPS port (${port}) and that a proxy does not intercept TLS.`,
  };
  return new C8yError(base.code, base.message, { hint: hints[base.code] ?? base.hint, cause: err, details });
}
