/**
 * Reading a refusal from the platform: an error with the platform's JSON {error, message, info}, or a
 * proxy's HTML page reduced to a line (token/answer.ts reads the 200 with the token). Text from the
 * platform is kept short and free of control characters before it goes anywhere.
 */
import { C8yError, type LocalCause, type PlatformAnswer, type PlatformSaid } from '../errors.js';
import { shownText } from '../text.js';
import type { RawResponse } from './request.js';
import { retryAfterSeconds } from './retry-after.js';

const STATUS_CODES: Record<number, 'PLATFORM_BAD_REQUEST' | 'PLATFORM_UNAUTHORIZED' | 'PLATFORM_FORBIDDEN' | 'PLATFORM_FEATURE_DISABLED' | 'PLATFORM_UNPROCESSABLE' | 'PLATFORM_BUSY'> = {
  400: 'PLATFORM_BAD_REQUEST',
  401: 'PLATFORM_UNAUTHORIZED',
  403: 'PLATFORM_FORBIDDEN',
  404: 'PLATFORM_FEATURE_DISABLED',
  422: 'PLATFORM_UNPROCESSABLE',
  429: 'PLATFORM_BUSY',
};

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
 * The classified error of a non-200 answer, with the platform's own error and message when it sent JSON,
 * and what is wrong with the device certificate sent when that shows by itself (local).
 */
export function errorFromResponse(res: RawResponse, url: URL, local?: LocalCause): C8yError {
  const platform = platformError(res);
  const refusal = platform ? undefined : certificateRefusal(res.status, res.body);
  const facts: PlatformAnswer = { url: url.href, status: res.status, ...(platform ? { platform } : excerptFact(res)), ...(refusal ? { refusal } : {}), ...local };
  if (res.status >= 300 && res.status < 400) return new C8yError('PLATFORM_REFUSED', { ...facts, reason: 'redirect', ...(res.location ? { location: shownText(res.location) } : {}) });
  const wait = res.status === 429 || res.status === 503 ? retryAfterSeconds(res.retryAfter, res.date, res.receivedAt) : undefined;
  if (wait !== undefined) facts.retryAfterSeconds = wait;
  const known = STATUS_CODES[res.status];
  if (known) return new C8yError(known, facts);
  if (res.status >= 500) return new C8yError('PLATFORM_ERROR', facts);
  return new C8yError(res.status >= 400 ? 'PLATFORM_REFUSED' : 'BAD_RESPONSE', facts);
}

export function platformError(res: Pick<RawResponse, 'body'>): PlatformSaid | undefined {
  try {
    const body = JSON.parse(res.body.toString('utf8')) as unknown;
    if (typeof body !== 'object' || body === null) return undefined;
    const { error, message, info } = body as Record<string, unknown>;
    const out: PlatformSaid = {};
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

export function excerptFact(res: RawResponse): { excerpt?: string } {
  const excerpt = bodyExcerpt(res.body);
  return excerpt ? { excerpt } : {};
}
