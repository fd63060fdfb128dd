/** When to renew: a pure verdict on a certificate's validity, with the clock as a parameter. */
import type { X509Certificate } from 'node:crypto';
import { formatDuration } from '../time/duration.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The answer of renewalVerdict. */
export interface RenewalVerdict {
  /** True when the certificate expires within `withinMs` from now (or has expired). */
  renewNow: boolean;
  notAfter: Date;
  /** notAfter - notBefore; undefined when only notAfter is known. */
  lifetimeMs: number | undefined;
  /**
   * The window is at least the certificate's whole lifetime (`--within 400d` on a one-year certificate):
   * every certificate like it is inside the window from the day it is issued, so each renewal is due again at once.
   */
  windowExceedsLifetime: boolean;
  /** Whole days left, rounded down; negative once expired. */
  daysLeft: number;
  /** Expired already: no token can be had with it, so it cannot be renewed over EST either; enroll again. */
  expired: boolean;
}

/** Whether `cert` is due for renewal at `nowMs` with a window of `withinMs` (needs-renewal, watch --renew-before). */
export function renewalVerdict(cert: X509Certificate, withinMs: number, nowMs: number): RenewalVerdict {
  return renewalVerdictAt(new Date(cert.validTo), withinMs, nowMs, new Date(cert.validFrom));
}

/** The same verdict from the dates alone (a watch's sidecar gives no certificate, only its notAfter). */
export function renewalVerdictAt(notAfter: Date, withinMs: number, nowMs: number, notBefore?: Date): RenewalVerdict {
  const lifetimeMs = notBefore ? notAfter.getTime() - notBefore.getTime() : undefined;
  const left = notAfter.getTime() - nowMs;
  return {
    renewNow: left <= withinMs,
    notAfter,
    lifetimeMs,
    windowExceedsLifetime: lifetimeMs !== undefined && withinMs >= lifetimeMs,
    daysLeft: Math.floor(left / DAY_MS),
    expired: left < 0,
  };
}

/** needs-renewal's warning when --within holds the certificate's whole lifetime: what a daily timer then does. */
export function withinExceedsLifetimeText(verdict: RenewalVerdict, withinMs: number): string {
  return (
    `--within ${formatDuration(withinMs)} is at least the device certificate's whole lifetime (${formatDuration(verdict.lifetimeMs ?? 0)}): ` +
    `every certificate is inside it from the day it is issued, so this answers "renew now" at every run and a daily ` +
    `timer (c8ytoken-cert-renew@) renews every day. Give a --within shorter than the lifetime, e.g. a third of it.`
  );
}
