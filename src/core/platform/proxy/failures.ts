/**
 * What went wrong on the way through a proxy, told apart from what the platform said. https-proxy-agent
 * replays a proxy's non-200 answer to CONNECT as if the platform had sent it, so the answer is taken from
 * its `proxyConnect` event instead, before any response is read. Every message names the proxy redacted
 * (`http://user:***@host:port`) and the setting it came from; no password reaches a message or `details`.
 */
import { C8yError } from '../../errors.js';

/** What the messages need to know about the proxy in use; no secret in it. */
export interface ProxyInfo {
  /** The proxy for messages, credentials redacted. */
  shown: string;
  /** The setting it came from: '--proxy', 'HTTPS_PROXY', 'config "proxy"', ... */
  source: string;
  /** The proxy's host name, for DNS messages. */
  host: string;
  /** True when a user or password is sent to the proxy. */
  credentials: boolean;
  /** True when the proxy itself is reached over TLS (https://). */
  tls: boolean;
  /** Where the proxy's own certificate is checked against: "the system's root CAs" or the --proxy-ca file(s). */
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

const BYPASS_HINT = (t: TunnelTarget): string => `set NO_PROXY=${t.host} to connect directly, or --proxy none`;

const PROXY_CERT_CODES = new Set([
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
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function facts(proxy: ProxyInfo, target: TunnelTarget, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { proxy: proxy.shown, proxySource: proxy.source, target: `${target.host}:${target.port}`, ...extra };
}

/** A failure before the proxy answered CONNECT: DNS, refused, reset, closed, TLS to an https:// proxy. */
export function proxyConnectionError(err: Error, proxy: ProxyInfo, target: TunnelTarget): C8yError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const details = facts(proxy, target, { nodeCode: code });
  const named = `the proxy ${proxy.shown} (from ${proxy.source})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA' || code === 'EAI_NONAME') {
    return new C8yError('PROXY_DNS_FAILED', `The proxy host ${proxy.host} cannot be resolved (${code}); the proxy is ${proxy.shown}, from ${proxy.source}.`, {
      hint: `Check the proxy setting for typos and this machine's DNS; or ${BYPASS_HINT(target)}.`,
      cause: err,
      details,
    });
  }
  if (code === 'ECONNREFUSED') {
    return new C8yError('PROXY_UNREACHABLE', `${cap(named)} refused the connection: nothing listens there.`, {
      hint: `Check the proxy's host and port and that it runs; or ${BYPASS_HINT(target)}.`,
      cause: err,
      details,
    });
  }
  if (proxy.tls && PROXY_CERT_CODES.has(code)) {
    return new C8yError('PROXY_UNTRUSTED', `The TLS certificate of ${named} is not trusted by ${proxy.trustSource} (${code}).`, {
      hint: "Give the proxy's CA with --proxy-ca FILE. (The --truststore is for the platform only, and does not apply to the proxy.)",
      cause: err,
      details,
    });
  }
  if (proxy.tls && (code.startsWith('ERR_SSL') || code === 'EPROTO' || code.startsWith('ERR_TLS'))) {
    // OpenSSL's text carries a source path and numbers; its reason (e.g. "wrong version number") is the news.
    const reason = /routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message.split('\n')[0];
    return new C8yError('PROXY_TLS_FAILED', `The TLS handshake with ${named} failed: ${reason}${code ? ` (${code})` : ''}.`, {
      hint: 'A proxy that speaks plain HTTP on that port is written http://, not https://.',
      cause: err,
      details,
    });
  }
  if (/before receiving CONNECT response/i.test(err.message) || code === 'ECONNRESET' || code === 'EPIPE') {
    return new C8yError('PROXY_UNREACHABLE', `${cap(named)} closed the connection without answering CONNECT ${target.host}:${target.port}.`, {
      hint: `Check that this is an HTTP proxy${proxy.tls ? '' : ' (an https:// proxy needs https:// in its URL)'}; retry later; or ${BYPASS_HINT(target)}.`,
      cause: err,
      details,
    });
  }
  if (/CONNECT response/i.test(err.message)) {
    return new C8yError('PROXY_UNREACHABLE', `${cap(named)} did not answer CONNECT with HTTP: it does not look like an HTTP proxy.`, {
      hint: `Check the proxy's host and port; or ${BYPASS_HINT(target)}.`,
      cause: err,
      details,
    });
  }
  return new C8yError('PROXY_UNREACHABLE', `Cannot reach ${named}${code ? ` (${code})` : `: ${err.message}`}.`, {
    hint: `Check the network path to the proxy; retry later; or ${BYPASS_HINT(target)}.`,
    cause: err,
    details,
  });
}

/** The proxy answered CONNECT with something other than 200: its answer, never the platform's. */
export function proxyAnswerError(answer: ConnectAnswer, proxy: ProxyInfo, target: TunnelTarget): C8yError {
  const status = `${answer.statusCode}${answer.statusText ? ` ${answer.statusText}` : ''}`;
  const details = facts(proxy, target, { proxyStatus: answer.statusCode });
  const connect = `CONNECT ${target.host}:${target.port}`;
  if (answer.statusCode === 407) {
    const challenge = [answer.headers['proxy-authenticate'] ?? []].flat().map((c) => c.split(/\s/)[0]!).filter(Boolean);
    const basic = challenge.length === 0 || challenge.some((s) => s.toLowerCase() === 'basic');
    const schemes = challenge.length ? ` (it offers ${[...new Set(challenge)].join(', ')})` : '';
    if (!basic) {
      return new C8yError('PROXY_AUTH_REQUIRED', `The proxy ${proxy.shown} (from ${proxy.source}) wants credentials with a scheme this tool does not speak: it answered ${connect} with ${status}${schemes}.`, {
        hint: `Only Basic proxy authentication is supported; ask for a Basic account on the proxy, or ${BYPASS_HINT(target)}.`,
        details,
      });
    }
    return proxy.credentials
      ? new C8yError('PROXY_AUTH_REQUIRED', `The proxy ${proxy.shown} (from ${proxy.source}) did not accept the proxy credentials: it answered ${connect} with ${status}${schemes}.`, {
          hint: 'Check the user in the proxy URL and the password (percent-encoded in the URL, or in --proxy-password-file).',
          details,
        })
      : new C8yError('PROXY_AUTH_REQUIRED', `The proxy ${proxy.shown} (from ${proxy.source}) wants credentials: it answered ${connect} with ${status}${schemes}.`, {
          hint: 'Put the user in the proxy URL (http://USER@host:port) and the password in --proxy-password-file FILE, or percent-encoded in the URL (http://USER:PASSWORD@host:port).',
          details,
        });
  }
  if (answer.statusCode === 403) {
    return new C8yError('PROXY_REFUSED', `The proxy ${proxy.shown} (from ${proxy.source}) refused to open a tunnel to ${target.host}:${target.port}: it answered ${connect} with ${status}.`, {
      hint: `Proxies often allow CONNECT only to port 443, and the device token endpoint is on port ${target.port}: ask the proxy's administrators to allow CONNECT to ${target.host}:${target.port}, or ${BYPASS_HINT(target)}.`,
      details,
    });
  }
  const upstream = answer.statusCode === 502 || answer.statusCode === 503 || answer.statusCode === 504;
  return new C8yError('PROXY_REFUSED', `The proxy ${proxy.shown} (from ${proxy.source}) did not open a tunnel to ${target.host}:${target.port}: it answered ${connect} with ${status}.`, {
    hint: upstream
      ? `The proxy could not reach the platform: check the tenant URL and port; retry later; or ${BYPASS_HINT(target)}.`
      : `Ask the proxy's administrators why it refuses CONNECT to ${target.host}:${target.port}, or ${BYPASS_HINT(target)}.`,
    details,
  });
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
 * `problem` says what else was seen (an untrusted certificate, an HTTP status).
 */
export function interceptionError(proxy: ProxyInfo, target: TunnelTarget, tls: TunnelTls, problem: string): C8yError {
  return new C8yError(
    'PROXY_TLS_INTERCEPTED',
    `The proxy ${proxy.shown} (from ${proxy.source}) intercepts TLS: the server that answered for ${target.host}:${target.port} through it did not ask for the device certificate, as the platform always does${tls.issuer ? `, and its certificate is issued by ${tls.issuer}` : ''} (${problem}). Mutual TLS cannot pass a TLS-terminating proxy: the device certificate must reach the platform itself.`,
    {
      hint: `Exempt the platform host from the proxy: NO_PROXY=${target.host} (or --proxy none where a direct connection is allowed), or ask the proxy's administrators to pass ${target.host}:${target.port} through without TLS inspection.`,
      details: facts(proxy, target, { serverIssuer: tls.issuer }),
    },
  );
}

/**
 * The platform-side failure through a proxy, with what the proxy may have to do with it: an untrusted
 * server certificate may be the proxy's own (a TLS-inspecting proxy that does ask for a client certificate).
 */
export function withProxyHint(err: C8yError, proxy: ProxyInfo, target: TunnelTarget, tls: TunnelTls): C8yError {
  if (err.code !== 'SERVER_UNTRUSTED' && err.code !== 'HOSTNAME_MISMATCH') return err;
  const issuer = tls.issuer ? ` The certificate seen through the proxy is issued by ${tls.issuer}.` : '';
  return new C8yError(err.code, `${err.message} The connection went through the proxy ${proxy.shown} (from ${proxy.source}).`, {
    hint: `${err.hint ?? ''}${issuer} If that is the proxy's CA, the proxy intercepts TLS and mutual TLS cannot pass it: exempt the platform with NO_PROXY=${target.host}.`.trim(),
    cause: err.cause,
    details: { ...err.details, ...facts(proxy, target, { serverIssuer: tls.issuer }) },
  });
}

/** A request or handshake through the proxy that ran out of time, told by how far it got. */
export function proxyTimeoutError(proxy: ProxyInfo, target: TunnelTarget, answered: boolean, timeoutMs: number): C8yError | undefined {
  if (answered) return undefined;
  return new C8yError('TIMEOUT', `The proxy ${proxy.shown} (from ${proxy.source}) did not answer CONNECT ${target.host}:${target.port} within ${timeoutMs / 1000} s.`, {
    hint: `Check that the proxy is reachable and can reach the platform; raise --timeout; or ${BYPASS_HINT(target)}.`,
    details: facts(proxy, target),
  });
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
