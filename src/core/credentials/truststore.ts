/**
 * Trust in the platform's server certificate: Node's built-in roots, or a truststore that replaces them
 * (as a Java truststore does): a PEM bundle, PKCS#12 or JKS. Verification is never switched off.
 */
import type { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { C8yError, fileError } from '../errors.js';
import { openKeystore } from '../keystore/open.js';
import { readCertificates } from '../encoding/pem.js';
import type { PasswordBook } from './passwords.js';

export interface Trust {
  /** CA certificates to trust instead of the built-in roots; undefined means the built-in roots. */
  cas?: X509Certificate[];
  /** "built-in roots" or the truststore path, for messages. */
  source: string;
  warnings: string[];
}

/** Loads the truststore, or returns the built-in roots when none is configured. */
export async function loadTrust(path: string | undefined, passwords: PasswordBook): Promise<Trust> {
  if (!path) return { source: "Node's built-in root CAs", warnings: [] };
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw fileError(err, path, 'truststore');
  }
  if (/-----BEGIN /.test(data.subarray(0, 4096).toString('latin1')) || looksLikeDerCertificate(data)) {
    return { cas: readCertificates(data, path, 'truststore'), source: path, warnings: [] };
  }
  // JKS truststores are often opened without a password (keytool -list does); PKCS#12 cannot be.
  const password = passwords.given('truststore') ? ((await passwords.get('truststore')) ?? null) : null;
  const store = await openKeystore(path, { password, role: 'truststore' });
  const cas = [...store.trusted.map((t) => t.cert), ...store.keyEntries.flatMap((e) => e.chain)];
  if (cas.length === 0) {
    throw new C8yError('TRUSTSTORE_EMPTY', `The truststore ${path} holds no certificates.`, {
      hint: 'Import the CA that signs the platform certificate: keytool -importcert -file ca.pem -keystore truststore.jks',
    });
  }
  return { cas, source: path, warnings: store.warnings };
}

function looksLikeDerCertificate(data: Buffer): boolean {
  try {
    return readCertificates(data, '', '').length === 1 && data[0] === 0x30 && data.readUInt32BE(0) !== 0xfeedfeed;
  } catch {
    return false;
  }
}
