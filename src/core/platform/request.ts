/**
 * The one HTTPS request: POST /devicecontrol/deviceAccessToken over mutual TLS, exactly as cumulocity.md
 * says (empty body, Accept: application/json, no Authorization, leaf + intermediates in the handshake,
 * X-Ssl-Cert-Chain per mode), with a whole-request timeout, a capped body and no redirects followed.
 * Network and TLS failures become C8yErrors with the class a script can branch on; once an answer has
 * begun, a broken connection is a truncated answer (retryable), never a refused certificate.
 */
import type { SecureContext } from 'node:tls';
import { CHAIN_HEADER, chainHeaderValue } from './chain-header.js';
import { deviceSecureContext, platformTlsOptions } from './tls.js';
import type { ChainHeaderMode } from './chain-header.js';
import type { ClientIdentity } from '../credentials/identity.js';
import type { Trust } from '../credentials/truststore.js';
import type { ProxyRoute } from './proxy/agent.js';
import { classifyError, exchange } from './connection.js';

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

/** Sends the token request; resolves with whatever HTTP answer came, rejects with a classified C8yError. */
export async function postTokenRequest(req: TokenRequest): Promise<RawResponse> {
  const { endpoint, identity, trust } = req;
  const headers: Record<string, string> = { Accept: 'application/json', 'Content-Length': '0' };
  if (req.userAgent) headers['User-Agent'] = req.userAgent;
  const chainValue = chainHeaderValue(identity.chain, req.chainHeader);
  if (chainValue) headers[CHAIN_HEADER] = chainValue;
  // Before any connection: OpenSSL refusing the credentials is a local problem, not a network one.
  const context = req.context ?? deviceSecureContext(identity, trust);
  const answer = (await exchange({
    url: endpoint,
    method: 'POST',
    headers,
    // Through a proxy the platform's TLS options stay on the request: the agent applies them to the TLS
    // session it starts inside the tunnel, so the device certificate goes to the platform, end to end.
    tls: platformTlsOptions(endpoint, context),
    proxy: req.proxy,
    timeoutMs: req.timeoutMs,
    signal: req.signal,
    maxBytes: MAX_BODY_BYTES,
    facts: { url: endpoint.href, host: endpoint.host },
    classify: (err, seen) => classifyError(err, req, seen.progress),
    now: req.now,
  }))!;
  const { status, headers: got, body, receivedAt, tlsVersion } = answer;
  const value: RawResponse = { status, contentType: String(got['content-type'] ?? ''), body, receivedAt };
  if (tlsVersion) value.tlsVersion = tlsVersion;
  // The platform's Date, for the clock-skew estimate.
  if (typeof got.date === 'string') value.date = got.date;
  if (typeof got['retry-after'] === 'string') value.retryAfter = got['retry-after'];
  if (got.location) value.location = got.location;
  return value;
}
