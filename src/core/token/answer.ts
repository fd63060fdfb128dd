/**
 * The platform's answer to a token request: a 200 with {"accessToken": "<JWT>"} whatever the content type
 * says, decoded and judged usable; any other answer becomes the C8yError of its class (platform/token-response.ts).
 */
import { C8yError } from '../errors.js';
import type { RawResponse } from '../platform/request.js';
import { errorFromResponse, excerptFact } from '../platform/token-response.js';
import { localCertificateCause, type SentIdentity } from '../platform/local-cause.js';
import { decodeJwt, JwtError, tokenTimes, unusableReason, type DecodedJwt } from './jwt.js';

/** The token from a 200 answer; any other answer becomes the C8yError of its class. */
export function tokenFromResponse(res: RawResponse, url: URL, sent?: { identity: SentIdentity; now: number }): DecodedJwt {
  if (res.status === 200) return parseSuccess(res, url);
  // A refusal after the device certificate was sent: what is wrong with it here is named first.
  const refused = sent && (res.status === 400 || res.status === 401 || res.status === 403);
  throw errorFromResponse(res, url, refused ? localCertificateCause(sent.identity, sent.now) : undefined);
}

function parseSuccess(res: RawResponse, url: URL): DecodedJwt {
  const facts = { url: url.href, status: res.status };
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
