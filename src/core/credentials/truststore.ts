/**
 * Trust in the platform's server certificate: Node's built-in roots, or a truststore that replaces them
 * (as a Java truststore does): a PEM bundle, PKCS#12 or JKS. Verification is never switched off.
 */
import type { X509Certificate } from 'node:crypto';
import { C8yError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readRegularFile } from '../files/read.js';
import { parseCertificate, readCertificates } from '../x509/read.js';
import type { PasswordBook } from './passwords.js';
import type { CredentialIo } from './identity.js';

export interface Trust {
  /** CA certificates to trust instead of the built-in roots; undefined means the built-in roots. */
  cas?: X509Certificate[];
  /** "Node's built-in root CAs" or the truststore path, for messages. */
  source: string;
}

export const BUILT_IN_ROOTS = "Node's built-in root CAs";

/** Loads the truststore, or returns the built-in roots when none is configured. */
export async function loadTrust(path: string | undefined, passwords: PasswordBook, io: CredentialIo): Promise<Trust> {
  if (!path) return { source: BUILT_IN_ROOTS };
  const data = await readRegularFile(path, 'truststore', LIMITS.keystoreBytes);
  if (/-----BEGIN /.test(data.subarray(0, 4096).toString('latin1'))) return { cas: readCertificates(data, path, 'truststore'), source: path };
  // One DER certificate, or (a PKCS#12 or JKS file, also starting with 0x30 or JKS's magic) a keystore.
  const der = data[0] === 0x30 ? parseCertificate(data) : undefined;
  if (der) return { cas: [der], source: path };
  const { readKeystore } = await import('../keystore/open.js');
  const open = (password: string | null) => readKeystore(data, path, { password, role: 'truststore', warn: io.warn, signal: io.signal });
  let store;
  if (passwords.given('truststore')) {
    store = await passwords.with('truststore', path, (password) => open(password ?? null));
  } else {
    // JKS truststores are often opened without a password (keytool -list does); PKCS#12 cannot be, and
    // on a terminal its password is asked for.
    try {
      store = await open(null);
    } catch (err) {
      if (!(err instanceof C8yError && err.code === 'PASSWORD_REQUIRED' && passwords.canAsk())) throw err;
      store = await passwords.with('truststore', path, (password) => open(password ?? null));
    }
  }
  const cas = [...store.trusted.map((t) => t.cert), ...store.keyEntries.flatMap((e) => e.chain)];
  if (cas.length === 0) throw new C8yError('TRUSTSTORE_EMPTY', { path, role: 'truststore' });
  return { cas, source: path };
}
