/** Opening a keystore file of either format, detected from its content (a `.jks` may hold PKCS#12). */
import { C8yError, type FileRole, type WarningSink } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readRegularFile } from '../files/read.js';
import { JCEKS_MAGIC, JKS_MAGIC, readJks } from './jks.js';
import { looksLikePkcs12, readPkcs12 } from './pkcs12.js';
import type { KeyEntry, Keystore, KeystoreFormat } from './types.js';

export type KeystoreKind = KeystoreFormat | 'jceks' | 'unknown';

/** What the bytes are, whatever the file is called. */
export function detectKeystoreKind(data: Buffer): KeystoreKind {
  if (data.length >= 4) {
    const magic = data.readUInt32BE(0);
    if (magic === JKS_MAGIC) return 'jks';
    if (magic === JCEKS_MAGIC) return 'jceks';
  }
  return looksLikePkcs12(data) ? 'pkcs12' : 'unknown';
}

export interface OpenKeystoreOptions {
  /** The type the user declared; a mismatch with the content is reported, the content wins. */
  type?: KeystoreFormat | undefined;
  /** null: open without checking integrity (JKS truststores only). */
  password: string | null;
  role: Extract<FileRole, 'keystore' | 'truststore'>;
  warn: WarningSink;
  signal?: AbortSignal | undefined;
  /** The key entry is decrypted next with the store's password (PKCS#12: its key may be derived ahead). */
  keysAhead?: boolean | undefined;
}

/** Reads and opens a keystore file (a regular file of at most LIMITS.keystoreBytes). */
export async function openKeystore(path: string, options: OpenKeystoreOptions): Promise<Keystore> {
  return readKeystore(await readRegularFile(path, options.role, LIMITS.keystoreBytes), path, options);
}

/** Opens a keystore already read from `path` (a truststore's bytes are read once, to tell PEM from a keystore). */
export async function readKeystore(data: Buffer, path: string, options: OpenKeystoreOptions): Promise<Keystore> {
  const { role } = options;
  const kind = detectKeystoreKind(data);
  if (options.type && kind !== 'unknown' && kind !== options.type) options.warn(`${path} was declared as ${options.type} but holds ${kind}; reading it as ${kind}`);
  if (kind === 'jks' || kind === 'jceks') return readJks(data, { path, role, password: options.password, warn: options.warn });
  if (kind === 'pkcs12') {
    if (options.password === null) throw new C8yError('PASSWORD_REQUIRED', { path, role, format: 'PKCS#12', password: role });
    return readPkcs12(data, { path, role, password: options.password, warn: options.warn, signal: options.signal, keysAhead: options.keysAhead });
  }
  const pem = /-----BEGIN /.test(data.subarray(0, 4096).toString('latin1'));
  throw new C8yError('KEYSTORE_CORRUPT', { path, role, reason: pem ? 'PEM text' : 'neither PKCS#12 nor JKS' });
}

/** Picks the key entry: the named alias, or the only one. */
export function selectKeyEntry(store: Keystore, alias: string | undefined): KeyEntry {
  const aliases = store.keyEntries.map((e) => e.alias);
  const where = { path: store.path, role: 'keystore' as const };
  if (store.keyEntries.length === 0) throw new C8yError('KEYSTORE_NO_KEY', { ...where, actual: store.trusted.length });
  if (alias !== undefined) {
    // Java compares aliases case-insensitively; so do we.
    const entry = store.keyEntries.find((e) => e.alias.toLowerCase() === alias.toLowerCase());
    if (!entry) throw new C8yError('KEYSTORE_ALIAS_NOT_FOUND', { ...where, alias, aliases });
    return entry;
  }
  if (store.keyEntries.length > 1) throw new C8yError('KEYSTORE_ALIAS_AMBIGUOUS', { ...where, aliases });
  return store.keyEntries[0]!;
}
