/**
 * A TLS handshake with the platform, without asking for a token: is the server certificate trusted (and
 * by what), which TLS version, and does the server accept the device certificate? Acceptance is seen by
 * sending `HEAD /` after the handshake: under TLS 1.3 a refusal only arrives then.
 */
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ClientIdentity } from '../credentials/identity.js';
import type { Trust } from '../credentials/truststore.js';
import { deviceSecureContext, platformTlsOptions } from './tls.js';
import { safeTimeout } from '../time/timer.js';
import { C8yError, type ErrorCode, type ErrorFacts } from '../errors.js';
import { openTunnel, type ProxyRoute } from './proxy/agent.js';
import { interceptionError, proxyConnectionError, proxyTimeoutError } from './proxy/failures.js';
import { oneLine, tunnelTarget } from './proxy/watch.js';

export interface HandshakeResult {
  host: string;
  port: number;
  trustSource: string;
  serverTrusted: boolean;
  /** Why the server certificate is not trusted (OpenSSL's code), or a host name problem. */
  serverProblem?: string;
  serverSubject?: string;
  tlsVersion?: string;
  /** true: the server answered over HTTP; false: it closed or alerted after seeing the certificate. */
  clientAccepted?: boolean;
  clientProblem?: string;
  httpStatus?: number;
  /** A network failure before any TLS. */
  networkProblem?: string;
  /** The proxy the handshake went through (redacted), and the setting it came from. */
  proxy?: string;
  proxySource?: string;
  /** What the proxy did wrong (refused, wants credentials, intercepts TLS): the error fetch would fail with. */
  proxyProblem?: { code: ErrorCode; facts: ErrorFacts };
}

/**
 * Performs the handshake and the acceptance probe, through `proxy` when given; never throws for network,
 * proxy or TLS failures (OpenSSL refusing the credentials is a C8yError). `context`: the device's TLS
 * context when the caller has made it already (doctor uses it for the token request too).
 */
export async function probeHandshake(
  endpoint: URL,
  identity: ClientIdentity,
  trust: Trust,
  timeoutMs: number,
  proxy?: ProxyRoute,
  context = deviceSecureContext(identity, trust),
): Promise<HandshakeResult> {
  const { host, port } = tunnelTarget(endpoint);
  const result: HandshakeResult = { host, port, trustSource: trust.source, serverTrusted: false };
  let tunnel: Duplex | undefined;
  if (proxy) {
    result.proxy = proxy.shown;
    result.proxySource = proxy.source;
    const started = Date.now();
    try {
      tunnel = await openTunnelWithin(proxy, tunnelTarget(endpoint), timeoutMs);
    } catch (err) {
      const e = err instanceof C8yError ? err : proxyConnectionError(err as Error, proxy, tunnelTarget(endpoint));
      result.proxyProblem = { code: e.code, facts: e.facts };
      return result;
    }
    timeoutMs = Math.max(1, timeoutMs - (Date.now() - started));
  }
  return new Promise((resolve) => {
    let done = false;
    let secure = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const socket = connect({
      // Through a proxy, TLS runs inside the tunnel: SNI, client certificate and trust are the platform's.
      ...(tunnel ? { socket: tunnel } : { host, port }),
      ...platformTlsOptions(endpoint, context),
      // Verified by hand below, so that the report can say why; nothing is sent to an untrusted server.
      rejectUnauthorized: false,
    });
    const timer = safeTimeout(() => {
      if (!secure) result.networkProblem = `no TLS handshake within ${timeoutMs / 1000} s`;
      else if (result.clientAccepted === undefined) result.clientProblem = `no answer within ${timeoutMs / 1000} s after the handshake`;
      finish();
    }, timeoutMs);
    socket.once('secureConnect', () => {
      secure = true;
      result.tlsVersion = socket.getProtocol() ?? undefined;
      const peer: PeerCertificate = socket.getPeerCertificate();
      if (peer?.subject) result.serverSubject = oneLine(peer.subject);
      const nameError = peer?.raw ? checkServerIdentity(host, peer) : undefined;
      if (!socket.authorized) result.serverProblem = String(socket.authorizationError ?? 'not trusted');
      else if (nameError) result.serverProblem = nameError.message;
      else result.serverTrusted = true;
      // The platform always asks for the device certificate; a server in the tunnel that does not is the proxy's.
      if (proxy && socket.getSharedSigalgs().length === 0) {
        const e = interceptionError(proxy, tunnelTarget(endpoint), peer?.issuer ? { issuer: oneLine(peer.issuer) } : {}, result.serverProblem ?? 'the handshake');
        result.proxyProblem = { code: e.code, facts: e.facts };
        result.clientAccepted = false;
        result.clientProblem = 'the TLS server in the tunnel did not ask for the device certificate: the proxy intercepts TLS';
        return finish();
      }
      if (!result.serverTrusted) return finish();
      socket.write(`HEAD / HTTP/1.1\r\nHost: ${endpoint.host}\r\nConnection: close\r\n\r\n`);
    });
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) {
        result.clientAccepted = true;
        result.httpStatus = Number(m[1]);
        finish();
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!secure && !/alert|certificate/i.test(`${err.code} ${err.message}`)) {
        result.networkProblem = `${err.code ?? ''} ${err.message}`.trim();
      } else {
        result.clientAccepted = false;
        result.clientProblem = `${err.code ?? 'closed'}: the server did not accept the device certificate`;
      }
      finish();
    });
    socket.on('close', () => {
      if (secure && result.serverTrusted && result.clientAccepted === undefined) {
        result.clientAccepted = false;
        result.clientProblem = 'the server closed the connection after the handshake: it did not accept the device certificate';
      }
      finish();
    });
  });
}

/** The CONNECT tunnel, or the proxy's classified failure; gives up after timeoutMs. */
async function openTunnelWithin(proxy: ProxyRoute, target: { host: string; port: number }, timeoutMs: number): Promise<Duplex> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = safeTimeout(() => {
      abort.abort();
      reject(proxyTimeoutError(proxy, target, timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([openTunnel(proxy, target, abort.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
