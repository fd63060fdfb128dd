/**
 * When to ask the platform for a token, and when to try again. The half-life rule (cumulocity.md): a
 * device gets a new token only after iat + (exp - iat) / 2, so never ask earlier; what the platform
 * answers earlier is most likely the same token again. Times are the platform's, converted to this
 * device's clock with the estimated offset (token/clock.ts).
 */
import { tokenTimes, type DecodedJwt, type TokenTimes } from './jwt.js';
import { localMsOf, type ClockOffset } from './clock.js';

/**
 * A cached token is reusable when it is for this device and host and before its half-life, judged twice:
 * by the local clock against its claims, and by its age since `issuedLocalMs` (the token file's
 * modification time, set to when the token was issued on this device's clock). A device clock that is
 * off makes one of the two say no, never both say yes wrongly. `reason` completes "the token ...".
 */
export function reusableToken(jwt: DecodedJwt, deviceUser: string | undefined, host: string, nowMs: number, issuedLocalMs?: number): { reusable: boolean; reason: string; times: TokenTimes } {
  const times = tokenTimes(jwt.claims);
  const now = nowMs / 1000;
  if (deviceUser !== undefined && jwt.claims.sub !== deviceUser) return { reusable: false, reason: `is for ${String(jwt.claims.sub)}, not ${deviceUser}`, times };
  // A token says which tenant host issued it; one from another host is of no use here.
  if (typeof jwt.claims.iss === 'string' && jwt.claims.iss !== host) return { reusable: false, reason: `was issued by ${jwt.claims.iss}, not ${host}`, times };
  if (times.expiresAt === undefined || times.refreshAfter === undefined || times.lifetimeSeconds === undefined) return { reusable: false, reason: 'has times that cannot be read', times };
  if (now >= times.expiresAt) return { reusable: false, reason: 'has expired', times };
  if (now >= times.refreshAfter) return { reusable: false, reason: 'is past its half-life', times };
  if (issuedLocalMs !== undefined) {
    const age = nowMs - issuedLocalMs;
    if (age < -5_000 || age >= (times.lifetimeSeconds * 1000) / 2) return { reusable: false, reason: 'is past its half-life by its age on this device (the clock may be off)', times };
  }
  return { reusable: true, reason: 'before its half-life', times };
}

export interface ScheduleOptions {
  /** 0..1, drawn fresh for each schedule (Math.random in production; fixed in tests). */
  random: number;
  /** The platform's clock against the local one (none known: the local clock is taken as right). */
  offset?: ClockOffset | undefined;
}

/**
 * When to refresh a token, on the local clock: its half-life plus a small jitter (at most 5% of the
 * lifetime, at most 60 s), so a fleet started together does not ask together; never before the
 * half-life, always well before expiry. Undefined when the token's times cannot be read.
 */
export function refreshTime(times: TokenTimes, opts: ScheduleOptions): number | undefined {
  if (times.refreshAfter === undefined || times.lifetimeSeconds === undefined) return undefined;
  const jitter = Math.min(times.lifetimeSeconds * 0.05, 60) * opts.random;
  return localMsOf(times.refreshAfter + jitter, opts.offset);
}

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

/** Capped exponential backoff with full jitter (attempt 1, 2, ...): a delay between min and the cap. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: number): number {
  const ceiling = Math.min(opts.maxMs, opts.minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.max(opts.minMs, Math.round(ceiling * (0.5 + random / 2)));
}

/**
 * The retry delay once the held token has expired: the backoff, but never longer than a quarter of the
 * token's lifetime (nor shorter than `minMs`), so a device is back within moments of the platform after a
 * long outage, and still never busy-loops.
 */
export function expiredRetryDelay(backoffMs: number, lifetimeSeconds: number | undefined, minMs: number): number {
  if (lifetimeSeconds === undefined) return backoffMs;
  return Math.max(minMs, Math.min(backoffMs, (lifetimeSeconds * 1000) / 4));
}
