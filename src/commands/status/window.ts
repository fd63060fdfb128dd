/** The certificate part of a health document from a notAfter date (proxy and status; the same verdict as core/est/renewal.ts, without loading EST). */
import type { HealthDocument } from '../proxy/health.js';

const DAY_MS = 86_400_000;

export function renewalWindow(notAfter: string, withinMs: number, nowMs: number): NonNullable<HealthDocument['certificate']> {
  const left = Date.parse(notAfter) - nowMs;
  return { notAfter, daysLeft: Math.floor(left / DAY_MS), needsRenewal: left <= withinMs, expired: left < 0 };
}
