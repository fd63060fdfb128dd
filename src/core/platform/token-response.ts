/**
 * Reading the platform's answer: a 200 with {"accessToken": "<JWT>"} whatever the content type says,
 * or an error with the platform's JSON {error, message, info}, or a proxy's HTML page reduced to a line.
 * Text from the platform is kept short and free of control characters before it goes anywhere.
 */
import { C8yError, type ErrorCode, type ErrorFacts } from '../errors.js';
import { shownText } from '../text.js';
import { decodeJwt, JwtError, tokenTimes, unusableReason, type DecodedJwt } from '../token/jwt.js';
import type { RawResponse } from './request.js';

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'PLATFORM_BAD_REQUEST',
  401: 'PLATFORM_UNAUTHORIZED',
  403: 'PLATFORM_FORBIDDEN',
  404: 'PLATFORM_FEATURE_DISABLED',
  422: 'PLATFORM_UNPROCESSABLE',
  429: 'PLATFORM_BUSY',
};

/** The token from a 200 answer; any other answer becomes the C8yError of its class. */
export function tokenFromResponse(res: RawResponse, url: URL): DecodedJwt {
  if (res.status === 200) return parseSuccess(res, url);
  throw errorFromResponse(res, url);
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
  const facts: ErrorFacts = { url: url.href, status: res.status, ...(platform ? { platform } : excerptFact(res)) };
  if (res.status >= 300 && res.status < 400) return new C8yError('PLATFORM_REFUSED', { ...facts, reason: 'redirect', ...(res.location ? { location: shownText(res.location) } : {}) });
  const known = STATUS_CODES[res.status];
  if (known) return new C8yError(known, facts);
  if (res.status >= 500) return new C8yError('PLATFORM_ERROR', facts);
  return new C8yError(res.status >= 400 ? 'PLATFORM_REFUSED' : 'BAD_RESPONSE', facts);
}

function platformError(res: RawResponse): ErrorFacts['platform'] | undefined {
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
