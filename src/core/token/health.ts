/**
 * The health document of a process that keeps a token: what `proxy` serves at /_c8ytoken/health and what
 * `status` prints (from that, or from a watch's --meta sidecar). Below both commands, so that they share
 * one shape and one certificate verdict.
 */
import { renewalVerdictAt } from '../x509/renewal.js';

/** The health document: while `ok` is true the proxy can serve (HTTP 200), otherwise 503. */
export interface HealthDocument {
  ok: boolean;
  /** Why it cannot serve, when it cannot. */
  reason?: string;
  service: 'proxy' | 'watch';
  upstream?: { mode: 'token' | 'mtls'; url: string; proxy?: string };
  token: { expiresAt: string | null; refreshAfter: string | null; secondsLeft: number | null; deviceUser: string | null } | null;
  certificate: { notAfter: string; daysLeft: number; needsRenewal: boolean; expired: boolean } | null;
  lastRefresh: string | null;
  lastError: { time: string; code: string; message: string } | null;
  startedAt?: string;
  pid?: number;
}

/** The certificate part from its notAfter (ISO 8601), with the verdict of `cert needs-renewal` (x509/renewal.ts). */
export function certificateHealth(notAfter: string, withinMs: number, nowMs: number): NonNullable<HealthDocument['certificate']> {
  const v = renewalVerdictAt(new Date(notAfter), withinMs, nowMs);
  return { notAfter, daysLeft: v.daysLeft, needsRenewal: v.renewNow, expired: v.expired };
}
