/** Certificates from files: PEM bundles or one DER certificate, parsed by Node, bounded in number. */
import { X509Certificate } from 'node:crypto';
import { C8yError, type FileRole } from '../errors.js';
import { LIMITS } from '../limits.js';
import { pemBlocks, pemBody } from '../encoding/pem.js';

/** The PEM block each certificate read from PEM text was parsed from (certificatePem). */
const blockRead = new WeakMap<X509Certificate, string>();

/**
 * A certificate as PEM for OpenSSL (tls.createSecureContext): the block it was read from, when it came
 * from a PEM file (OpenSSL parsed those very bytes already), else encoded again (toString).
 */
export function certificatePem(cert: X509Certificate): string {
  return blockRead.get(cert) ?? cert.toString();
}

/** A certificate from DER or PEM bytes, or undefined when Node (OpenSSL) cannot parse it. */
export function parseCertificate(data: Buffer | string): X509Certificate | undefined {
  try {
    return new X509Certificate(data);
  } catch {
    return undefined;
  }
}

/**
 * Every certificate of a PEM bundle, or one DER certificate. Throws NOT_A_CERTIFICATE when there is
 * none or one is damaged, INPUT_LIMIT past LIMITS.certificatesPerFile.
 */
export function readCertificates(data: Buffer, path: string, role: FileRole): X509Certificate[] {
  const text = data.toString('latin1');
  const max = LIMITS.certificatesPerFile;
  const blocks = pemBlocks(text, { labels: ['CERTIFICATE', 'TRUSTED CERTIFICATE'], max: max + 1 });
  if (blocks.length > max) throw new C8yError('INPUT_LIMIT', { path, role, what: 'certificates in one file', limit: max });
  if (blocks.length === 0) {
    const der = data[0] === 0x30 ? parseCertificate(data) : undefined;
    if (der) return [der];
    throw new C8yError('NOT_A_CERTIFICATE', { path, role, ...(/PRIVATE KEY-----/.test(text) ? { reason: 'holds a private key' } : {}) });
  }
  return blocks.map((b, i) => {
    const cert = parseCertificate(b.text);
    if (!cert) throw new C8yError('NOT_A_CERTIFICATE', { path, role, reason: `certificate ${i + 1} is damaged`, actual: i + 1 });
    // Only a block that is the certificate alone: OpenSSL also reads trust settings after the certificate
    // (TRUSTED CERTIFICATE blocks, and the same bytes under a CERTIFICATE label), which no check here sees
    // and which would then restrict what the TLS context accepts. Those are encoded again (toString).
    if (pemBody(b).equals(cert.raw)) blockRead.set(cert, b.text);
    return cert;
  });
}
