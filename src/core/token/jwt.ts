/**
 * JWT decoding (no signature verification: the device cannot verify a platform token, and does not need
 * to). Tolerant of what real tokens carry: absent claims, claims of unexpected types (a string `nbf` has
 * been seen), no padding. Every malformed form has its own reason.
 */
import { C8yError } from '../errors.js';
import { LIMITS } from '../limits.js';

/** Claims that are secrets of the session (the token's own CSRF value): shown only when asked for. */
export const SECRET_CLAIMS: ReadonlySet<string> = new Set(['xsrfToken']);
export type JwtProblem = 'empty' | 'parts' | 'base64url' | 'json' | 'not-object' | 'too-large' | 'too-deep';

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** The signature part as sent (base64url); treat it as a secret in output. */
  signature: string;
  /** The whole compact token. */
  token: string;
}

/** A token that is not a JWT: code TOKEN_MALFORMED, with `problem` naming which form of malformed. */
export class JwtError extends C8yError<'TOKEN_MALFORMED'> {
  constructor(
    readonly problem: JwtProblem,
    where: string,
    detail?: string,
  ) {
    super('TOKEN_MALFORMED', { problem, where, ...(detail ? { reason: detail } : {}) });
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Removes what people paste around a token: whitespace, "Bearer ", "Authorization: Bearer ". */
export function cleanToken(text: string): string {
  return text
    .trim()
    .replace(/^authorization:\s*/i, '')
    .replace(/^bearer\s+/i, '')
    .trim();
}

/** Decodes a compact JWS; `where` names the source in messages ("from stdin", "in FILE"). */
export function decodeJwt(token: string, where = ''): DecodedJwt {
  const at = where ? where : '';
  if (typeof token !== 'string' || token === '') throw new JwtError('empty', at);
  if (token.length > LIMITS.tokenBytes) throw new JwtError('too-large', at, `${token.length} characters`);
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
  // JSON.parse takes any depth, but every later walk (JSON.stringify for --json, printing) recurses.
  const depth = jsonDepth(text);
  if (depth > LIMITS.jsonDepth) throw new JwtError('too-deep', where, `${name} nested more than ${LIMITS.jsonDepth} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JwtError('json', where, name);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtError('not-object', where, name);
  return value as Record<string, unknown>;
}

/** The deepest nesting of arrays and objects in JSON text, counted in one pass (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
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

/**
 * Why a token from the platform cannot be used, or undefined: its expiry must be readable, after its
 * issue, and within LIMITS.tokenLifetimeSeconds (a token that never expires would never be refreshed).
 */
export function unusableReason(times: TokenTimes): string | undefined {
  if (times.expiresAt === undefined) return times.problems.find((p) => p.startsWith('exp')) ?? 'exp is missing';
  const start = times.issuedAt ?? times.notBefore;
  if (start !== undefined && times.expiresAt <= start) return 'exp is not after iat';
  if (start !== undefined && times.expiresAt - start > LIMITS.tokenLifetimeSeconds) return `a lifetime of ${Math.round((times.expiresAt - start) / 86_400)} days`;
  return undefined;
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
