/** A certificate as path building sees it: its parsed details, its fingerprint, and memoised signature checks. */
import type { X509Certificate } from 'node:crypto';
import { certDetails, describePublicKey, type CertDetails } from '../x509/certificate.js';
import { commonName, dnOneLine } from '../x509/names.js';
import type { SignatureBudget } from '../x509/path.js';

export interface Candidate {
  details: CertDetails;
  /** Signature checks left for this report's path building (shared by every candidate). */
  budget: SignatureBudget;
  fingerprint: string;
  /** A device CA the user gave (--device-ca): where a path may end. */
  anchor: boolean;
  /** Signature checks already done, by issuer fingerprint: path building asks the same ones often. */
  verified?: Map<string, boolean>;
  key?: ReturnType<typeof describePublicKey>;
}

/** The candidate for a certificate, or undefined when its structure cannot be read. */
export function candidate(cert: X509Certificate, anchor: boolean, budget: SignatureBudget): Candidate | undefined {
  try {
    return { details: certDetails(cert), fingerprint: cert.fingerprint256, anchor, budget };
  } catch {
    return undefined;
  }
}

/** The list without repeated certificates (by fingerprint), first one kept. */
export function dedupe(list: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(c.fingerprint) && seen.add(c.fingerprint));
}

/** True when `issuer`'s key made `cert`'s signature; memoised, within the budget (out of budget: false, not remembered). */
export function verifies(cert: Candidate, issuer: Candidate): boolean {
  cert.verified ??= new Map();
  let ok = cert.verified.get(issuer.fingerprint);
  if (ok === undefined) {
    if (!cert.budget.take()) return false;
    try {
      ok = cert.details.cert.verify(issuer.details.cert.publicKey);
    } catch {
      ok = false; // an issuer key Node cannot read verifies nothing
    }
    cert.verified.set(issuer.fingerprint, ok);
  }
  return ok;
}

/** The public key as the report shows it ("RSA 2048", "EC P-256"), read once. */
export function publicKeyOf(c: Candidate): ReturnType<typeof describePublicKey> {
  c.key ??= describePublicKey(c.details.cert);
  return c.key;
}

/** The CN of a certificate, or undefined. */
export function leafCn(d: CertDetails): string | undefined {
  return commonName(d.cert.subject);
}

/** A certificate's name in a report line: its CN in quotes, or its whole subject. */
export function cn(d: CertDetails): string {
  const value = leafCn(d);
  return value !== undefined ? `"${value}"` : `"${dnOneLine(d.cert.subject) || '(empty subject)'}"`;
}
