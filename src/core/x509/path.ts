/**
 * Ordering certificates into a path and matching keys to certificates, with Node's X509Certificate.
 * Signature checks are the costly part, and a hostile file can hold thousands of same-named certificates:
 * every path build gets a budget of LIMITS.signatureChecks (Go's crypto/x509 stops at 100) and says
 * when it ran out instead of going on.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { LIMITS } from '../limits.js';

/** Signature checks left for one path build; `exhausted` once a check was refused. */
export class SignatureBudget {
  exhausted = false;
  constructor(private left: number = LIMITS.signatureChecks) {}

  /** Takes one check; false (and exhausted from then on) when none is left. */
  take(): boolean {
    if (this.left <= 0) {
      this.exhausted = true;
      return false;
    }
    this.left -= 1;
    return true;
  }
}

/** The certificate's public key, or undefined when Node cannot read it (an unknown or damaged key). */
export function publicKeyOf(cert: X509Certificate): KeyObject | undefined {
  try {
    return cert.publicKey;
  } catch {
    return undefined;
  }
}

/** True when `key` made the certificate's signature; false for any key or algorithm Node refuses. */
export function signedBy(cert: X509Certificate, key: KeyObject | undefined, budget?: SignatureBudget): boolean {
  if (!key || (budget && !budget.take())) return false;
  try {
    return cert.verify(key);
  } catch {
    return false; // e.g. an algorithm this OpenSSL build refuses: not a match
  }
}

/** True when cert is self-issued and its signature verifies with its own key. */
export function isSelfSigned(cert: X509Certificate, budget?: SignatureBudget): boolean {
  return cert.subject === cert.issuer && signedBy(cert, publicKeyOf(cert), budget);
}

/** True when `issuer` issued `cert`: names (and key identifiers) match and the signature verifies. */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate, budget?: SignatureBudget): boolean {
  let named: boolean;
  try {
    named = cert.checkIssued(issuer);
  } catch {
    named = false;
  }
  return named && signedBy(cert, publicKeyOf(issuer), budget);
}

export interface BuiltPath {
  /** leaf → issuer → ... as far as the pool and the budget allow. */
  path: X509Certificate[];
  /** Certificates of the pool not on the path. */
  extra: X509Certificate[];
  /** True when the signature budget ran out before the path was complete. */
  exhausted: boolean;
}

/**
 * Orders `pool` into the path leaf → issuer → ... whatever the file order, up to a self-signed
 * certificate, LIMITS.chainCertificates certificates, or the end of the budget.
 */
export function buildPath(leaf: X509Certificate, pool: readonly X509Certificate[], budget = new SignatureBudget()): BuiltPath {
  const path = [leaf];
  const unused = pool.filter((c) => c !== leaf && c.fingerprint256 !== leaf.fingerprint256);
  let current = leaf;
  while (path.length < LIMITS.chainCertificates && !isSelfSigned(current, budget)) {
    const index = unused.findIndex((c) => isIssuedBy(current, c, budget));
    if (index < 0) break;
    current = unused.splice(index, 1)[0]!;
    path.push(current);
  }
  return { path, extra: unused, exhausted: budget.exhausted };
}

/**
 * The leaf of an unordered set: the first certificate that is not a CA (a stray root or intermediate in
 * the file is not the device); when all are CAs (a thin-edge style self-signed device), one that issued
 * none of the others, preferring one that is not self-signed, then file order. Signatures are checked
 * only between certificates whose names match, within the budget.
 */
export function findLeaf(certs: readonly X509Certificate[], budget = new SignatureBudget()): X509Certificate | undefined {
  const nonCa = certs.find((c) => !c.ca);
  if (nonCa) return nonCa;
  const issuedNothing = certs.filter((c) => !certs.some((other) => other !== c && other.issuer === c.subject && !isSelfSigned(other, budget) && isIssuedBy(other, c, budget)));
  return issuedNothing.find((c) => !isSelfSigned(c, budget)) ?? issuedNothing[0] ?? certs[0];
}

/** True when the private key belongs to the certificate (same public key); false when either cannot be read. */
export function keyMatchesCertificate(key: KeyObject, cert: X509Certificate): boolean {
  try {
    // OpenSSL's own test (X509_check_private_key, what TLS applies to a key and certificate): no public
    // key derived and exported, which took most of a millisecond.
    if (key.type === 'private') return cert.checkPrivateKey(key);
    const certKey = publicKeyOf(cert);
    // A public key (a key in a token is known by its certificate's) is compared as it is.
    return certKey !== undefined && key.export({ type: 'spki', format: 'der' }).equals(certKey.export({ type: 'spki', format: 'der' }));
  } catch {
    return false;
  }
}
