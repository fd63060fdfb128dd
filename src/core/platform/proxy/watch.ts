/**
 * Follows one request through the proxy, so that each failure is blamed on the right party: before the
 * proxy answered CONNECT it is the proxy's; a non-200 answer is the proxy's (never read as the platform's
 * response); after it, the TLS session inside the tunnel tells whether the far end is the platform.
 */
import type { ClientRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { C8yError } from '../../errors.js';
import { interceptionError, proxyAnswerError, proxyConnectionError, proxyTimeoutError, withProxyFacts, type ConnectAnswer, type ProxyInfo, type TunnelTarget, type TunnelTls } from './failures.js';

export interface TunnelWatch {
  /** True once the proxy answered CONNECT (whatever it answered). */
  readonly answered: boolean;
  /** What the TLS handshake inside the tunnel showed. */
  readonly tls: TunnelTls;
  /** An error event of the request, classified: the proxy's until it answered, else platformError() with the proxy in its facts. */
  classify(err: Error, platformError: () => C8yError): C8yError;
  /** At the HTTP response: the interception error when the far end never asked for the device certificate. */
  checkResponse(status: number): C8yError | undefined;
  /** Once the handshake is done, before anything is sent: the same interception error (EST checks here, so no credential reaches the proxy). */
  checkHandshake(): C8yError | undefined;
  /** The timeout error when the proxy never answered CONNECT; undefined when the tunnel was open. */
  timeout(timeoutMs: number): C8yError | undefined;
}

/** The host and port a CONNECT to endpoint asks for. */
export function tunnelTarget(endpoint: URL): TunnelTarget {
  return { host: endpoint.hostname.replace(/^\[|\]$/g, ''), port: Number(endpoint.port || 443) };
}

/**
 * Starts watching request; onRefused gets the classified error when the proxy refuses CONNECT.
 * `clientCertExpected`: the far end always asks for a client certificate (the token endpoint requires one;
 * the platform's EST port and libest ask without requiring), so a handshake without that request is a
 * proxy terminating TLS.
 */
export function watchTunnel(proxy: ProxyInfo, endpoint: URL, request: ClientRequest, onRefused: (err: C8yError) => void, clientCertExpected = true): TunnelWatch {
  const target = tunnelTarget(endpoint);
  const tls: TunnelTls = {};
  let answered = false;
  request.on('proxyConnect', (answer: ConnectAnswer) => {
    answered = true;
    if (answer.statusCode !== 200) onRefused(proxyAnswerError(answer, proxy, target));
  });
  request.on('socket', (socket) => observeTunnelTls(socket as TLSSocket, tls));
  return {
    get answered() {
      return answered;
    },
    tls,
    classify(err, platformError) {
      if (!answered) return proxyConnectionError(err, proxy, target);
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (clientCertExpected && tls.clientCertRequested === false) return interceptionError(proxy, target, tls, code || err.message, err);
      return withProxyFacts(platformError(), proxy, target, tls);
    },
    checkResponse(status) {
      return clientCertExpected && tls.clientCertRequested === false ? interceptionError(proxy, target, tls, `HTTP ${status}`) : undefined;
    },
    checkHandshake() {
      return clientCertExpected && tls.clientCertRequested === false ? interceptionError(proxy, target, tls, 'nothing was sent to it') : undefined;
    },
    timeout(timeoutMs) {
      return answered ? undefined : proxyTimeoutError(proxy, target, timeoutMs);
    },
  };
}

/**
 * Records, during the handshake, whether the server asked for a client certificate and who issued its
 * certificate. Read at each `keylog` event: by the last one (TLS 1.2: the key exchange; TLS 1.3: the
 * application secrets) the server's CertificateRequest and Certificate have been read, and the handshake
 * is still alive even when Node is about to reject the certificate. Shared signature algorithms exist on
 * the client only when the server sent a CertificateRequest (measured on Node 20 and 24, TLS 1.2 and 1.3).
 */
export function observeTunnelTls(socket: TLSSocket, into: TunnelTls): void {
  if (typeof socket.getSharedSigalgs !== 'function') return; // a plain socket: the proxy's refusal replayed
  socket.on('keylog', () => {
    try {
      into.clientCertRequested = socket.getSharedSigalgs().length > 0;
      const issuer = socket.getPeerCertificate()?.issuer;
      if (issuer && Object.keys(issuer).length) into.issuer = oneLine(issuer);
    } catch {
      // The handle is gone: nothing more to learn.
    }
  });
}

/** A certificate name as one line: "CN=..., O=...". */
export function oneLine(name: object): string {
  return Object.entries(name)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}
