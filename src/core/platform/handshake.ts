/**
 * A TLS handshake with the platform, without asking for a token: is the server certificate trusted (and
 * by what), which TLS version, and does the server accept the device certificate? Acceptance is seen by
 * sending `HEAD /` after the handshake: under TLS 1.3 a refusal only arrives then.
 */
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import type { ClientIdentity } from '../credentials/identity.js';
import type { Trust } from '../credentials/truststore.js';
import { deviceSecureContext, platformTlsOptions } from './tls.js';
import { safeTimeout } from '../time/timer.js';

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
}

/** Performs the handshake and the acceptance probe; never throws for network or TLS failures (OpenSSL refusing the credentials is a C8yError). */
export function probeHandshake(endpoint: URL, identity: ClientIdentity, trust: Trust, timeoutMs: number): Promise<HandshakeResult> {
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  const port = Number(endpoint.port || 443);
  const result: HandshakeResult = { host, port, trustSource: trust.source, serverTrusted: false };
  const context = deviceSecureContext(identity, trust);
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
      host,
      port,
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
      if (peer?.subject)
        result.serverSubject = Object.entries(peer.subject)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ');
      const nameError = peer?.raw ? checkServerIdentity(host, peer) : undefined;
      if (!socket.authorized) result.serverProblem = String(socket.authorizationError ?? 'not trusted');
      else if (nameError) result.serverProblem = nameError.message;
      else result.serverTrusted = true;
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
