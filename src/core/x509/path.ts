/** Ordering certificates into a path and matching keys to certificates, with Node's X509Certificate. */
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';

/** True when cert is self-issued and its signature verifies with its own key. */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && safeVerify(cert, cert.publicKey);
}

/** True when `issuer` issued `cert`: names match and the signature verifies. */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && safeVerify(cert, issuer.publicKey);
}

function safeVerify(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.verify(key);
  } catch {
    return false; // e.g. an algorithm this OpenSSL build refuses: not a match
  }
}

/**
 * Orders `pool` into the path leaf → issuer → ... as far as the pool allows, whatever the file order.
 * Certificates that are not on the path are returned in `extra`.
 */
export function buildPath(leaf: X509Certificate, pool: readonly X509Certificate[]): { path: X509Certificate[]; extra: X509Certificate[] } {
  const path = [leaf];
  const unused = pool.filter((c) => c !== leaf && c.fingerprint256 !== leaf.fingerprint256);
  let current = leaf;
  while (!isSelfSigned(current)) {
    const index = unused.findIndex((c) => isIssuedBy(current, c));
    if (index < 0) break;
    current = unused.splice(index, 1)[0]!;
    path.push(current);
  }
  return { path, extra: unused };
}

/**
 * The leaf of an unordered set: the first certificate that is not a CA (a stray root or intermediate in
 * the file is not the device); when all are CAs (a thin-edge style self-signed device), one that issued
 * none of the others, preferring one that is not self-signed, then file order. Signatures are checked
 * only between certificates whose names match, so a pool of many CAs stays cheap.
 */
export function findLeaf(certs: readonly X509Certificate[]): X509Certificate | undefined {
  const nonCa = certs.find((c) => !c.ca);
  if (nonCa) return nonCa;
  const issuedNothing = certs.filter((c) => !certs.some((other) => other !== c && other.issuer === c.subject && !isSelfSigned(other) && isIssuedBy(other, c)));
  return issuedNothing.find((c) => !isSelfSigned(c)) ?? issuedNothing[0] ?? certs[0];
}

/** True when the private key belongs to the certificate (same public key). */
export function keyMatchesCertificate(key: KeyObject, cert: X509Certificate): boolean {
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const fromCert = cert.publicKey.export({ type: 'spki', format: 'der' });
  return fromKey.equals(fromCert);
}
