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

// Directory string types whose values compare as text (RFC 5280 7.1 with RFC 4518's preparation).
const TEXT_TAGS: Record<number, (b: Buffer) => string> = {
  0x0c: (b) => b.toString('utf8'), // UTF8String
  0x13: (b) => b.toString('latin1'), // PrintableString
  0x14: (b) => b.toString('latin1'), // TeletexString (T.61; its ASCII subset is what tools write)
  0x16: (b) => b.toString('latin1'), // IA5String
  0x1a: (b) => b.toString('latin1'), // VisibleString
  0x1e: (b) => Buffer.from(b).swap16().toString('utf16le'), // BMPString (UTF-16BE)
  0x1c: (b) => String.fromCodePoint(...Array.from({ length: b.length >> 2 }, (_, i) => b.readUInt32BE(4 * i))), // UniversalString (UTF-32BE)
};

/**
 * A distinguished name (its DER) as a key that is equal for names RFC 5280 section 7.1 says match:
 * string values compared after RFC 4518's preparation (Unicode normalisation, case folding, insignificant
 * spaces removed), whatever their ASN.1 string type (PrintableString and UTF8String alike); the
 * attributes of one RDN in any order; other values byte for byte. CAs made by different tools encode the
 * same name differently, and OpenSSL chains them; so does verify-chain.
 */
export function nameKey(nameDer: Buffer): string {
  try {
    const rdns = parseDer(nameDer).children.map((rdn) =>
      rdn.children
        .map((attr) => {
          const value = child(attr, 1);
          const text = value.tagClass === 0 && !value.constructed ? TEXT_TAGS[value.tagNumber]?.(value.content) : undefined;
          return `${readOid(child(attr, 0))}=${text === undefined ? `#${value.bytes.toString('hex')}` : prepare(text)}`;
        })
        .sort(),
    );
    return JSON.stringify(rdns);
  } catch {
    return `#${nameDer.toString('hex')}`; // unreadable: only the same bytes match
  }
}

/** RFC 4518 string preparation as far as names in certificates need: NFKC, case folding, spaces. */
function prepare(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase().replace(/\s+/g, ' ').trim();
}
