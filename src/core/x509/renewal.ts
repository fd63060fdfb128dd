/** When to renew: a pure verdict on a certificate's notAfter, with the clock as a parameter. */
import type { X509Certificate } from 'node:crypto';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The answer of renewalVerdict. */
export interface RenewalVerdict {
  /** True when the certificate expires within `withinMs` from now (or has expired). */
  renewNow: boolean;
  notAfter: Date;
  /** Whole days left, rounded down; negative once expired. */
  daysLeft: number;
  /** Expired already: no token can be had with it, so it cannot be renewed over EST either; enroll again. */
  expired: boolean;
}

/** Whether `cert` is due for renewal at `nowMs` with a window of `withinMs` (needs-renewal, watch --renew-before). */
export function renewalVerdict(cert: X509Certificate, withinMs: number, nowMs: number): RenewalVerdict {
  return renewalVerdictAt(new Date(cert.validTo), withinMs, nowMs);
}

/** The same verdict from the notAfter date alone (a watch's sidecar gives no certificate, only its date). */
export function renewalVerdictAt(notAfter: Date, withinMs: number, nowMs: number): RenewalVerdict {
  const left = notAfter.getTime() - nowMs;
  return {
    renewNow: left <= withinMs,
    notAfter,
    daysLeft: Math.floor(left / DAY_MS),
    expired: left < 0,
  };
}
