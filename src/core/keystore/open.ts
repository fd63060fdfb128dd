/** Opening a keystore file of either format, detected from its content (a `.jks` may hold PKCS#12). */
import { readFile } from 'node:fs/promises';
import { C8yError, fileError } from '../errors.js';
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
  /** "keystore" or "truststore", for messages. */
  role: string;
}

/** Reads and opens a keystore file. */
export async function openKeystore(path: string, options: OpenKeystoreOptions): Promise<Keystore> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw fileError(err, path, options.role);
  }
  const kind = detectKeystoreKind(data);
  const warnings: string[] = [];
  if (options.type && kind !== 'unknown' && kind !== options.type) {
    warnings.push(`${path} was declared as ${options.type} but holds ${kind}; reading it as ${kind}`);
  }
  let store: Keystore;
  if (kind === 'jks' || kind === 'jceks') {
    store = readJks(data, path, options.password);
  } else if (kind === 'pkcs12') {
    if (options.password === null) {
      throw new C8yError('PASSWORD_REQUIRED', `The ${options.role} ${path} is PKCS#12 and needs its password.`, {
        hint: `Give it with --${options.role}-password-file or the ${options.role} password setting.`,
      });
    }
    store = await readPkcs12(data, path, options.password);
  } else {
    const pemHint = /-----BEGIN /.test(data.subarray(0, 4096).toString('latin1'));
    throw new C8yError('KEYSTORE_CORRUPT', `${path} is neither a PKCS#12 nor a JKS keystore.`, {
      hint: pemHint
        ? `It is PEM text: use --cert/--key${options.role === 'truststore' ? ' (or a PEM --truststore)' : ''} for PEM files.`
        : 'Check the file; `openssl pkcs12 -info -in FILE` or `keytool -list -keystore FILE` tells what it holds.',
    });
  }
  store.warnings.unshift(...warnings);
  return store;
}

/** Picks the key entry: the named alias, or the only one. */
export function selectKeyEntry(store: Keystore, alias: string | undefined): KeyEntry {
  const names = store.keyEntries.map((e) => e.alias);
  if (store.keyEntries.length === 0) {
    throw new C8yError('KEYSTORE_NO_KEY', `${store.path} holds no private key${store.trusted.length ? ` (only ${store.trusted.length} trusted certificate(s))` : ''}.`, {
      hint: 'Use the keystore that holds the device key; a truststore goes to --truststore.',
    });
  }
  if (alias !== undefined) {
    // Java compares aliases case-insensitively; so do we.
    const entry = store.keyEntries.find((e) => e.alias.toLowerCase() === alias.toLowerCase());
    if (!entry) {
      throw new C8yError('KEYSTORE_ALIAS_NOT_FOUND', `${store.path} has no key entry "${alias}".`, {
        hint: `Key entries in it: ${names.map((n) => `"${n}"`).join(', ')}.`,
      });
    }
    return entry;
  }
  if (store.keyEntries.length > 1) {
    throw new C8yError('KEYSTORE_ALIAS_AMBIGUOUS', `${store.path} holds ${store.keyEntries.length} key entries; say which with --alias.`, {
      hint: `Key entries in it: ${names.map((n) => `"${n}"`).join(', ')}.`,
    });
  }
  return store.keyEntries[0]!;
}
