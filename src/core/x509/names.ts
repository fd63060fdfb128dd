/** Names of certificates: the one-line subject, and the CN (the platform's device user is device_<CN>). */
import type { X509Certificate } from 'node:crypto';
import { child, parseDer, readOid, type Node } from '../encoding/der.js';
import { pemBlocks, pemBody } from '../encoding/pem.js';

/** A distinguished name as Node prints it (one attribute a line) on one line: "CN=a, O=b". */
export function dnOneLine(dn: string | undefined): string {
  return (dn ?? '').split('\n').join(', ');
}

/** The CN of a distinguished name as Node prints it, or undefined. */
export function commonName(dn: string | undefined): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(dn ?? '')?.[1];
}

/** The CN of a certificate's subject, or its whole subject on one line when it has no CN. */
export function subjectCn(cert: X509Certificate | undefined): string {
  return commonName(cert?.subject) ?? dnOneLine(cert?.subject);
}

const CN_OID = '2.5.4.3';

/**
 * The subject CN of the first certificate in PEM text, read with our DER reader: no X509Certificate,
 * so no OpenSSL start-up (about 8 ms) for a caller that needs only the name. Undefined when absent or
 * unreadable.
 */
export function pemCertificateCn(text: string): string | undefined {
  const block = pemBlocks(text, { labels: ['CERTIFICATE'], max: 1 })[0];
  if (!block) return undefined;
  try {
    const tbs = child(parseDer(pemBody(block)), 0);
    const offset = tbs.children[0]?.tagClass === 2 ? 1 : 0; // [0] version present
    const subject: Node = child(tbs, offset + 4);
    let cn: string | undefined;
    for (const rdn of subject.children) for (const attr of rdn.children) if (readOid(child(attr, 0)) === CN_OID) cn = child(attr, 1).content.toString('utf8');
    return cn;
  } catch {
    return undefined; // the full load says what is wrong with the file
  }
}
