/**
 * The one HTTPS request: POST /devicecontrol/deviceAccessToken over mutual TLS, exactly as cumulocity.md
 * says (empty body, Accept: application/json, no Authorization, leaf + intermediates in the handshake,
 * X-Ssl-Cert-Chain per mode), with a whole-request timeout, a capped body and no redirects followed.
 * Network and TLS failures become C8yErrors with the class a script can branch on.
 */
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { C8yError } from '../errors.js';
import { isSelfSigned } from '../x509/path.js';
import { CHAIN_HEADER, chainHeaderValue } from './chain-header.js';
import type { ChainHeaderMode } from '../config/schema.js';
import type { ClientIdentity } from '../credentials/identity.js';
import type { Trust } from '../credentials/truststore.js';
import type { ProxyRoute } from './proxy/agent.js';
import { watchTunnel } from './proxy/watch.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface TokenRequest {
  endpoint: URL;
  identity: ClientIdentity;
  trust: Trust;
  chainHeader: ChainHeaderMode;
  timeoutMs: number;
  signal?: AbortSignal;
  userAgent?: string;
  /** Tunnel through this proxy (createProxyRoute); absent: connect directly. */
  proxy?: ProxyRoute;
}

export interface RawResponse {
  status: number;
  contentType: string;
  location?: string;
  body: Buffer;
  tlsVersion?: string;
}

/** The certificates presented in the handshake: leaf and intermediates, never a self-signed root. */
export function handshakeChain(chain: readonly X509Certificate[]): X509Certificate[] {
  return chain.filter((c, i) => i === 0 || !isSelfSigned(c));
}

/** Sends the token request; resolves with whatever HTTP answer came, rejects with a classified C8yError. */
export function postTokenRequest(req: TokenRequest): Promise<RawResponse> {
  const { endpoint, identity, trust } = req;
  const headers: Record<string, string> = { Accept: 'application/json', 'Content-Length': '0' };
  if (req.userAgent) headers['User-Agent'] = req.userAgent;
  const chainValue = chainHeaderValue(identity.chain, req.chainHeader);
  if (chainValue) headers[CHAIN_HEADER] = chainValue;

  return new Promise<RawResponse>((resolve, reject) => {
    let tcpConnected = false;
    let keysExchanged = false;
    let tlsDone = false;
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
    const request = httpsRequest(endpoint, {
      method: 'POST',
      headers,
      key: identity.key.export({ type: 'pkcs8', format: 'pem' }),
      cert: handshakeChain(identity.chain).map((c) => c.toString()).join('\n'),
      ...(trust.cas ? { ca: trust.cas.map((c) => c.toString()) } : {}),
      rejectUnauthorized: true,
      agent: req.proxy ? req.proxy.agent(tunnelAbort.signal) : false,
      // The platform serves this endpoint over TLS 1.2 and 1.3; never older.
      minVersion: 'TLSv1.2',
    });
    const tunnel = req.proxy && watchTunnel(req.proxy, endpoint, request, (err) => finish(err));
    const classify = (err: Error): C8yError => {
      const direct = (): C8yError => classifyError(err, endpoint, { tcpConnected, keysExchanged, tlsDone }, trust);
      return tunnel ? tunnel.classify(err, direct) : direct();
    };
    const timer = setTimeout(() => {
      finish(
        tunnel?.timeout(req.timeoutMs) ??
        new C8yError('TIMEOUT', `No answer from ${endpoint.origin} within ${req.timeoutMs / 1000} s${tlsDone ? '' : tcpConnected ? ' (the TLS handshake did not finish)' : ' (no connection)'}.`, {
          hint: 'Check the network path to port ' + (endpoint.port || '443') + ' (firewalls often block 8443), or raise --timeout.',
          details: { url: endpoint.href },
        }),
      );
    }, req.timeoutMs);
    const onAbort = (): void => finish(new C8yError('INTERRUPTED', 'Interrupted.'));
    req.signal?.addEventListener('abort', onAbort);

    request.on('socket', (socket) => {
      socket.once('connect', () => (tcpConnected = true));
      socket.once('secureConnect', () => (tlsDone = true));
      // Key material exists once the client has sent its key exchange, and with it (TLS 1.2) its
      // certificate: a reset after this point is the server turning the certificate down. The
      // material itself is ignored, never stored.
      socket.once('keylog', () => (keysExchanged = true));
    });
    request.on('error', (err) => finish(classify(err)));
    request.on('response', (res) => {
      const intercepted = tunnel?.checkResponse(res.statusCode ?? 0);
      if (intercepted) return finish(intercepted);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          finish(
            new C8yError('RESPONSE_TOO_LARGE', `${endpoint.href} answered HTTP ${res.statusCode} with a body over ${MAX_BODY_BYTES / 1024} KiB; a token answer is a few KiB.`, {
              hint: 'Check the URL points at the Cumulocity tenant, not a proxy or another service.',
            }),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const tls = (res.socket as TLSSocket | null)?.getProtocol?.() ?? undefined;
        const value: RawResponse = {
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks),
        };
        if (tls) value.tlsVersion = tls;
        if (res.headers.location) value.location = res.headers.location;
        finish(undefined, value);
      });
      res.on('error', (err) => finish(classify(err)));
    });
    request.end();
  });
}

const UNTRUSTED_SERVER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'INVALID_CA',
]);

const CLIENT_CERT_CAUSES =
  'Likely causes: the device CA is not uploaded to the tenant (or not marked for auto-registration), the certificate expired, ' +
  'the chain lacks an intermediate, or the device is not registered for certificate authentication. Run `c8ytoken verify-chain` to check the certificates locally.';

/** Turns a Node network/TLS error into a classified C8yError. */
export function classifyError(err: Error, endpoint: URL, state: { tcpConnected: boolean; keysExchanged: boolean; tlsDone: boolean }, trust: Trust): C8yError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const where = endpoint.origin;
  const facts = { url: endpoint.href, nodeCode: code };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA' || code === 'EAI_NONAME') {
    return new C8yError('DNS_FAILED', `The host ${endpoint.hostname} cannot be resolved (${code}).`, {
      hint: 'Check the tenant URL for typos, and the DNS settings of this machine.',
      cause: err,
      details: facts,
    });
  }
  if (code === 'ECONNREFUSED') {
    return new C8yError('CONNECTION_REFUSED', `${where} refused the connection.`, {
      hint: `Nothing listens on port ${endpoint.port || 443} there. The token endpoint is on port 8443; check the URL's port and any firewall.`,
      cause: err,
      details: facts,
    });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new C8yError('HOSTNAME_MISMATCH', `The server certificate of ${where} is not valid for the name ${endpoint.hostname}. ${err.message.replace(/^Hostname\/IP does not match certificate's altnames: /, '')}`, {
      hint: 'Use the host name the platform certificate is issued for (the tenant domain), not an IP address or alias.',
      cause: err,
      details: facts,
    });
  }
  if (UNTRUSTED_SERVER.has(code)) {
    return new C8yError('SERVER_UNTRUSTED', `The server certificate of ${where} is not trusted by ${trust.source} (${code}).`, {
      hint: trust.cas
        ? `Add the CA that signs the platform's certificate to ${trust.source}, or use the right --truststore.`
        : 'For a platform with a private CA, give its CA with --truststore FILE (PEM, PKCS#12 or JKS).',
      cause: err,
      details: facts,
    });
  }
  // A TLS alert from the server during or right after the handshake: it did not accept our certificate.
  const alert = /alert|ERR_SSL_TLSV13_ALERT|ERR_SSL_SSLV3_ALERT|ERR_SSL_TLSV1_ALERT/i.test(`${code} ${err.message}`);
  if (alert && /certificate|unknown.ca|ALERT_UNKNOWN_CA|decrypt|handshake.failure|access.denied/i.test(`${code} ${err.message}`)) {
    return new C8yError('CLIENT_CERT_REJECTED', `${where} rejected the device certificate in the TLS handshake (${code || err.message}).`, {
      hint: CLIENT_CERT_CAUSES,
      cause: err,
      details: facts,
    });
  }
  if (code === 'ECONNRESET' || /socket hang up/i.test(err.message)) {
    // Under TLS 1.3 the client finishes its handshake before the server has checked the client
    // certificate; a refusal then surfaces only as a reset right after it (cumulocity.md).
    if (state.tlsDone || state.keysExchanged) {
      return new C8yError('CLIENT_CERT_REJECTED', `${where} closed the connection ${state.tlsDone ? 'right after' : 'during'} the TLS handshake, once it had the device certificate: the server did not accept the device certificate.`, {
        hint: CLIENT_CERT_CAUSES,
        cause: err,
        details: facts,
      });
    }
    return new C8yError('CONNECTION_RESET', `${where} reset the connection${state.tcpConnected ? ' during the TLS handshake' : ''}.`, {
      hint: 'Retry later; if it persists, a proxy or firewall may be cutting TLS on that port.',
      cause: err,
      details: facts,
    });
  }
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || code.startsWith('ERR_TLS')) {
    return new C8yError('TLS_FAILED', `The TLS handshake with ${where} failed: ${err.message.split('\n')[0]}`, {
      hint: 'Check the URL points at the tenant on port 8443 and that a proxy does not intercept TLS.',
      cause: err,
      details: facts,
    });
  }
  if (code === 'ETIMEDOUT' || code === 'ENETUNREACH' || code === 'EHOSTUNREACH' || code === 'EPIPE' || code === 'ECONNABORTED') {
    return new C8yError(code === 'ETIMEDOUT' ? 'TIMEOUT' : 'NETWORK_FAILED', `Cannot reach ${where} (${code}).`, {
      hint: 'Check the network connection and any proxy or firewall; retry later.',
      cause: err,
      details: facts,
    });
  }
  return new C8yError('NETWORK_FAILED', `The request to ${where} failed: ${err.message}`, {
    hint: 'Retry later; run with --verbose for details.',
    cause: err,
    details: facts,
  });
}
