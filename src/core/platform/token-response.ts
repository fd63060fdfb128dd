/**
 * Reading the platform's answer: a 200 with {"accessToken": "<JWT>"} whatever the content type says,
 * or an error with the platform's JSON {error, message, info}, or a proxy's HTML page reduced to a line.
 * Text from the platform is kept short and free of control characters before it goes anywhere.
 */
import type { X509Certificate } from 'node:crypto';
import { C8yError, type ErrorCode, type ErrorFacts } from '../errors.js';
import { shownText } from '../text.js';
import { isSelfSigned } from '../x509/path.js';
import { dnOneLine } from '../x509/names.js';
import { decodeJwt, JwtError, tokenTimes, unusableReason, type DecodedJwt } from '../token/jwt.js';
import type { RawResponse } from './request.js';
import { retryAfterSeconds } from './retry-after.js';

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'PLATFORM_BAD_REQUEST',
  401: 'PLATFORM_UNAUTHORIZED',
  403: 'PLATFORM_FORBIDDEN',
  404: 'PLATFORM_FEATURE_DISABLED',
  422: 'PLATFORM_UNPROCESSABLE',
  429: 'PLATFORM_BUSY',
};

/** The device identity a request was made with, for naming a local cause of a refusal. */
export interface SentIdentity {
  /** The path sent: leaf first. */
  chain: readonly X509Certificate[];
  /** Where it came from (a file, or a keystore entry). */
  source: string;
}

/** The token from a 200 answer; any other answer becomes the C8yError of its class. */
export function tokenFromResponse(res: RawResponse, url: URL, sent?: { identity: SentIdentity; now: number }): DecodedJwt {
  if (res.status === 200) return parseSuccess(res, url);
  const err = errorFromResponse(res, url);
  // A refusal after the device certificate was sent: what is wrong with it here is named first.
  if (sent && (res.status === 400 || res.status === 401 || res.status === 403)) {
    const local = localCertificateCause(sent.identity, sent.now);
    if (local) throw new C8yError(err.code, { ...err.facts, ...local });
  }
  throw err;
}

/**
 * What nginx (and proxies built like it) answers when it checks the client certificate itself:
 * 'refused' for "400 The SSL certificate error" (nginx's 495), 'missing' for "400 No required SSL
 * certificate was sent" (its 496). Undefined for any other answer.
 */
export function certificateRefusal(status: number, body: Buffer): 'refused' | 'missing' | undefined {
  if (status === 495) return 'refused';
  if (status === 496) return 'missing';
  if (status !== 400) return undefined;
  const text = body.subarray(0, 16 * 1024).toString('latin1');
  if (/No required SSL certificate/i.test(text)) return 'missing';
  if (/SSL certificate error|certificate (?:verify|verification) (?:error|failed)/i.test(text)) return 'refused';
  return undefined;
}

/**
 * A cause of a refusal that the identity in hand shows by itself, most telling first: the device
 * certificate expired, is not yet valid, or the chain ends at a certificate whose issuer is not there
 * (the leaf alone, not self-signed: an intermediate is missing, or the server does not know its issuer).
 * A chain that ends at an intermediate is normal (the root is never sent) and names nothing.
 */
export function localCertificateCause(identity: SentIdentity, now: number): ErrorFacts | undefined {
  const leaf = identity.chain[0];
  if (!leaf) return undefined;
  const base: ErrorFacts = { path: identity.source, role: 'certificate', subject: dnOneLine(leaf.subject) };
  const notAfter = Date.parse(leaf.validTo);
  const notBefore = Date.parse(leaf.validFrom);
  if (!Number.isNaN(notAfter) && notAfter < now) {
    return { ...base, localCause: 'expired', certificateNotAfter: new Date(notAfter).toISOString(), expiredDays: Math.floor((now - notAfter) / 86_400_000) };
  }
  if (!Number.isNaN(notBefore) && notBefore > now) return { ...base, localCause: 'not-yet-valid', certificateNotBefore: new Date(notBefore).toISOString() };
  const last = identity.chain[identity.chain.length - 1]!;
  if (identity.chain.length === 1 && !isSelfSigned(last)) return { ...base, localCause: 'issuer-missing', missingIssuer: dnOneLine(last.issuer) };
  return undefined;
}

function parseSuccess(res: RawResponse, url: URL): DecodedJwt {
  const facts: ErrorFacts = { url: url.href, status: res.status };
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new C8yError('BAD_RESPONSE', { ...facts, ...excerptFact(res) });
  }
  const token = typeof body === 'object' && body !== null ? (body as { accessToken?: unknown }).accessToken : undefined;
  if (typeof token !== 'string' || token.trim() === '') throw new C8yError('NO_TOKEN', { ...facts, reason: 'no accessToken' });
  let jwt: DecodedJwt;
  try {
    jwt = decodeJwt(token.trim(), 'from the platform');
  } catch (err) {
    if (err instanceof JwtError) throw new C8yError('NO_TOKEN', { ...facts, reason: `the accessToken is not a JWT (${err.problem})` });
    throw err;
  }
  const unusable = unusableReason(tokenTimes(jwt.claims));
  if (unusable) throw new C8yError('NO_TOKEN', { ...facts, reason: `the token is unusable: ${unusable}` });
  return jwt;
}

/** The classified error of a non-200 answer, with the platform's own error and message when it sent JSON. */
export function errorFromResponse(res: RawResponse, url: URL): C8yError {
  const platform = platformError(res);
  const refusal = platform ? undefined : certificateRefusal(res.status, res.body);
  const facts: ErrorFacts = { url: url.href, status: res.status, ...(platform ? { platform } : excerptFact(res)), ...(refusal ? { refusal } : {}) };
  if (res.status >= 300 && res.status < 400) return new C8yError('PLATFORM_REFUSED', { ...facts, reason: 'redirect', ...(res.location ? { location: shownText(res.location) } : {}) });
  const wait = res.status === 429 || res.status === 503 ? retryAfterSeconds(res.retryAfter, res.date, res.receivedAt) : undefined;
  if (wait !== undefined) facts.retryAfterSeconds = wait;
  const known = STATUS_CODES[res.status];
  if (known) return new C8yError(known, facts);
  if (res.status >= 500) return new C8yError('PLATFORM_ERROR', facts);
  return new C8yError(res.status >= 400 ? 'PLATFORM_REFUSED' : 'BAD_RESPONSE', facts);
}

export function platformError(res: Pick<RawResponse, 'body'>): ErrorFacts['platform'] | undefined {
  try {
    const body = JSON.parse(res.body.toString('utf8')) as unknown;
    if (typeof body !== 'object' || body === null) return undefined;
    const { error, message, info } = body as Record<string, unknown>;
    const out: NonNullable<ErrorFacts['platform']> = {};
    if (typeof error === 'string') out.error = shownText(error);
    if (typeof message === 'string') out.message = shownText(message);
    if (typeof info === 'string') out.info = shownText(info);
    return out.error || out.message ? out : undefined;
  } catch {
    return undefined;
  }
}

/** A short, readable excerpt of a non-JSON body (an nginx HTML page becomes its title), or nothing. */
export function bodyExcerpt(body: Buffer, max = 160): string {
  // Bounded work on any body: the first 16 KiB, and patterns that scan at most a few hundred characters.
  const text = body.subarray(0, 16 * 1024).toString('utf8');
  const title = /<title[^>]{0,200}>([^<]{0,1000})<\/title>/i.exec(text)?.[1];
  const plain = (title ?? text.replace(/<[^<>]{0,200}>/g, ' '))
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return shownText(plain, max);
}

function excerptFact(res: RawResponse): ErrorFacts {
  const excerpt = bodyExcerpt(res.body);
  return excerpt ? { excerpt } : {};
}
