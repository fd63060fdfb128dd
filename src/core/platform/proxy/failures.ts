/**
 * What went wrong on the way through a proxy, told apart from what the platform said. https-proxy-agent
 * replays a proxy's non-200 answer to CONNECT as if the platform had sent it, so the answer is taken from
 * its `proxyConnect` event instead, before any response is read. Every error carries the proxy redacted
 * (`http://user:***@host:port`) and the setting it came from as facts; src/output/messages.ts words them.
 * No password reaches the facts.
 */
import { C8yError, isC8yError, withTravel, type ProxyFacts } from '../../errors.js';
import { UNTRUSTED_CERT_CODES } from '../tls.js';

/** What the errors need to know about the proxy in use; no secret in it. */
export interface ProxyInfo {
  /** The proxy for messages, credentials redacted. */
  shown: string;
  /** The setting it came from: '--proxy', 'HTTPS_PROXY', '"proxy" in FILE', ... */
  source: string;
  /** The proxy's host name, for DNS messages. */
  host: string;
  /** True when a user or password is sent to the proxy. */
  credentials: boolean;
  /** True when the proxy itself is reached over TLS (https://). */
  tls: boolean;
  /** Where the proxy's own certificate is checked against: "the system's root CAs" or the --proxy-ca file. */
  trustSource: string;
}

/** The host and port a CONNECT asks for (host without IPv6 brackets). */
export interface TunnelTarget {
  host: string;
  port: number;
}

/** The proxy's answer to CONNECT, as https-proxy-agent reports it. */
export interface ConnectAnswer {
  statusCode: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A proxy's certificate not trusted: the codes of an untrusted server, and a name it does not hold. */
const PROXY_CERT_CODES = new Set([...UNTRUSTED_CERT_CODES, 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** The facts every proxy error carries: which proxy, from where, and where it was asked to connect. */
export function proxyFacts(proxy: ProxyInfo, target: TunnelTarget): ProxyFacts {
  return { proxy: proxy.shown, proxySource: proxy.source, target: `${target.host}:${target.port}`, proxyTls: proxy.tls, proxyCredentials: proxy.credentials };
}

/** A failure before the proxy answered CONNECT: DNS, refused, reset, closed, TLS to an https:// proxy. */
export function proxyConnectionError(err: Error, proxy: ProxyInfo, target: TunnelTarget): C8yError {
  const nodeCode = (err as NodeJS.ErrnoException).code ?? '';
  const facts = { ...proxyFacts(proxy, target), stage: 'proxy' as const, ...(nodeCode ? { nodeCode } : {}) };
  const cause = { cause: err };
  if (nodeCode === 'ENOTFOUND' || nodeCode === 'EAI_AGAIN' || nodeCode === 'EAI_NODATA' || nodeCode === 'EAI_NONAME') {
    return new C8yError('PROXY_DNS_FAILED', { ...facts, proxyHost: proxy.host, stage: 'dns' }, cause);
  }
  if (nodeCode === 'ECONNREFUSED') return new C8yError('PROXY_UNREACHABLE', { ...facts, problem: 'refused' }, cause);
  if (proxy.tls && PROXY_CERT_CODES.has(nodeCode)) return new C8yError('PROXY_UNTRUSTED', { ...facts, proxyTrust: proxy.trustSource }, cause);
  if (proxy.tls && (nodeCode.startsWith('ERR_SSL') || nodeCode === 'EPROTO' || nodeCode.startsWith('ERR_TLS'))) {
    // OpenSSL's text carries a source path and numbers; its reason (e.g. "wrong version number") is the news.
    const reason = /routines:[^:]*:([^:\n]+)/.exec(err.message)?.[1] ?? err.message.split('\n')[0]!;
    return new C8yError('PROXY_TLS_FAILED', { ...facts, reason }, cause);
  }
  if (/before receiving CONNECT response/i.test(err.message) || nodeCode === 'ECONNRESET' || nodeCode === 'EPIPE') {
    return new C8yError('PROXY_UNREACHABLE', { ...facts, problem: 'closed' }, cause);
  }
  if (/CONNECT response/i.test(err.message)) return new C8yError('PROXY_UNREACHABLE', { ...facts, problem: 'not-http' }, cause);
  return new C8yError('PROXY_UNREACHABLE', { ...facts, problem: 'failed', ...(nodeCode ? {} : { reason: err.message.split('\n')[0]! }) }, cause);
}

/** The proxy answered CONNECT with something other than 200: its answer, never the platform's. */
export function proxyAnswerError(answer: ConnectAnswer, proxy: ProxyInfo, target: TunnelTarget): C8yError {
  const facts = { ...proxyFacts(proxy, target), stage: 'proxy' as const, proxyStatus: answer.statusCode, ...(answer.statusText ? { proxyStatusText: answer.statusText } : {}) };
  // 407 is the standard answer; tinyproxy answers wrong credentials with 401 (and WWW-Authenticate).
  if (answer.statusCode === 407 || answer.statusCode === 401) {
    const schemes = [
      ...new Set(
        [answer.headers['proxy-authenticate'] ?? answer.headers['www-authenticate'] ?? []]
          .flat()
          .map((c) => c.split(/\s/)[0]!)
          .filter(Boolean),
      ),
    ];
    const basic = schemes.length === 0 || schemes.some((s) => s.toLowerCase() === 'basic');
    const problem = !basic ? 'scheme' : proxy.credentials ? 'rejected' : 'missing';
    return new C8yError('PROXY_AUTH_REQUIRED', { ...facts, problem, ...(schemes.length ? { authSchemes: schemes } : {}) });
  }
  if (answer.statusCode === 403) return new C8yError('PROXY_REFUSED', { ...facts, problem: 'forbidden' });
  const upstream = answer.statusCode === 502 || answer.statusCode === 503 || answer.statusCode === 504;
  return new C8yError('PROXY_REFUSED', { ...facts, problem: upstream ? 'upstream' : 'refused' });
}

/** What the TLS session inside the tunnel showed, read during the handshake. */
export interface TunnelTls {
  /** Whether the TLS server asked for a client certificate; undefined until the handshake got that far. */
  clientCertRequested?: boolean;
  /** The issuer of the server certificate, one line. */
  issuer?: string;
}

/**
 * Evidence that the proxy terminates TLS: the server at the far end of the tunnel did not ask for a
 * client certificate (the platform always does on its mTLS port), so it cannot be the platform.
 * `seen` says what else was seen (an untrusted certificate's code, an HTTP status).
 */
export function interceptionError(proxy: ProxyInfo, target: TunnelTarget, tls: TunnelTls, seen: string, cause?: unknown): C8yError {
  return new C8yError(
    'PROXY_TLS_INTERCEPTED',
    { ...proxyFacts(proxy, target), stage: 'handshake', reason: seen, ...(tls.issuer ? { serverIssuer: tls.issuer } : {}) },
    cause === undefined ? {} : { cause },
  );
}

/**
 * A platform-side failure through a proxy, with the proxy added to its facts: the message then says
 * the connection went through it, and an untrusted server certificate may be the proxy's own (a
 * TLS-inspecting proxy that does ask for a client certificate).
 */
export function withProxyFacts(err: C8yError, proxy: ProxyInfo, target: TunnelTarget, tls: TunnelTls): C8yError {
  const via = { proxy: proxy.shown, proxySource: proxy.source, target: `${target.host}:${target.port}` };
  return withTravel(err, tls.issuer && isC8yError(err, 'SERVER_UNTRUSTED', 'HOSTNAME_MISMATCH') ? { ...via, serverIssuer: tls.issuer } : via);
}

/** A request or handshake through the proxy that ran out of time before the proxy answered CONNECT. */
export function proxyTimeoutError(proxy: ProxyInfo, target: TunnelTarget, timeoutMs: number): C8yError {
  return new C8yError('TIMEOUT', { ...proxyFacts(proxy, target), stage: 'proxy', timeoutMs });
}
