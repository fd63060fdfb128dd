/**
 * This device's clock against the platform's. Devices without a real-time clock boot with a wrong time;
 * token decisions (expired? past its half-life? when to refresh?) are about the platform's clock, so
 * the offset is estimated from every answer (its Date header; a new token's iat when there is no Date)
 * and times are converted with it. The time is always a parameter.
 */
import { formatDuration } from '../time/duration.js';

/** Offset = platform time - local time, in ms; what it was estimated from. */
export interface ClockOffset {
  offsetMs: number;
  basis: 'Date header' | 'iat';
}

/** Beyond this the offset is named in a warning (a minute: far above network delays and rounding). */
export const SKEW_WARNING_MS = 60_000;
/** Below this an estimate is noise (a Date header has one-second precision, plus the network's delay): taken as 0. */
export const SKEW_PRECISION_MS = 2_000;

/**
 * The offset from an answer received at `receivedAt` (local ms): the Date header (one-second precision,
 * so its middle is taken), or, only for a token known to be newly issued, its iat.
 */
export function estimateOffset(answer: { date?: string | undefined; receivedAt: number }, iat: number | undefined, newlyIssued: boolean): ClockOffset | undefined {
  const date = answer.date ? Date.parse(answer.date) : NaN;
  const estimate = (platformMs: number, basis: ClockOffset['basis']): ClockOffset => {
    const offsetMs = platformMs + 500 - answer.receivedAt;
    return { offsetMs: Math.abs(offsetMs) < SKEW_PRECISION_MS ? 0 : offsetMs, basis };
  };
  if (!Number.isNaN(date)) return estimate(date, 'Date header');
  if (newlyIssued && iat !== undefined) return estimate(iat * 1000, 'iat');
  return undefined;
}

/** The platform's time now, in seconds, by the local clock and the offset (none known: the local clock). */
export function platformNowSeconds(localMs: number, offset: ClockOffset | undefined): number {
  return (localMs + (offset?.offsetMs ?? 0)) / 1000;
}

/** The local time (ms) at which the platform's clock shows `platformSeconds`. */
export function localMsOf(platformSeconds: number, offset: ClockOffset | undefined): number {
  return platformSeconds * 1000 - (offset?.offsetMs ?? 0);
}

/** "1 h 30 min behind the platform's", or undefined when the offset is within SKEW_WARNING_MS. */
export function skewText(offset: ClockOffset | undefined): string | undefined {
  if (!offset || Math.abs(offset.offsetMs) <= SKEW_WARNING_MS) return undefined;
  return `${formatDuration(Math.abs(offset.offsetMs))} ${offset.offsetMs > 0 ? 'behind' : 'ahead of'} the platform's`;
}
