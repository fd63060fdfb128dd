/**
 * The one HTTPS request: POST /devicecontrol/deviceAccessToken over mutual TLS, exactly as cumulocity.md
 * says (empty body, Accept: application/json, no Authorization, leaf + intermediates in the handshake,
 * X-Ssl-Cert-Chain per mode), with a whole-request timeout, a capped body and no redirects followed.
 * Network and TLS failures become C8yErrors with the class a script can branch on; once an answer has
 * begun, a broken connection is a truncated answer (retryable), never a refused certificate.
 */
import { request as httpsRequest } from 'node:https';
import type { SecureContext, TLSSocket } from 'node:tls';
import { abortError, C8yError, type ErrorFacts } from '../errors.js';
import { CHAIN_HEADER, chainHeaderValue } from './chain-header.js';
import { deviceSecureContext, platformTlsOptions } from './tls.js';
import { safeTimeout } from '../time/timer.js';
import type { ChainHeaderMode } from './chain-header.js';
import type { ClientIdentity } from '../credentials/identity.js';
import type { Trust } from '../credentials/truststore.js';
import type { ProxyRoute } from './proxy/agent.js';
import { watchTunnel } from './proxy/watch.js';
import { UNTRUSTED_CERT_CODES } from './tls.js';
import { localCertificateCause, type SentIdentity } from './local-cause.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface TokenRequest {
  endpoint: URL;
  identity: ClientIdentity;
  trust: Trust;
  /** The device's TLS context (made from identity and trust when not given). */
  context?: SecureContext | undefined;
  chainHeader: ChainHeaderMode;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  userAgent?: string | undefined;
  /** The local clock (ms since the epoch), to stamp when the answer arrived. */
  now?: () => number;
  /** Tunnel through this proxy (createProxyRoute); absent: connect directly. */
  proxy?: ProxyRoute | undefined;
}

export interface RawResponse {
  status: number;
  contentType: string;
  location?: string;
  body: Buffer;
  tlsVersion?: string;
  /** The platform's Date header, when it sent one (for the clock-skew estimate). */
  date?: string;
  /** Its Retry-After header, as sent (a 429 or 503 may say when to come back). */
  retryAfter?: string;
  /** The local clock when the answer's headers arrived, ms since the epoch. */
  receivedAt: number;
}

/** How far a connection got, for classifying its failure. */
interface Progress {
  tcpConnected: boolean;
  keysExchanged: boolean;
  tlsDone: boolean;
  responseStarted: boolean;
}

/** Sends the token request; resolves with whatever HTTP answer came, rejects with a classified C8yError. */
export function postTokenRequest(req: TokenRequest): Promise<RawResponse> {
  const { endpoint, identity, trust } = req;
  const now = req.now ?? Date.now;
  const headers: Record<string, string> = { Accept: 'application/json', 'Content-Length': '0' };
  if (req.userAgent) headers['User-Agent'] = req.userAgent;
  const chainValue = chainHeaderValue(identity.chain, req.chainHeader);
  if (chainValue) headers[CHAIN_HEADER] = chainValue;
  // Before any connection: OpenSSL refusing the credentials is a local problem, not a network one.
  const context = req.context ?? deviceSecureContext(identity, trust);

  return new Promise<RawResponse>((resolve, reject) => {
    const progress: Progress = { tcpConnected: false, keysExchanged: false, tlsDone: false, responseStarted: false };
    let settled = false;
    // Closes the connection to a proxy that has not answered CONNECT yet (once it has, the request owns it).
    const tunnelAbort = new AbortController();
    const finish = (err: C8yError | undefined, value?: RawResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (tunnel && !tunnel.answered) tunnelAbort.abort();
      if (err) {
        request.destroy();
        reject(err);
      } else resolve(value!);
    };
    // Through a proxy the platform's TLS options stay on the request: the agent applies them to the TLS
    // session it starts inside the tunnel, so the device certificate goes to the platform, end to end.
    const request = httpsRequest(endpoint, { method: 'POST', headers, ...platformTlsOptions(endpoint, context), agent: req.proxy ? req.proxy.agent(tunnelAbort.signal) : false });
    const tunnel = req.proxy && watchTunnel(req.proxy, endpoint, request, (err) => finish(err));
    const timer = safeTimeout(() => {
      finish(tunnel?.timeout(req.timeoutMs) ?? new C8yError('TIMEOUT', { url: endpoint.href, host: endpoint.host, timeoutMs: req.timeoutMs, stage: stageOf(progress) }));
    }, req.timeoutMs);
    const onAbort = (): void => finish(abortError(req.signal));
    req.signal?.addEventListener('abort', onAbort);
    if (req.signal?.aborted) onAbort();

    request.on('socket', (socket) => {
      socket.once('connect', () => (progress.tcpConnected = true));
      socket.once('secureConnect', () => (progress.tlsDone = true));
      // Key material exists once the client has sent its key exchange, and with it (TLS 1.2) its
      // certificate: a reset after this point is the server turning the certificate down. The
      // material itself is ignored, never stored.
      socket.once('keylog', () => (progress.keysExchanged = true));
    });
    request.on('error', (err) => {
      const direct = (): C8yError => classifyError(err, req, progress);
      finish(tunnel ? tunnel.classify(err, direct) : direct());
    });
    request.on('response', (res) => {
      const intercepted = tunnel?.checkResponse(res.statusCode ?? 0);
      if (intercepted) return finish(intercepted);
      progress.responseStarted = true;
      const receivedAt = now();
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          finish(new C8yError('RESPONSE_TOO_LARGE', { url: endpoint.href, status: res.statusCode ?? 0, limit: MAX_BODY_BYTES, unit: 'bytes' }));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        // 'end' also follows an aborted message in some Node versions: only a complete one is an answer.
        if (!res.complete) return finish(truncated(req, res.statusCode));
        const tls = (res.socket as TLSSocket | null)?.getProtocol?.() ?? undefined;
        const value: RawResponse = {
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks),
          receivedAt,
        };
        if (tls) value.tlsVersion = tls;
        if (typeof res.headers.date === 'string') value.date = res.headers.date;
        if (typeof res.headers['retry-after'] === 'string') value.retryAfter = res.headers['retry-after'];
        if (res.headers.location) value.location = res.headers.location;
        finish(undefined, value);
      });
      res.on('aborted', () => finish(truncated(req, res.statusCode)));
      res.on('error', () => finish(truncated(req, res.statusCode)));
    });
    request.end();
  });
}

function truncated(req: TokenRequest, status: number | undefined): C8yError {
  return new C8yError('RESPONSE_TRUNCATED', { url: req.endpoint.href, ...(status ? { status } : {}), stage: 'response' });
}

/** How far a connection got: the stage a timeout or a failure names. */
export function stageOf(p: Progress): NonNullable<ErrorFacts['stage']> {
  if (p.responseStarted) return 'response';
  if (p.tlsDone) return 'after-handshake';
  if (p.tcpConnected) return 'handshake';
  return 'connect';
}

/**
 * Turns a Node network/TLS error into a classified C8yError. `identity`: the device certificate that was
 * offered, if one was (a refusal then names what is wrong with it); EST enrollment offers none.
 */
export function classifyError(err: Error, req: Pick<TokenRequest, 'endpoint' | 'trust' | 'now'> & { identity?: SentIdentity | undefined }, progress: Progress): C8yError {
  const { endpoint, trust } = req;
  const nodeCode = (err as NodeJS.ErrnoException).code ?? '';
  const facts: ErrorFacts = { url: endpoint.href, host: endpoint.hostname, port: endpoint.port || '443', stage: stageOf(progress), ...(nodeCode ? { nodeCode } : {}) };
  const text = `${nodeCode} ${err.message}`;
  if (progress.responseStarted) return new C8yError('RESPONSE_TRUNCATED', facts, { cause: err });
  if (nodeCode === 'ENOTFOUND' || nodeCode === 'EAI_AGAIN' || nodeCode === 'EAI_NODATA' || nodeCode === 'EAI_NONAME') return new C8yError('DNS_FAILED', { ...facts, stage: 'dns' }, { cause: err });
  if (nodeCode === 'ECONNREFUSED') return new C8yError('CONNECTION_REFUSED', facts, { cause: err });
  if (nodeCode === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new C8yError('HOSTNAME_MISMATCH', { ...facts, reason: err.message.replace(/^Hostname\/IP does not match certificate's altnames: /, '') }, { cause: err });
  }
  if (UNTRUSTED_CERT_CODES.has(nodeCode)) return new C8yError('SERVER_UNTRUSTED', { ...facts, trust: trust.source, customTrust: trust.cas !== undefined }, { cause: err });
  const rejected = (): C8yError => new C8yError('CLIENT_CERT_REJECTED', { ...facts, ...(req.identity ? localCertificateCause(req.identity, (req.now ?? Date.now)()) : {}) }, { cause: err });
  // A TLS alert from the server during or right after the handshake: it did not accept our certificate.
  if (/alert|ERR_SSL_TLSV13_ALERT|ERR_SSL_SSLV3_ALERT|ERR_SSL_TLSV1_ALERT/i.test(text) && /certificate|unknown.ca|ALERT_UNKNOWN_CA|decrypt|handshake.failure|access.denied/i.test(text))
    return rejected();
  if (nodeCode === 'ECONNRESET' || /socket hang up/i.test(err.message)) {
    // Under TLS 1.3 the client finishes its handshake before the server has checked the client
    // certificate; a refusal then surfaces only as a reset right after it (cumulocity.md).
    if (progress.tlsDone || progress.keysExchanged) return rejected();
    return new C8yError('CONNECTION_RESET', facts, { cause: err });
  }
  if (nodeCode.startsWith('ERR_SSL') || nodeCode === 'EPROTO' || nodeCode.startsWith('ERR_TLS')) return new C8yError('TLS_FAILED', { ...facts, reason: err.message.split('\n')[0]! }, { cause: err });
  if (nodeCode === 'ETIMEDOUT') return new C8yError('TIMEOUT', facts, { cause: err });
  return new C8yError('NETWORK_FAILED', { ...facts, reason: err.message.split('\n')[0]! }, { cause: err });
}
