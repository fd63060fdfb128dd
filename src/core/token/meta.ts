/**
 * The metadata sidecar (--meta FILE): what scripts otherwise decode from the token by hand, written
 * atomically with mode 0600 next to the token, never the token itself.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { writeFileAtomic } from '../files/atomic.js';
import { outputTarget } from '../files/target.js';
import { tokenTimes, type DecodedJwt } from './jwt.js';
import { isoTime } from '../time/iso.js';
import type { ClockOffset } from './clock.js';

export interface TokenMeta {
  issuedAt: string | null;
  expiresAt: string | null;
  /** The half-life: the platform hands out a new token only after this. */
  refreshAfter: string | null;
  deviceUser: string | null;
  tenant: string | null;
  endpoint: string;
  certificateNotAfter: string | null;
  /** SHA-256 of the device certificate's DER, lower-case hex. */
  certificateSha256: string | null;
  clockOffsetSeconds: number | null;
  source: 'platform' | 'cache';
}

/** The sidecar's content for a token (and the device certificate it was fetched with, when known). */
export function tokenMeta(token: DecodedJwt, input: { endpoint: URL; certificate?: X509Certificate | undefined; offset?: ClockOffset | undefined; source: 'platform' | 'cache' }): TokenMeta {
  const t = tokenTimes(token.claims);
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const cert = input.certificate;
  return {
    issuedAt: isoTime(t.issuedAt) ?? null,
    expiresAt: isoTime(t.expiresAt) ?? null,
    refreshAfter: isoTime(t.refreshAfter) ?? null,
    deviceUser: text(token.claims.sub),
    tenant: text(token.claims.ten),
    endpoint: input.endpoint.href,
    certificateNotAfter: cert ? new Date(cert.validTo).toISOString() : null,
    certificateSha256: cert ? createHash('sha256').update(cert.raw).digest('hex') : null,
    clockOffsetSeconds: input.offset ? Math.round(input.offset.offsetMs / 1000) : null,
    source: input.source,
  };
}

/** Writes the sidecar atomically (mode 0600), under the same output policy as the token file. */
export async function writeMeta(path: string, meta: TokenMeta): Promise<void> {
  const target = outputTarget(path, 'output');
  await writeFileAtomic(target, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600, role: 'output' });
}
