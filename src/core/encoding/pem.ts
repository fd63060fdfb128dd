/** PEM text: splitting into blocks and reading certificates out of bundles. */
import { X509Certificate } from 'node:crypto';
import { C8yError } from '../errors.js';
import { child, parseDer, readOid, type Node } from './der.js';

export interface PemBlock {
  label: string;
  /** The whole block, BEGIN to END, normalised to \n line ends. */
  text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Every PEM block in text, in order; text outside blocks (openssl's "Bag Attributes", comments) is ignored. */
export function pemBlocks(text: string): PemBlock[] {
  return [...text.replace(/\r\n?/g, '\n').matchAll(BLOCK)].map((m) => ({ label: m[1]!, text: m[0] }));
}

/** True when a PEM block's label is one of the private key forms Node reads. */
export function isPrivateKeyLabel(label: string): boolean {
  return /^(RSA |EC |DSA |ENCRYPTED |)PRIVATE KEY$/.test(label);
}

/**
 * Reads every certificate of a PEM bundle, or one DER certificate; `what` names the file's role in
 * messages ("certificate", "truststore"). Throws NOT_A_CERTIFICATE when there is none.
 */
export function readCertificates(data: Buffer, path: string, what: string): X509Certificate[] {
  const text = data.toString('latin1');
  const blocks = pemBlocks(text).filter((b) => b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE');
  if (blocks.length === 0) {
    if (data[0] === 0x30) {
      try {
        return [new X509Certificate(data)];
      } catch {
        // fall through to the error below
      }
    }
    throw new C8yError('NOT_A_CERTIFICATE', `The ${what} file ${path} holds no certificate.`, {
      hint: /PRIVATE KEY-----/.test(text)
        ? 'That looks like a private key: give it with --key, and the certificate with --cert.'
        : 'Give a PEM file with -----BEGIN CERTIFICATE----- blocks (or a DER certificate).',
    });
  }
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b.text);
    } catch (err) {
      throw new C8yError('NOT_A_CERTIFICATE', `Certificate ${i + 1} in the ${what} file ${path} is damaged and cannot be parsed.`, {
        hint: 'Copy the file again; check nothing was cut from the base64 text.',
        cause: err,
      });
    }
  });
}

/** A certificate as PEM text. */
export function toPem(cert: X509Certificate): string {
  return cert.toString().trim();
}

/** A distinguished name as Node prints it (one attribute a line) on one line: "CN=a, O=b". */
export function dnOneLine(dn: string | undefined): string {
  return (dn ?? '').split('\n').join(', ');
}

/** The CN of a distinguished name as Node prints it, or undefined. */
export function commonName(dn: string | undefined): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(dn ?? '')?.[1];
}

const CN_OID = '2.5.4.3';

/**
 * The subject CN of the first certificate in PEM text, read with our DER reader: no X509Certificate,
 * so no OpenSSL start-up (about 8 ms) for a caller that needs only the name. Undefined when absent.
 */
export function pemCertificateCn(text: string): string | undefined {
  const block = pemBlocks(text).find((b) => b.label === 'CERTIFICATE');
  if (!block) return undefined;
  const der = Buffer.from(block.text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const tbs = child(parseDer(der), 0);
  const offset = tbs.children[0]?.tagClass === 2 ? 1 : 0; // [0] version present
  const subject: Node = child(tbs, offset + 4);
  let cn: string | undefined;
  for (const rdn of subject.children) for (const attr of rdn.children) if (readOid(child(attr, 0)) === CN_OID) cn = child(attr, 1).content.toString('utf8');
  return cn;
}
