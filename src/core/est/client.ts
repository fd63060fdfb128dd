/**
 * The two EST requests the platform serves (cumulocity.md): `simplereenroll` with the device token, and
 * `simpleenroll` with the device id and its one-time password. On the tenant URL's port 443 unless the URL
 * names one (not the token endpoint's 8443), TLS 1.2+, the server always verified, no redirects followed,
 * the body capped. Answers and failures become C8yErrors of the class a script can branch on; a secret
 * (token, one-time password) never appears in a message, a detail or a log line.
 */
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { abortError, C8yError, type ErrorCode, type ErrorFacts } from '../errors.js';
import { classifyError } from '../platform/request.js';
import type { ProxyRoute } from '../platform/proxy/agent.js';
import { watchTunnel } from '../platform/proxy/watch.js';
import { bodyExcerpt, platformError } from '../platform/token-response.js';
import type { ClientIdentity } from '../credentials/identity.js';
import { BUILT_IN_ROOTS } from '../credentials/truststore.js';
import { shownText } from '../text.js';
import { safeTimeout } from '../time/timer.js';
import { certificatesFromEstAnswer, DEFAULT_ANSWER_LIMITS, EstAnswerError } from './pkcs7.js';

/** EST is served on the tenant's normal HTTPS port. */
export const EST_PORT = 443;
/** First certificate of a device (HTTP Basic with the one-time password). */
export const SIMPLE_ENROLL_PATH = '/.well-known/est/simpleenroll';
/** Renewal (Bearer device token). */
export const SIMPLE_REENROLL_PATH = '/.well-known/est/simplereenroll';

/**
 * The EST base of the tenant URL (settings.tenant, from endpoint.ts tenantUrl): https://HOST[:PORT]/ with
 * port 443 unless the URL names one. Never the token endpoint's URL, which has 8443 filled in.
 */
export function estBaseUrl(tenant: URL): URL {
  // URL drops :443 itself for https; any other explicit port stays.
  return new URL('/', tenant.origin);
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
  if (!/^[\x21-\x7e]+$/.test(options.token)) throw new C8yError('TOKEN_MALFORMED', { problem: 'header', where: 'for the renewal' });
  return estPost('simplereenroll', options, `Bearer ${options.token}`);
}

/** POST /.well-known/est/simpleenroll with HTTP Basic <device id>:<one-time password>. */
export async function simpleEnroll(options: EnrollOptions): Promise<EstAnswer> {
  // eslint-disable-next-line no-control-regex
  if (options.deviceId === '' || /[:\u0000-\u001f\u007f-\u009f]/.test(options.deviceId)) {
    throw new C8yError('USAGE', { option: '--device-id', value: options.deviceId, reason: 'cannot be used: it must be non-empty, without ":" or control characters' });
  }
  // eslint-disable-next-line no-control-regex
  if (options.oneTimePassword === '' || /[\u0000-\u001f\u007f-\u009f]/.test(options.oneTimePassword)) {
    // The password itself is never a fact.
    throw new C8yError('USAGE', { option: 'The one-time password', reason: 'is empty or contains control characters (one trailing newline of its file is dropped, other ones are not)' });
  }
  const basic = Buffer.from(`${options.deviceId}:${options.oneTimePassword}`, 'utf8').toString('base64');
  return estPost('simpleenroll', options, `Basic ${basic}`);
}

/** How far a connection got, for classifying its failure (as platform/request.ts). */
interface Progress {
  tcpConnected: boolean;
  keysExchanged: boolean;
  tlsDone: boolean;
  responseStarted: boolean;
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
  const cas = options.trustCas ? [...options.trustCas] : undefined;
  const trust = { ...(cas ? { cas } : {}), source: options.trustSource ?? (cas ? 'the truststore' : BUILT_IN_ROOTS) };
  const maxBytes = DEFAULT_ANSWER_LIMITS.maxBytes;
  const base: ErrorFacts = { url: url.href, host: url.hostname, port: url.port || String(EST_PORT), operation };

  return new Promise<EstAnswer>((resolve, reject) => {
    const progress: Progress = { tcpConnected: false, keysExchanged: false, tlsDone: false, responseStarted: false };
    let settled = false;
    // Closes the connection to a proxy that has not answered CONNECT yet (once it has, the request owns it).
    const tunnelAbort = new AbortController();
    const finish = (err: C8yError | undefined, value?: EstAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (tunnel && !tunnel.answered) tunnelAbort.abort();
      if (err) {
        request.destroy();
        reject(err);
      } else resolve(value!);
    };
    const request = httpsRequest(url, {
      method: 'POST',
      headers,
      ...(cas ? { ca: cas.map((c) => c.toString()) } : {}),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      agent: options.proxy ? options.proxy.agent(tunnelAbort.signal) : false,
    });
    // Failures before the proxy opened the tunnel, or its refusal, are the proxy's (proxy/watch.ts).
    const tunnel = options.proxy && watchTunnel(options.proxy, url, request, (err) => finish(withOperation(err, operation)), false);
    const timer = safeTimeout(() => {
      const proxyTimeout = tunnel?.timeout(options.timeoutMs);
      if (proxyTimeout) return finish(withOperation(proxyTimeout, operation));
      finish(
        new C8yError('TIMEOUT', {
          ...base,
          timeoutMs: options.timeoutMs,
          stage: progress.responseStarted ? 'response' : progress.tlsDone ? 'after-handshake' : progress.tcpConnected ? 'handshake' : 'connect',
        }),
      );
    }, options.timeoutMs);
    const onAbort = (): void => finish(abortError(options.signal));
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();

    request.on('socket', (socket) => {
      socket.once('connect', () => (progress.tcpConnected = true));
      socket.once('secureConnect', () => (progress.tlsDone = true));
    });
    request.on('error', (err) => {
      const direct = (): C8yError => networkError(err, url, progress, trust, operation);
      finish(tunnel ? withOperation(tunnel.classify(err, direct), operation) : direct());
    });
    request.on('response', (res) => {
      progress.responseStarted = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          finish(new C8yError('RESPONSE_TOO_LARGE', { ...base, status: res.statusCode ?? 0, limit: maxBytes, unit: 'bytes' }));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (!res.complete) return finish(new C8yError('RESPONSE_TRUNCATED', { ...base, ...(res.statusCode ? { status: res.statusCode } : {}), stage: 'response' }));
        const status = res.statusCode ?? 0;
        const contentType = String(res.headers['content-type'] ?? '');
        const answerBody = Buffer.concat(chunks);
        if (status === 202 && answerBody.length === 0) {
          // RFC 7030 4.2.3: accepted, no certificate yet; ask again later (enroll's polling does).
          const retryAfter = res.headers['retry-after'];
          finish(new C8yError('EST_PENDING', { ...base, status, ...(retryAfter ? { retryAfter: shownText(String(retryAfter), 40) } : {}) }));
          return;
        }
        if (status >= 200 && status < 300) {
          try {
            const certificates = certificatesFromEstAnswer(answerBody);
            const tls = (res.socket as TLSSocket | null)?.getProtocol?.() ?? undefined;
            finish(undefined, { certificates, status, contentType, url, ...(tls ? { tlsVersion: tls } : {}) });
          } catch (err) {
            finish(
              err instanceof EstAnswerError ? badAnswer(base, status, contentType, answerBody, err) : new C8yError('INTERNAL', { detail: `reading the answer of ${url.href} failed` }, { cause: err }),
            );
          }
          return;
        }
        finish(estStatusError(operation, url, status, answerBody, res.headers.location));
      });
      res.on('aborted', () => finish(new C8yError('RESPONSE_TRUNCATED', { ...base, stage: 'response' })));
      res.on('error', () => finish(new C8yError('RESPONSE_TRUNCATED', { ...base, stage: 'response' })));
    });
    request.end(body);
  });
}

function badAnswer(base: ErrorFacts, status: number, contentType: string, body: Buffer, err: EstAnswerError): C8yError {
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

const STATUS_CODES: Record<number, ErrorCode> = { 400: 'EST_CSR_REJECTED', 401: 'EST_UNAUTHORIZED', 403: 'EST_FORBIDDEN' };

/** The classified error of a non-2xx EST answer, with the platform's own error and message, made safe to show. */
export function estStatusError(operation: Operation, url: URL, status: number, body: Buffer, location?: string): C8yError {
  const platform = platformError({ body });
  const excerpt = platform ? '' : bodyExcerpt(body);
  const facts: ErrorFacts = { url: url.href, host: url.hostname, port: url.port || String(EST_PORT), status, operation, ...(platform ? { platform } : excerpt ? { excerpt } : {}) };
  if (status >= 300 && status < 400) return new C8yError('EST_REFUSED', { ...facts, reason: 'redirect', ...(location ? { location: shownText(location, 200) } : {}) });
  const known = STATUS_CODES[status];
  if (known) return new C8yError(known, facts);
  if (status === 429 || status >= 500) return new C8yError('EST_SERVER_ERROR', facts);
  return new C8yError('EST_REFUSED', facts);
}

/** A connection failure, classified as the token request's are; EST sends no client certificate, so a reset is never a refused certificate. */
/** A proxy's error with the EST operation it interrupted. */
function withOperation(err: C8yError, operation: Operation): C8yError {
  return new C8yError(err.code, { ...err.facts, operation }, { cause: err.cause });
}

function networkError(err: Error, url: URL, progress: Progress, trust: { cas?: X509Certificate[]; source: string }, operation: Operation): C8yError {
  const noIdentity = { key: undefined, chain: [], extra: [], source: '' } as unknown as ClientIdentity;
  const base = classifyError(err, { endpoint: url, trust, identity: noIdentity }, progress);
  const facts: ErrorFacts = { ...base.facts, operation };
  if (base.code === 'CLIENT_CERT_REJECTED') return new C8yError('CONNECTION_RESET', { ...facts, stage: progress.tlsDone ? 'after-handshake' : 'handshake' }, { cause: err });
  return new C8yError(base.code, facts, { cause: err });
}
