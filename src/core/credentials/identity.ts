/**
 * The client identity for mutual TLS: private key plus certificate path (leaf first), from PEM files, a
 * PKCS#12/JKS keystore, or a certificate file with the key in a PKCS#11 token; RSA or EC. Whatever the
 * source, the key is checked against the certificate. One loader per source, shared by every command
 * (fetch, watch, exec, proxy, verify-chain, doctor, cert renew).
 */
import { createPrivateKey, createPublicKey, KeyObject, type X509Certificate } from 'node:crypto';
import { C8yError, isC8yError, type WarningSink } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readRegularFile } from '../files/read.js';
import { isPrivateKeyLabel, pemBlocks, pemBody } from '../encoding/pem.js';
import { buildPath, keyMatchesCertificate, SignatureBudget } from '../x509/path.js';
import { readCertificates } from '../x509/read.js';
import { dnOneLine } from '../x509/names.js';
import type { KeystoreFormat } from '../keystore/types.js';
import type { PasswordBook } from './passwords.js';
import type { Pkcs11Settings, TokenKey } from './pkcs11.js';

/** The device's private key: in memory (PEM, keystore), or in a PKCS#11 token where it signs and never leaves. */
export type DeviceKey = KeyObject | TokenKey;

/** True for a key held in a token. */
export function isTokenKey(key: DeviceKey | undefined): key is TokenKey {
  return key !== undefined && !(key instanceof KeyObject);
}

/** The public half of a device key (for a token key: the certificate's, proven by a signature when it was opened). */
export function publicKeyOf(key: DeviceKey): KeyObject {
  if (isTokenKey(key)) return key.publicKey;
  return key.type === 'public' ? key : createPublicKey(key);
}

/** "RSA", "EC": the key's type for messages. */
export function keyTypeLabel(key: DeviceKey): string {
  return key.asymmetricKeyType?.toUpperCase() ?? 'unknown';
}

export interface ClientIdentity {
  key: DeviceKey;
  /** The path: leaf first, then its issuers in order, as far as the source holds them. */
  chain: X509Certificate[];
  /** Certificates the source held that are not on the path (never sent). */
  extra: X509Certificate[];
  /** Where it came from, for messages: a file path, or 'FILE (entry "alias")'. */
  source: string;
  /** From a keystore: the entry's alias (the one chosen when the keystore holds one key entry and none was named). */
  alias?: string | undefined;
}

/** Which credentials are configured: PEM files (the key possibly in a token) or a keystore. */
export interface CredentialSettings {
  cert?: string | undefined;
  key?: string | undefined;
  pkcs11?: Pkcs11Settings | undefined;
  /** The time a token may take to answer (--timeout). */
  timeoutMs?: number | undefined;
  keystore?: KeystoreSettings | undefined;
}

export interface KeystoreSettings {
  path: string;
  type?: KeystoreFormat | undefined;
  alias?: string | undefined;
}

/** What loading credentials needs from its surroundings. */
export interface CredentialIo {
  warn: WarningSink;
  signal?: AbortSignal | undefined;
}

/** Loads key and chain from the configured source; throws NO_CREDENTIALS when none is configured. */
export async function loadIdentity(settings: CredentialSettings, passwords: PasswordBook, io: CredentialIo): Promise<ClientIdentity> {
  if (settings.keystore) return loadFromKeystore(settings.keystore, passwords, io);
  if (settings.cert && settings.pkcs11) return loadWithTokenKey(settings.cert, settings.pkcs11, settings.timeoutMs ?? 30_000, passwords);
  if (settings.cert) return loadFromPem(settings.cert, settings.key, passwords);
  if (settings.key) throw new C8yError('NO_CREDENTIALS', { path: settings.key, role: 'key', reason: 'no certificate' });
  throw new C8yError('NO_CREDENTIALS');
}

/** The chosen key entry of a keystore, its key decrypted: store password required, key password defaulting to it. */
export async function openKeystoreEntry(ks: KeystoreSettings, passwords: PasswordBook, io: CredentialIo): Promise<{ key: KeyObject; chain: X509Certificate[]; source: string; alias: string }> {
  // Keystore readers load only when a keystore is used.
  const { openKeystore, selectKeyEntry } = await import('../keystore/open.js');
  // The store password doubles as the key password unless one is given (as Java's tools do): then the
  // key may be derived beside the store's integrity check.
  const keyPasswordGiven = passwords.given('key');
  const store = await passwords.with('keystore', ks.path, async (password) => {
    if (password === undefined) throw new C8yError('PASSWORD_REQUIRED', { path: ks.path, role: 'keystore', password: 'keystore' });
    return { store: await openKeystore(ks.path, { type: ks.type, password, role: 'keystore', warn: io.warn, signal: io.signal, keysAhead: !keyPasswordGiven }), password };
  });
  const entry = selectKeyEntry(store.store, ks.alias);
  const source = `${ks.path} (entry "${entry.alias}")`;
  // On a terminal a separate key password is asked for when the store password does not open the key.
  let key: KeyObject;
  if (keyPasswordGiven) {
    key = await passwords.with('key', source, async (password) => entry.decryptKey(password ?? store.password));
  } else {
    try {
      key = await entry.decryptKey(store.password);
    } catch (err) {
      if (!(isC8yError(err, 'WRONG_PASSWORD') && err.facts.password === 'key')) throw err;
      key = await passwords.with('key', source, async (password) => {
        if (password === undefined) throw err;
        return entry.decryptKey(password);
      });
    }
  }
  if (entry.chain.length === 0) throw new C8yError('KEYSTORE_NO_KEY', { path: ks.path, role: 'keystore', alias: entry.alias, reason: 'no certificate' });
  return { key, chain: entry.chain, source, alias: entry.alias };
}

async function loadFromKeystore(ks: KeystoreSettings, passwords: PasswordBook, io: CredentialIo): Promise<ClientIdentity> {
  const { key, chain, source, alias } = await openKeystoreEntry(ks, passwords, io);
  const leaf = chain[0]!;
  if (!keyMatchesCertificate(key, leaf)) throw new C8yError('KEY_MISMATCH', { path: ks.path, role: 'keystore', alias, subject: dnOneLine(leaf.subject) });
  return { key, chain, extra: [], source, alias };
}

/** The certificates of a PEM (or DER) certificate file and, when there is one, its private key. */
export interface PemCredentials {
  certs: X509Certificate[];
  key?: KeyObject;
  /** The file the key came from (the key file, or the certificate file holding both). */
  keyPath?: string;
}

/**
 * Reads a certificate file and a key (the key file, or a key block in the certificate file). With
 * `requireKey` a missing key is NO_CREDENTIALS; without it (verify-chain) the key is simply absent.
 */
export async function loadPemCredentials(certPath: string, keyPath: string | undefined, passwords: PasswordBook, requireKey: boolean): Promise<PemCredentials> {
  const certData = await readRegularFile(certPath, 'certificate', LIMITS.certificateBytes);
  const certs = readCertificates(certData, certPath, 'certificate');
  // A combined file (key and certificates in one PEM) is common; use its key when --key is absent.
  const keyData = keyPath ? await readRegularFile(keyPath, 'key', LIMITS.certificateBytes) : certData;
  const keySource = keyPath ?? certPath;
  const keyBlock = pemBlocks(keyData.toString('latin1'), { max: LIMITS.certificatesPerFile }).find((b) => isPrivateKeyLabel(b.label));
  if (!keyBlock) {
    if (keyPath) throw new C8yError('NOT_A_KEY', { path: keyPath, role: 'key', ...(/BEGIN CERTIFICATE/.test(keyData.toString('latin1')) ? { reason: 'holds certificates' } : {}) });
    if (requireKey) throw new C8yError('NO_CREDENTIALS', { path: certPath, role: 'certificate', reason: 'no key' });
    return { certs };
  }
  return { certs, key: await decodePemKey(keyBlock.text, keySource, passwords), keyPath: keySource };
}

async function loadFromPem(certPath: string, keyPath: string | undefined, passwords: PasswordBook): Promise<ClientIdentity> {
  const { certs, key, keyPath: keySource } = await loadPemCredentials(certPath, keyPath, passwords, true);
  const leaf = certs.find((c) => keyMatchesCertificate(key!, c));
  if (!leaf) throw new C8yError('KEY_MISMATCH', { path: keySource!, role: 'key', otherPath: certPath, actual: certs.length });
  const built = buildPath(leaf, certs, new SignatureBudget());
  if (built.exhausted)
    throw new C8yError('INPUT_LIMIT', { path: certPath, role: 'certificate', what: 'signature checks', unit: 'signature checks', limit: LIMITS.signatureChecks, actual: certs.length });
  return { key: key!, chain: built.path, extra: built.extra, source: certPath };
}

/**
 * The PIN of a token key: the key password given (--key-password-file, C8YTOKEN_KEY_PASSWORD, config),
 * else the URI's pin-source file, else its pin-value (from the environment or a config file), else asked
 * for at the terminal. Asked once only: tokens count wrong PINs and lock after a few.
 */
export async function tokenPin(pkcs11: Pkcs11Settings, passwords: PasswordBook, timeoutMs: number): Promise<string> {
  const uri = pkcs11.uri;
  if (!passwords.given('key')) {
    if (uri.pinSource !== undefined) {
      const { readPasswordFile } = await import('./passwords.js');
      return (await readPasswordFile(uri.pinSource, 'key', timeoutMs)).password;
    }
    if (uri.pinValue !== undefined) return uri.pinValue;
  }
  const pin = await passwords.get('key', `${uri.shown} (PIN)`);
  if (pin === undefined) throw new C8yError('PASSWORD_REQUIRED', { path: uri.shown, role: 'PKCS#11 key', password: 'key' });
  return pin;
}

/** The certificates of the certificate file and the key in the token, proven to belong together. */
export async function openTokenCredentials(
  certPath: string,
  pkcs11: Pkcs11Settings,
  timeoutMs: number,
  passwords: PasswordBook,
): Promise<{ certs: X509Certificate[]; key: TokenKey; leaf: X509Certificate } | { certs: X509Certificate[]; key: undefined; leaf: undefined; publicKey: KeyObject | undefined }> {
  const certs = readCertificates(await readRegularFile(certPath, 'certificate', LIMITS.certificateBytes), certPath, 'certificate');
  const pin = await tokenPin(pkcs11, passwords, timeoutMs);
  const { openTokenKey } = await import('./pkcs11.js');
  const opened = await openTokenKey(pkcs11, certs, pin, timeoutMs, process.env);
  return { certs, ...opened };
}

async function loadWithTokenKey(certPath: string, pkcs11: Pkcs11Settings, timeoutMs: number, passwords: PasswordBook): Promise<ClientIdentity> {
  const { certs, key, leaf } = await openTokenCredentials(certPath, pkcs11, timeoutMs, passwords);
  if (!key || !leaf) throw new C8yError('KEY_MISMATCH', { path: pkcs11.uri.shown, role: 'PKCS#11 key', otherPath: certPath, actual: certs.length });
  const built = buildPath(leaf, certs, new SignatureBudget());
  if (built.exhausted)
    throw new C8yError('INPUT_LIMIT', { path: certPath, role: 'certificate', what: 'signature checks', unit: 'signature checks', limit: LIMITS.signatureChecks, actual: certs.length });
  return { key, chain: built.path, extra: built.extra, source: certPath };
}

/** The PEM block each key read from an unencrypted PEM block was parsed from (keyPem). */
const blockRead = new WeakMap<KeyObject, string>();

/**
 * A private key as PEM for OpenSSL (tls.createSecureContext): the unencrypted block it was read from
 * (OpenSSL parsed those very bytes already), else exported as PKCS#8 (keystores, encrypted keys).
 * Kept beside the key, never in an object that could be printed.
 */
export function keyPem(key: KeyObject): string {
  return blockRead.get(key) ?? (key.export({ type: 'pkcs8', format: 'pem' }) as string);
}

/** Decodes a PEM private key, asking for its password only when it is encrypted. */
export async function decodePemKey(pem: string, path: string, passwords: PasswordBook): Promise<KeyObject> {
  const encrypted = /BEGIN ENCRYPTED PRIVATE KEY|Proc-Type:\s*4,ENCRYPTED/.test(pem);
  if (!encrypted) {
    const key = parseKey(pem, undefined, path);
    blockRead.set(key, pem);
    return key;
  }
  return passwords.with('key', path, async (passphrase) => {
    if (passphrase === undefined) throw new C8yError('PASSWORD_REQUIRED', { path, role: 'key', password: 'key' });
    try {
      return parseKey(pem, passphrase, path);
    } catch (err) {
      // OpenSSL 3 words a wrong password for encrypted PKCS#8 as "unsupported": ask the padding.
      if (err instanceof C8yError && err.code === 'NOT_A_KEY' && /BEGIN ENCRYPTED PRIVATE KEY/.test(pem)) {
        const block = pemBlocks(pem).find((b) => b.label === 'ENCRYPTED PRIVATE KEY');
        const { encryptedPkcs8Verdict } = await import('../keystore/encrypted-pkcs8.js');
        if (block && (await encryptedPkcs8Verdict(pemBody(block), passphrase)) === 'wrong') throw new C8yError('WRONG_PASSWORD', { path, role: 'key', password: 'key' });
      }
      throw err;
    }
  });
}

function parseKey(pem: string, passphrase: string | undefined, path: string): KeyObject {
  try {
    return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
  } catch (err) {
    const reason = `${String((err as Error).message)} ${(err as { code?: string }).code ?? ''}`;
    if (passphrase !== undefined && /bad decrypt|BAD_DECRYPT|bad password|interrupted or cancelled/i.test(reason)) {
      throw new C8yError('WRONG_PASSWORD', { path, role: 'key', password: 'key' });
    }
    throw new C8yError('NOT_A_KEY', { path, role: 'key', ...((err as { code?: string }).code ? { nodeCode: (err as { code: string }).code } : {}) }, { cause: err });
  }
}
