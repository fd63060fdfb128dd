/**
 * A TLS handshake with the platform, without asking for a token: is the server certificate trusted (and
 * by what), which TLS version, and does the server accept the device certificate?
 *
 * A server that asks for a certificate may still go on without one (nginx `ssl_verify_client optional`,
 * the platform's EST port), and a TLS front such as nginx answers a refused certificate with an HTTP 400
 * page rather than a TLS alert. So "accepted" is said only on evidence: the request with the certificate
 * got an answer that is not a refusal, AND the same request without a certificate was refused (the server
 * requires one). A refusal page, a TLS refusal, or a 400, 401 or 403 to the request with the certificate
 * (the platform's 401 "Invalid certificate chain!") is "refused"; anything else is "unknown".
 */
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import type { ClientIdentity } from '../credentials/identity.js';
import type { Trust } from '../credentials/truststore.js';
import { deviceSecureContext, platformTlsOptions } from './tls.js';
import { C8yError, isC8yError, problemOf, type Problem } from '../errors.js';
import type { ProxyRoute } from './proxy/agent.js';
import { exchange } from './connection.js';
import { interceptionError } from './proxy/failures.js';
import { oneLine, tunnelTarget } from './proxy/watch.js';
import { bodyExcerpt, certificateRefusal, platformError } from './token-response.js';
import { localCertificateCause } from './local-cause.js';

/** Answers to the request with the certificate that refuse it, whatever their body says. */
const REFUSING_STATUS: Record<number, 'PLATFORM_BAD_REQUEST' | 'PLATFORM_UNAUTHORIZED' | 'PLATFORM_FORBIDDEN' | undefined> = {
  400: 'PLATFORM_BAD_REQUEST',
  401: 'PLATFORM_UNAUTHORIZED',
  403: 'PLATFORM_FORBIDDEN',
};

/** What the handshake showed about the device certificate. */
export type ClientVerdict = 'accepted' | 'refused' | 'unknown';

export interface HandshakeResult {
  host: string;
  port: number;
  trustSource: string;
  serverTrusted: boolean;
  /** Why the server certificate is not trusted (OpenSSL's code), or a host name problem. */
  serverProblem?: string;
  serverSubject?: string;
  tlsVersion?: string;
  /** accepted: on evidence (see the top of this file); refused: an alert, a close or a refusal page; unknown: no evidence either way. */
  clientVerdict?: ClientVerdict;
  /** true only when accepted; false when refused; undefined when unknown or not tried. */
  clientAccepted?: boolean;
  /** What was seen: why refused, or why acceptance is unknown. */
  clientProblem?: string;
  /** Why accepted: the evidence, in words. */
  clientEvidence?: string;
  /** The answer to GET / with the device certificate, and a short excerpt of its body. */
  httpStatus?: number;
  httpExcerpt?: string;
  /** Whether the server requires a certificate (the same request without one was refused), and how it answered that request. */
  clientRequired?: boolean;
  withoutCertificate?: string;
  /** A refusal, as the error a token request would get (local cause first), for its words. */
  refusal?: Problem;
  /** A network failure before any TLS. */
  networkProblem?: string;
  /** The proxy the handshake went through (redacted), and the setting it came from. */
  proxy?: string;
  proxySource?: string;
  /** What the proxy did wrong (refused, wants credentials, intercepts TLS): the error fetch would fail with. */
  proxyProblem?: Problem;
}

/** One connection: the handshake, then GET / and the answer (status and the first KiB of its body). */
interface Exchange {
  secure: boolean;
  tlsVersion?: string;
  peer?: PeerCertificate;
  authorized: boolean;
  authorizationError?: string;
  /** The server sent a CertificateRequest (the client has shared signature algorithms only then). */
  certificateRequested: boolean;
  status?: number;
  body?: Buffer;
  /** The error, or 'closed' / 'timeout', that ended the connection before an answer. */
  failure?: { code: string; message: string; timedOut?: boolean };
  /** The proxy failed before the tunnel was open: the error fetch would fail with. */
  proxyProblem?: HandshakeResult['proxyProblem'];
}

/** What is read of an answer: enough for nginx's error pages, bounded whatever the server sends. */
const MAX_ANSWER_BYTES = 16 * 1024;

/**
 * Performs the handshake and the acceptance probe, through `proxy` when given; never throws for network,
 * proxy or TLS failures (OpenSSL refusing the credentials is a C8yError). `context`: the device's TLS
 * context when the caller has made it already (doctor uses it for the token request too). `now`: the
 * clock the device certificate's validity is judged with when a refusal is explained.
 */
export async function probeHandshake(
  endpoint: URL,
  identity: ClientIdentity,
  trust: Trust,
  timeoutMs: number,
  proxy?: ProxyRoute,
  context = deviceSecureContext(identity, trust),
  now: () => number = Date.now,
): Promise<HandshakeResult> {
  const target = tunnelTarget(endpoint);
  const result: HandshakeResult = { host: target.host, port: target.port, trustSource: trust.source, serverTrusted: false };
  if (proxy) {
    result.proxy = proxy.shown;
    result.proxySource = proxy.source;
  }
  const first = await attempt(endpoint, context, proxy, timeoutMs, (x) => {
    // Verified by hand, so that the report can say why; nothing is sent to an untrusted server.
    const nameError = x.peer?.raw ? checkServerIdentity(target.host, x.peer) : undefined;
    if (!x.authorized) result.serverProblem = x.authorizationError ?? 'not trusted';
    else if (nameError) result.serverProblem = nameError.message;
    else result.serverTrusted = true;
    // The platform always asks for the device certificate; a server in the tunnel that does not is the proxy's.
    if (proxy && !x.certificateRequested) return false;
    return result.serverTrusted;
  });
  if (first.proxyProblem) {
    result.proxyProblem = first.proxyProblem;
    return result;
  }
  // A refusal in TLS, as the token request would report it: the local cause first.
  const tlsRefusal = (stage: 'handshake' | 'after-handshake'): NonNullable<HandshakeResult['refusal']> => ({
    code: 'CLIENT_CERT_REJECTED',
    facts: { url: endpoint.href, host: target.host, port: String(target.port), stage, ...localCertificateCause(identity, now()) },
  });
  if (!first.secure) {
    result.networkProblem = first.failure?.timedOut ? `no TLS handshake within ${timeoutMs / 1000} s` : `${first.failure?.code ?? ''} ${first.failure?.message ?? 'closed'}`.trim();
    if (first.failure && /alert|certificate/i.test(`${first.failure.code} ${first.failure.message}`)) {
      delete result.networkProblem;
      refused(result, `${first.failure.code}: the server did not accept the device certificate`, tlsRefusal('handshake'));
    }
    return result;
  }
  result.tlsVersion = first.tlsVersion;
  if (first.peer?.subject) result.serverSubject = oneLine(first.peer.subject);
  if (proxy && !first.certificateRequested) {
    const e = interceptionError(proxy, target, first.peer?.issuer ? { issuer: oneLine(first.peer.issuer) } : {}, result.serverProblem ?? 'the handshake');
    result.proxyProblem = problemOf(e);
    refused(result, 'the TLS server in the tunnel did not ask for the device certificate: the proxy intercepts TLS');
    return result;
  }
  if (!result.serverTrusted) return result;
  if (first.status === undefined) {
    const f = first.failure;
    if (f?.timedOut) return unknown(result, `no answer within ${timeoutMs / 1000} s after the handshake`);
    refused(
      result,
      f && f.code !== 'closed' ? `${f.code}: the server did not accept the device certificate` : 'the server closed the connection after the handshake: it did not accept the device certificate',
      tlsRefusal('after-handshake'),
    );
    return result;
  }
  result.httpStatus = first.status;
  const excerpt = bodyExcerpt(first.body ?? Buffer.alloc(0));
  if (excerpt) result.httpExcerpt = excerpt;
  const refusal = certificateRefusal(first.status, first.body ?? Buffer.alloc(0));
  if (refusal) {
    const facts = { url: endpoint.href, status: first.status, refusal, ...(excerpt ? { excerpt } : {}), ...localCertificateCause(identity, now()) };
    refused(result, `HTTP ${first.status}${excerpt ? ` "${excerpt}"` : ''}: the server ${refusal === 'missing' ? 'received no device certificate' : 'refused the device certificate'}`, {
      code: first.status === 400 ? 'PLATFORM_BAD_REQUEST' : 'PLATFORM_REFUSED',
      facts,
    });
    return result;
  }
  // A 400, 401 or 403 to the request that carried the certificate is a refusal, never evidence of
  // acceptance: the platform answers a chain it cannot verify with 401 "Invalid certificate chain!".
  const refusedStatus = REFUSING_STATUS[first.status];
  if (refusedStatus) {
    const platform = platformError({ body: first.body ?? Buffer.alloc(0) });
    const facts = { url: endpoint.href, status: first.status, ...(platform ? { platform } : excerpt ? { excerpt } : {}), ...localCertificateCause(identity, now()) };
    const said = platform?.message ?? excerpt;
    refused(result, `HTTP ${first.status}${said ? ` "${said}"` : ''} to the request with the device certificate: refused`, { code: refusedStatus, facts });
    return result;
  }
  // An answer with the certificate: evidence of acceptance only if the server refuses the same request without one.
  const second = await attempt(endpoint, trustOnlyContext(trust), proxy, timeoutMs, () => true);
  const without = second.proxyProblem ? undefined : answerWithout(second);
  if (without) result.withoutCertificate = without.seen;
  if (without?.required) {
    result.clientRequired = true;
    result.clientVerdict = 'accepted';
    result.clientAccepted = true;
    result.clientEvidence = `the server requires one (without it: ${without.seen}) and answered HTTP ${first.status} to GET / with it`;
    return result;
  }
  if (without) result.clientRequired = false;
  return unknown(
    result,
    without
      ? `the server also answers without a certificate (${without.seen}): it asks for one but does not require it, so HTTP ${first.status} shows nothing about acceptance`
      : `the check without a certificate failed, so HTTP ${first.status} shows nothing about acceptance`,
  );
}

function refused(result: HandshakeResult, problem: string, refusal?: HandshakeResult['refusal']): void {
  result.clientVerdict = 'refused';
  result.clientAccepted = false;
  result.clientProblem = problem;
  if (refusal) result.refusal = refusal;
}

function unknown(result: HandshakeResult, problem: string): HandshakeResult {
  result.clientVerdict = 'unknown';
  result.clientProblem = problem;
  return result;
}

/** How a server answered without a client certificate: required when it refused in TLS or with a refusal page. */
function answerWithout(x: Exchange): { required: boolean; seen: string } | undefined {
  if (!x.secure && x.failure && !/alert|certificate/i.test(`${x.failure.code} ${x.failure.message}`)) return undefined;
  if (x.status === undefined) return x.failure?.timedOut ? undefined : { required: true, seen: `the connection ended: ${x.failure?.code ?? 'closed'}` };
  const excerpt = bodyExcerpt(x.body ?? Buffer.alloc(0));
  const seen = `HTTP ${x.status}${excerpt ? ` "${excerpt}"` : ''}`;
  return { required: certificateRefusal(x.status, x.body ?? Buffer.alloc(0)) !== undefined, seen };
}

/** The platform trust alone, for the request made without a device certificate. */
function trustOnlyContext(trust: Trust): SecureContext {
  return createSecureContext({ ...(trust.cas ? { ca: trust.cas.map((c) => c.toString()) } : {}), minVersion: 'TLSv1.2' });
}

/**
 * One connection (through the proxy when given): the handshake, then, when `proceed` says so after
 * looking at it, GET / with `Connection: close`, and the answer's status and first bytes. Never rejects:
 * what ended the connection is in `failure`, a proxy's failure in `proxyProblem`.
 */
async function attempt(endpoint: URL, context: SecureContext, proxy: ProxyRoute | undefined, timeoutMs: number, proceed: (x: Exchange) => boolean): Promise<Exchange> {
  const x: Exchange = { secure: false, authorized: false, certificateRequested: false };
  try {
    const answer = await exchange({
      // GET /, never the token endpoint's path: the probe asks for no token.
      url: new URL('/', endpoint),
      method: 'GET',
      headers: { Accept: '*/*', Connection: 'close' },
      // Through a proxy, TLS runs inside the tunnel: SNI, client certificate and trust are the platform's.
      tls: { ...platformTlsOptions(endpoint, context), rejectUnauthorized: false },
      proxy,
      // The probe judges the tunnel's far end itself (above), to report it.
      clientCertExpected: false,
      timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
      read: 'excerpt',
      facts: { url: endpoint.href },
      waitForHandshake: true,
      beforeSend: (socket) => {
        x.secure = true;
        x.tlsVersion = socket.getProtocol() ?? undefined;
        x.peer = socket.getPeerCertificate();
        x.authorized = socket.authorized;
        if (socket.authorizationError) x.authorizationError = String(socket.authorizationError);
        x.certificateRequested = socket.getSharedSigalgs().length > 0;
        return proceed(x);
      },
      classify: (err) => {
        // Kept as Node reported it: the probe words what it saw itself. The http client's "socket hang up"
        // is the server closing the connection without an answer.
        const code = (err as NodeJS.ErrnoException).code;
        x.failure ??= err.message === 'socket hang up' ? { code: 'closed', message: 'the server closed the connection' } : { code: code ?? 'error', message: err.message };
        return new C8yError('NETWORK_FAILED', { url: endpoint.href }, { cause: err });
      },
    });
    if (answer) {
      x.status = answer.status;
      x.body = answer.body;
    }
  } catch (err) {
    if (!(err instanceof C8yError)) throw err;
    if (x.failure) return x;
    if (isC8yError(err, 'TIMEOUT') && err.facts.stage !== 'proxy') x.failure = { code: 'timeout', message: `no answer within ${timeoutMs / 1000} s`, timedOut: true };
    // Before the tunnel was open, or the proxy's answer to CONNECT: what fetch would fail with.
    else x.proxyProblem = problemOf(err);
  }
  return x;
}
