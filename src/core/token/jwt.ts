/**
 * JWT decoding (no signature verification: the device cannot verify a platform token, and does not need
 * to). Tolerant of what real tokens carry: absent claims, claims of unexpected types (a string `nbf` has
 * been seen), no padding. Every malformed form has its own reason.
 */
import { C8yError } from '../errors.js';

export type JwtProblem = 'empty' | 'parts' | 'base64url' | 'json' | 'not-object';

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** The signature part as sent (base64url); treat it as a secret in output. */
  signature: string;
  /** The whole compact token. */
  token: string;
}

const PROBLEM_TEXT: Record<JwtProblem, string> = {
  empty: 'it is empty',
  parts: 'it does not have three dot-separated parts (header.payload.signature)',
  base64url: 'a part is not base64url text',
  json: 'a part does not decode to JSON',
  'not-object': 'the header or payload is JSON but not an object',
};

/** A token that is not a JWT: code TOKEN_MALFORMED, with `problem` naming which form of malformed. */
export class JwtError extends C8yError {
  constructor(
    readonly problem: JwtProblem,
    where: string,
    detail?: string,
  ) {
    super('TOKEN_MALFORMED', `The token ${where} is not a JWT: ${PROBLEM_TEXT[problem]}${detail ? ` (${detail})` : ''}.`, {
      hint: 'A token is three base64url parts joined by dots, starting "eyJ". Check that nothing was cut or added.',
      details: { problem },
    });
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Removes what people paste around a token: whitespace, "Bearer ", "Authorization: Bearer ". */
export function cleanToken(text: string): string {
  return text.trim().replace(/^authorization:\s*/i, '').replace(/^bearer\s+/i, '').trim();
}

/** Decodes a compact JWS; `where` names the source in messages ("from stdin", "in FILE"). */
export function decodeJwt(token: string, where = ''): DecodedJwt {
  const at = where ? where : '';
  if (typeof token !== 'string' || token === '') throw new JwtError('empty', at);
  const parts = token.split('.');
  if (parts.length === 5) throw new JwtError('parts', at, 'it has 5 parts: an encrypted JWT (JWE), which cannot be read without its key');
  if (parts.length !== 3) throw new JwtError('parts', at, `found ${parts.length}`);
  const [h, p, s] = parts as [string, string, string];
  const header = decodePart(h, 'header', at);
  const claims = decodePart(p, 'payload', at);
  if (!BASE64URL.test(s)) throw new JwtError('base64url', at, 'signature');
  return { header, claims, signature: s, token };
}

function decodePart(part: string, name: string, where: string): Record<string, unknown> {
  // base64url without padding (RFC 7515 §2); a length of 1 mod 4 cannot be produced by any input.
  if (part === '' || !BASE64URL.test(part) || part.length % 4 === 1) throw new JwtError('base64url', where, name);
  const bytes = Buffer.from(part, 'base64url');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new JwtError('json', where, `${name} is not UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JwtError('json', where, name);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtError('not-object', where, name);
  return value as Record<string, unknown>;
}

/** A NumericDate claim as seconds, or undefined when absent or not a usable number. */
export function numericDate(value: unknown): number | undefined {
  // A numeric string has been seen in real tokens for nbf; accept it, as the platform's clients do.
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  // Beyond year 275760 a Date cannot represent it: treat as unusable rather than produce Invalid Date.
  return Number.isFinite(n) && n >= 0 && n * 1000 <= 8.64e15 ? n : undefined;
}

export interface TokenTimes {
  issuedAt?: number;
  notBefore?: number;
  expiresAt?: number;
  /** iat + (exp - iat) / 2: the platform hands out a new token only after this (cumulocity.md). */
  refreshAfter?: number;
  lifetimeSeconds?: number;
  /** What could not be worked out and why, e.g. "exp is a string". */
  problems: string[];
}

/** The times a token's claims give, in seconds since the epoch; odd claims become problems, never throws. */
export function tokenTimes(claims: Record<string, unknown>): TokenTimes {
  const problems: string[] = [];
  const read = (name: 'iat' | 'nbf' | 'exp'): number | undefined => {
    const raw = claims[name];
    if (raw === undefined || raw === null) return undefined;
    const n = numericDate(raw);
    if (n === undefined) problems.push(`${name} is not a usable date (${JSON.stringify(raw)})`);
    return n;
  };
  const times: TokenTimes = { problems };
  const iat = read('iat');
  const nbf = read('nbf');
  const exp = read('exp');
  if (iat !== undefined) times.issuedAt = iat;
  if (nbf !== undefined) times.notBefore = nbf;
  if (exp !== undefined) times.expiresAt = exp;
  if (exp === undefined && claims.exp === undefined) problems.push('exp is missing: the token does not say when it expires');
  const start = iat ?? nbf;
  if (start !== undefined && exp !== undefined) {
    if (exp >= start) {
      times.lifetimeSeconds = exp - start;
      times.refreshAfter = start + (exp - start) / 2;
    } else {
      problems.push('exp is before iat');
    }
  }
  return times;
}

export type TokenStatus = 'valid' | 'expiring-soon' | 'expired' | 'not-yet-valid' | 'unknown';

/** The token's status at `nowSeconds`; "expiring-soon" when it expires within `soonSeconds`. */
export function tokenStatus(times: TokenTimes, nowSeconds: number, soonSeconds = 0): TokenStatus {
  if (times.notBefore !== undefined && nowSeconds < times.notBefore) return 'not-yet-valid';
  if (times.expiresAt === undefined) return 'unknown';
  if (nowSeconds >= times.expiresAt) return 'expired';
  if (soonSeconds > 0 && times.expiresAt - nowSeconds <= soonSeconds) return 'expiring-soon';
  return 'valid';
}

/** Seconds since the epoch as an ISO 8601 string. */
export function isoTime(seconds: number | undefined): string | undefined {
  return seconds === undefined ? undefined : new Date(seconds * 1000).toISOString();
}
