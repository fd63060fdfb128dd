/**
 * Reading the platform's answer: a 200 with {"accessToken": "<JWT>"} whatever the content type says,
 * or an error with the platform's JSON {error, message, info}, or a proxy's HTML page reduced to a line.
 */
import { C8yError, type ErrorCode } from '../errors.js';
import { decodeJwt, JwtError, type DecodedJwt } from '../token/jwt.js';
import type { RawResponse } from './request.js';

interface PlatformError {
  error?: string;
  message?: string;
  info?: string;
}

const STATUS_CODES: Record<number, { code: ErrorCode; meaning: string; hint: string }> = {
  400: {
    code: 'PLATFORM_BAD_REQUEST',
    meaning: 'the platform could not parse the certificate chain',
    hint: 'Check the certificate files; try --chain-header none or full, and run `c8ytoken verify-chain`.',
  },
  401: {
    code: 'PLATFORM_UNAUTHORIZED',
    meaning: 'a certificate is revoked or the chain is not valid for this tenant',
    hint: 'Check that the device CA (or an intermediate of the chain) is uploaded to the tenant and trusted; run `c8ytoken verify-chain --device-ca CA.pem`.',
  },
  403: {
    code: 'PLATFORM_FORBIDDEN',
    meaning: 'the device is not authorized',
    hint: 'Check the device is registered for certificate authentication (auto-registration on the CA, or bulk registration with AUTH_TYPE=CERTIFICATES).',
  },
  404: {
    code: 'PLATFORM_FEATURE_DISABLED',
    meaning: 'the device access token feature is not available on this platform (or the URL is not a Cumulocity tenant)',
    hint: 'Ask the platform administrator to enable device access tokens; check the URL.',
  },
  422: {
    code: 'PLATFORM_UNPROCESSABLE',
    meaning: 'certificate verification or auto-registration failed',
    hint: 'Check the CA uploaded to the tenant has auto-registration enabled, and that the certificate CN is a valid device name.',
  },
  429: {
    code: 'PLATFORM_BUSY',
    meaning: 'too many requests',
    hint: 'Wait and retry; a token stays valid for its lifetime, so fetch it once and reuse it (fetch -o FILE).',
  },
};

/** The token from a 200 answer; any other answer becomes the C8yError of its class. */
export function tokenFromResponse(res: RawResponse, url: URL): DecodedJwt {
  if (res.status === 200) return parseSuccess(res, url);
  throw errorFromResponse(res, url);
}

function parseSuccess(res: RawResponse, url: URL): DecodedJwt {
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new C8yError('BAD_RESPONSE', `${url.href} answered 200 but the body is not JSON${excerptNote(res)}.`, {
      hint: 'Check the URL points at the Cumulocity tenant and no proxy rewrites the answer; retry later.',
    });
  }
  const token = typeof body === 'object' && body !== null ? (body as { accessToken?: unknown }).accessToken : undefined;
  if (typeof token !== 'string' || token.trim() === '') {
    throw new C8yError('NO_TOKEN', `${url.href} answered 200 without an accessToken.`, {
      hint: 'Retry later; if it persists, report it to the platform operator.',
    });
  }
  try {
    return decodeJwt(token.trim(), 'from the platform');
  } catch (err) {
    if (err instanceof JwtError) {
      throw new C8yError('NO_TOKEN', `${url.href} answered 200 but its accessToken is not a JWT (${err.problem}).`, {
        hint: 'Retry later; if it persists, report it to the platform operator.',
      });
    }
    throw err;
  }
}

/** The classified error of a non-200 answer, with the platform's own error and message when it sent JSON. */
export function errorFromResponse(res: RawResponse, url: URL): C8yError {
  const known = STATUS_CODES[res.status];
  const platform = platformError(res);
  const said = platform ? ` The platform said: ${[platform.error, platform.message].filter(Boolean).join(': ')}.` : excerptNote(res, true);
  const details: Record<string, unknown> = { status: res.status, url: url.href };
  if (platform) details.platform = platform;
  if (res.status >= 300 && res.status < 400) {
    return new C8yError('PLATFORM_REFUSED', `${url.href} answered HTTP ${res.status}, a redirect${res.location ? ` to ${res.location}` : ''}; c8ytoken does not follow redirects with device credentials.`, {
      hint: 'Use the tenant URL the platform redirects to, with its port.',
      details,
    });
  }
  if (known) {
    return new C8yError(known.code, `${url.href} answered HTTP ${res.status}: ${known.meaning}.${said}`, { hint: known.hint, details });
  }
  if (res.status >= 500) {
    return new C8yError('PLATFORM_ERROR', `${url.href} answered HTTP ${res.status}: the platform failed.${said}`, {
      hint: 'Retry later; a platform error is usually temporary.',
      details,
    });
  }
  return new C8yError(res.status >= 400 ? 'PLATFORM_REFUSED' : 'BAD_RESPONSE', `${url.href} answered HTTP ${res.status}.${said}`, {
    hint: 'Check the URL points at the Cumulocity tenant token endpoint.',
    details,
  });
}

function platformError(res: RawResponse): PlatformError | undefined {
  try {
    const body = JSON.parse(res.body.toString('utf8')) as unknown;
    if (typeof body !== 'object' || body === null) return undefined;
    const { error, message, info } = body as Record<string, unknown>;
    const out: PlatformError = {};
    if (typeof error === 'string') out.error = error;
    if (typeof message === 'string') out.message = message;
    if (typeof info === 'string') out.info = info;
    return out.error || out.message ? out : undefined;
  } catch {
    return undefined;
  }
}

/** A short, readable excerpt of a non-JSON body (an nginx HTML page becomes its title), or nothing. */
export function bodyExcerpt(body: Buffer, max = 160): string {
  const text = body.toString('utf8');
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1];
  const plain = (title ?? text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' '))
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  // Control characters from a binary body would garble the terminal.
  const safe = plain.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

function excerptNote(res: RawResponse, sentence = false): string {
  const excerpt = bodyExcerpt(res.body);
  if (!excerpt) return '';
  return sentence ? ` The answer was: "${excerpt}".` : ` ("${excerpt}")`;
}
