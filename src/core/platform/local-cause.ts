/** What is wrong with the device certificate that was sent, by itself: named first when the platform refuses it. */
import type { X509Certificate } from 'node:crypto';
import type { LocalCause } from '../errors.js';
import { isSelfSigned } from '../x509/path.js';
import { dnOneLine } from '../x509/names.js';

/** The device identity a request was made with, for naming a local cause of a refusal. */
export interface SentIdentity {
  /** The path sent: leaf first. */
  chain: readonly X509Certificate[];
  /** Where it came from (a file, or a keystore entry). */
  source: string;
}

/**
 * A cause of a refusal that the identity in hand shows by itself, most telling first: the device
 * certificate expired, is not yet valid, or the chain ends at a certificate whose issuer is not there
 * (the leaf alone, not self-signed: an intermediate is missing, or the server does not know its issuer).
 * A chain that ends at an intermediate is normal (the root is never sent) and names nothing.
 */
export function localCertificateCause(identity: SentIdentity, now: number): LocalCause | undefined {
  const leaf = identity.chain[0];
  if (!leaf) return undefined;
  const base = { path: identity.source, role: 'certificate' as const, subject: dnOneLine(leaf.subject) };
  const notAfter = Date.parse(leaf.validTo);
  const notBefore = Date.parse(leaf.validFrom);
  if (!Number.isNaN(notAfter) && notAfter < now) {
    return { ...base, localCause: 'expired', certificateNotAfter: new Date(notAfter).toISOString(), expiredDays: Math.floor((now - notAfter) / 86_400_000) };
  }
  if (!Number.isNaN(notBefore) && notBefore > now) return { ...base, localCause: 'not-yet-valid', certificateNotBefore: new Date(notBefore).toISOString() };
  const last = identity.chain[identity.chain.length - 1]!;
  if (identity.chain.length === 1 && !isSelfSigned(last)) return { ...base, localCause: 'issuer-missing', missingIssuer: dnOneLine(last.issuer) };
  return undefined;
}
