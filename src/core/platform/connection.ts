/**
 * One HTTPS exchange with the platform, as the token request, EST and the handshake probe all make it:
 * connect (directly, or through the CONNECT tunnel of a proxy, TLS end to end), a whole-exchange timeout,
 * the abort signal, a bounded answer, no redirects followed, and each failure blamed on the right party
 * (proxy/watch.ts) and classified (classifyError). What differs between the callers is a parameter: the
 * TLS options, whether the request waits for a look at the handshake before a byte of it leaves, and how
 * much of the answer is read.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { abortError, C8yError, type Endpoint } from '../errors.js';
import type { Trust } from '../credentials/truststore.js';
import { safeTimeout } from '../time/timer.js';
import type { ProxyRoute } from './proxy/agent.js';
import type { TunnelTls } from './proxy/failures.js';
import { observeTunnelTls, watchTunnel } from './proxy/watch.js';
import { localCertificateCause, type SentIdentity } from './local-cause.js';
import { UNTRUSTED_CERT_CODES } from './tls.js';

/** How far a connection got, for classifying its failure. */
export interface Progress {
  tcpConnected: boolean;
  /**
   * The client has sent its key exchange and, with it (TLS 1.2), its certificate: a reset after this point
   * is the server turning the certificate down.
   */
  keysExchanged: boolean;
  tlsDone: boolean;
  responseStarted: boolean;
}

/** What the exchange saw of the connection, for the caller's classification of a failure. */
export interface Seen {
  progress: Progress;
  /** Whether the server asked for a client certificate, and who issued its certificate (read during the handshake). */
  tls: TunnelTls;
}

export interface ExchangeOptions {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer | undefined;
  /** The TLS options of the request (context, trust, SNI, versions); through a proxy they apply inside the tunnel. */
  tls: RequestOptions;
  /** Tunnel through this proxy; absent: a direct connection, no pooling. */
  proxy?: ProxyRoute | undefined;
  /**
   * The far end always asks for a client certificate (the token endpoint requires one, EST ports ask), so a
   * handshake in the tunnel without that request is a proxy terminating TLS (watch.ts). False: the caller
   * judges that itself (the probe).
   */
  clientCertExpected?: boolean | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** The most of the answer's body that is read. */
  maxBytes: number;
  /**
   * 'whole' (default): a body over maxBytes is RESPONSE_TOO_LARGE, one cut short RESPONSE_TRUNCATED.
   * 'excerpt': the first maxBytes are enough, and an answer cut short is taken as far as it came.
   */
  read?: 'whole' | 'excerpt' | undefined;
  /** Facts every error made here carries (the URL, host and port, the EST operation). */
  facts: Endpoint;
  /**
   * Holds the request until the handshake is done and checked: nothing (no header, no token, no password)
   * is sent to a server or proxy that is refused. False (default): sent at once, an intercepting proxy
   * found at the response.
   */
  waitForHandshake?: boolean | undefined;
  /**
   * With waitForHandshake, the caller's look at the handshake: an error stops the exchange with it; false
   * closes the connection without sending (the exchange then resolves without an answer).
   */
  beforeSend?: ((socket: TLSSocket) => C8yError | boolean | undefined) | undefined;
  /** A network or TLS failure that is not the proxy's, as the caller's C8yError. */
  classify(err: Error, seen: Seen): C8yError;
  /** Adds the caller's facts to an error the proxy watch made (EST: its operation). */
  proxyError?: ((err: C8yError) => C8yError) | undefined;
  /** The local clock (ms since the epoch), to stamp when the answer arrived. */
  now?: (() => number) | undefined;
}

export interface ExchangeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** False only with read: 'excerpt', for an answer cut at maxBytes or by the server. */
  complete: boolean;
  /** The local clock when the answer's headers arrived, ms since the epoch. */
  receivedAt: number;
  tlsVersion?: string;
}

/**
 * Makes the exchange: resolves with the answer, whatever its status (undefined when beforeSend closed the
 * connection before sending); rejects with a classified C8yError.
 */
export function exchange(options: ExchangeOptions): Promise<ExchangeAnswer | undefined> {
  const { url, proxy, timeoutMs, signal, maxBytes, facts } = options;
  const excerpt = options.read === 'excerpt';
  const now = options.now ?? Date.now;
  const fromProxy = options.proxyError ?? ((e: C8yError) => e);
  return new Promise<ExchangeAnswer | undefined>((resolve, reject) => {
    const progress: Progress = { tcpConnected: false, keysExchanged: false, tlsDone: false, responseStarted: false };
    let settled = false;
    // Closes the connection to a proxy that has not answered CONNECT yet (once it has, the request owns it).
    const tunnelAbort = new AbortController();
    const finish = (err: C8yError | undefined, value?: ExchangeAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (tunnel && !tunnel.answered) tunnelAbort.abort();
      if (err || !value?.complete) request.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const request = httpsRequest(url, { method: options.method, headers: options.headers, ...options.tls, agent: proxy ? proxy.agent(tunnelAbort.signal) : false });
    // Failures before the proxy opened the tunnel, or its refusal, are the proxy's (proxy/watch.ts).
    const tunnel = proxy && watchTunnel(proxy, url, request, (err) => finish(fromProxy(err)), options.clientCertExpected ?? true);
    const seen: Seen = { progress, tls: tunnel ? tunnel.tls : {} };
    const timer = safeTimeout(() => {
      const proxyTimeout = tunnel?.timeout(timeoutMs);
      finish(proxyTimeout ? fromProxy(proxyTimeout) : new C8yError('TIMEOUT', { ...facts, timeoutMs, stage: stageOf(progress) }));
    }, timeoutMs);
    const onAbort = (): void => finish(abortError(signal));
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) onAbort();

    const send = (socket: TLSSocket): void => {
      progress.tlsDone = true;
      if (settled) return;
      const intercepted = tunnel?.checkHandshake();
      if (intercepted) return finish(fromProxy(intercepted));
      const verdict = options.beforeSend?.(socket);
      if (verdict instanceof C8yError) return finish(verdict);
      if (verdict === false) return finish(undefined);
      request.end(options.body);
    };
    request.on('socket', (raw) => {
      const socket = raw as TLSSocket;
      socket.once('connect', () => (progress.tcpConnected = true));
      // The material itself is ignored, never stored.
      socket.once('keylog', () => (progress.keysExchanged = true));
      if (!tunnel) observeTunnelTls(socket, seen.tls);
      if (!options.waitForHandshake) {
        socket.once('secureConnect', () => (progress.tlsDone = true));
        return;
      }
      // Through a proxy the socket may come with its handshake done (verified or not).
      if (socket.authorized || socket.authorizationError) send(socket);
      else socket.once('secureConnect', () => send(socket));
    });
    if (!options.waitForHandshake) request.end(options.body);
    request.on('error', (err) => {
      const direct = (): C8yError => options.classify(err, seen);
      finish(tunnel ? fromProxy(tunnel.classify(err, direct)) : direct());
    });
    request.on('response', (res) => {
      const intercepted = tunnel?.checkResponse(res.statusCode ?? 0);
      if (intercepted) return finish(fromProxy(intercepted));
      progress.responseStarted = true;
      const receivedAt = now();
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = (complete: boolean): void => {
        const tlsVersion = (res.socket as TLSSocket | null)?.getProtocol?.() ?? undefined;
        finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks), complete, receivedAt, ...(tlsVersion ? { tlsVersion } : {}) });
      };
      const truncated = (): void => {
        if (excerpt) return answer(false);
        finish(new C8yError('RESPONSE_TRUNCATED', { ...facts, ...(status ? { status } : {}), stage: 'response' }));
      };
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxBytes) return void chunks.push(chunk);
        if (!excerpt) return finish(new C8yError('RESPONSE_TOO_LARGE', { ...facts, status, limit: maxBytes, unit: 'bytes' }));
        chunks.push(chunk.subarray(0, chunk.length - (size - maxBytes)));
        answer(false);
      });
      // 'end' also follows an aborted message in some Node versions: only a complete one is an answer.
      res.on('end', () => (res.complete ? answer(true) : truncated()));
      res.on('aborted', truncated);
      res.on('error', truncated);
    });
  });
}

/** How far a connection got: the stage a timeout or a failure names. */
export function stageOf(p: Progress): 'connect' | 'handshake' | 'after-handshake' | 'response' {
  if (p.responseStarted) return 'response';
  if (p.tlsDone) return 'after-handshake';
  if (p.tcpConnected) return 'handshake';
  return 'connect';
}

/** What classifyError needs to know of the request: where it went, the trust, and the certificate offered. */
export interface Attempt {
  endpoint: URL;
  trust: Pick<Trust, 'source' | 'cas'>;
  /** The device certificate that was offered, if one was (a refusal then names what is wrong with it); EST enrollment offers none. */
  identity?: SentIdentity | undefined;
  now?: (() => number) | undefined;
}

/** Turns a Node network/TLS error into a classified C8yError. */
export function classifyError(err: Error, req: Attempt, progress: Progress): C8yError {
  const { endpoint, trust } = req;
  const nodeCode = (err as NodeJS.ErrnoException).code ?? '';
  // Every branch's facts start with the connection's: where it went, how far it got, what Node said.
  const facts = { url: endpoint.href, host: endpoint.hostname, port: endpoint.port || '443', stage: stageOf(progress), ...(nodeCode ? { nodeCode } : {}) };
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
