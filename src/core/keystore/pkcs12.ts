/**
 * PKCS#12 (RFC 7292) reader on Node's crypto: modern (PBES2/AES + HMAC-SHA256, OpenSSL 3 and Java 9+),
 * legacy (RC2-40/3DES + SHA-1 MAC, OpenSSL -legacy and Java 8) and BER-encoded files. Node's own `pfx`
 * option rejects the legacy ones; reading the bags ourselves also gives keys of any type (RSA, EC, DSA)
 * to createPrivateKey, which node-forge cannot parse.
 */
import { createHmac, createPrivateKey, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { C8yError } from '../errors.js';
import { buildPath, keyMatchesCertificate } from '../x509/path.js';
import { DerError, child, explicit, parseDer, readBmpString, readOctets, readOid, readSmallInt, Tag, type Node } from '../encoding/der.js';
import { BadDecryptError, UnsupportedAlgorithmError, bmpPassword, decryptPbe, hashName, pkcs12Kdf } from './pbe.js';
import type { KeyEntry, Keystore, TrustedEntry } from './types.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  envelopedData: '1.2.840.113549.1.7.3',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const;

interface Bag {
  type: 'key' | 'shroudedKey' | 'cert';
  value: Node;
  friendlyName?: string;
  localKeyId?: string;
}

/** Reads a PKCS#12 file's content; `path` is used in messages only. */
export async function readPkcs12(data: Buffer, path: string, storePassword: string): Promise<Keystore> {
  try {
    return await readPkcs12Unchecked(data, path, storePassword);
  } catch (err) {
    if (err instanceof C8yError) throw err;
    if (err instanceof DerError) {
      throw new C8yError('KEYSTORE_CORRUPT', `${path} is not a readable PKCS#12 keystore (${err.message}).`, {
        hint: 'Check that the file was copied completely and in binary mode; `openssl pkcs12 -info -in FILE` shows what it holds.',
        cause: err,
      });
    }
    if (err instanceof UnsupportedAlgorithmError) {
      throw new C8yError('KEYSTORE_UNSUPPORTED', `${path} uses an encryption algorithm c8ytoken cannot read (${err.oid}).`, {
        hint: 'Re-export it with OpenSSL 3 defaults: `openssl pkcs12 -export ...` (PBES2/AES-256).',
        cause: err,
      });
    }
    throw err;
  }
}

async function readPkcs12Unchecked(data: Buffer, path: string, storePassword: string): Promise<Keystore> {
  const pfx = parseDer(data);
  const authSafe = child(pfx, 1);
  if (readOid(child(authSafe, 0)) !== OID.data) {
    throw new C8yError('KEYSTORE_UNSUPPORTED', `${path} is a public-key-protected PKCS#12 file; only password-protected ones are supported.`, {
      hint: 'Re-export the keystore with a password.',
    });
  }
  const authSafeContent = readOctets(explicit(child(authSafe, 1), 0));
  const macData = pfx.children[2];
  // The MAC tells a wrong password from a damaged file before any decryption is tried. Some tools encode an
  // empty password as no bytes at all instead of a BMP terminator (RFC 7292 leaves it open): try both.
  const candidates = storePassword === '' ? ['', null] : [storePassword];
  let password: string | null = storePassword;
  if (macData) {
    const ok = candidates.find((p) => verifyMac(macData, authSafeContent, p));
    if (ok === undefined) {
      throw new C8yError('WRONG_PASSWORD', `The keystore password for ${path} is wrong (the integrity check failed).`, {
        hint: 'Give the right password with --keystore-password-file or C8YTOKEN_KEYSTORE_PASSWORD.',
      });
    }
    password = ok;
  }

  const bags: Bag[] = [];
  const warnings: string[] = [];
  for (const contentInfo of parseDer(authSafeContent).children) {
    const type = readOid(child(contentInfo, 0));
    if (type === OID.data) {
      collectBags(parseDer(readOctets(explicit(child(contentInfo, 1), 0))), bags);
    } else if (type === OID.encryptedData) {
      const encryptedContentInfo = child(explicit(child(contentInfo, 1), 0), 1);
      const algorithm = child(encryptedContentInfo, 1);
      const encrypted = child(encryptedContentInfo, 2).content; // [0] IMPLICIT OCTET STRING
      let plain: Buffer;
      try {
        plain = await decryptPbe(algorithm, encrypted, password);
      } catch (err) {
        if (err instanceof BadDecryptError) {
          throw new C8yError('WRONG_PASSWORD', `The keystore password for ${path} is wrong (its certificates cannot be decrypted).`, {
            hint: 'Give the right password with --keystore-password-file or C8YTOKEN_KEYSTORE_PASSWORD.',
          });
        }
        throw err;
      }
      collectBags(parseDer(plain), bags);
    } else {
      warnings.push(`${path}: skipped a PKCS#12 section of type ${type}`);
    }
  }
  return assemble(bags, path, warnings);
}

function verifyMac(macData: Node, content: Buffer, password: string | null): boolean {
  const digestInfo = child(macData, 0);
  const hash = hashName(readOid(child(child(digestInfo, 0), 0)));
  const expected = readOctets(child(digestInfo, 1));
  const salt = readOctets(child(macData, 1));
  const iterations = macData.children[2] ? readSmallInt(child(macData, 2)) : 1;
  const pw = password === null ? Buffer.alloc(0) : bmpPassword(password);
  const key = pkcs12Kdf(hash, pw, salt, 3, iterations, expected.length);
  const actual = createHmac(hash, key).update(content).digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function collectBags(safeContents: Node, bags: Bag[]): void {
  for (const safeBag of safeContents.children) {
    const bagId = readOid(child(safeBag, 0));
    const value = explicit(child(safeBag, 1), 0);
    const attrs = readAttributes(safeBag.children[2]);
    if (bagId === OID.safeContentsBag) collectBags(value, bags);
    else if (bagId === OID.keyBag) bags.push({ type: 'key', value, ...attrs });
    else if (bagId === OID.shroudedKeyBag) bags.push({ type: 'shroudedKey', value, ...attrs });
    else if (bagId === OID.certBag && readOid(child(value, 0)) === OID.x509Certificate) bags.push({ type: 'cert', value, ...attrs });
    // CRL and secret bags carry nothing a device needs.
  }
}

function readAttributes(set: Node | undefined): { friendlyName?: string; localKeyId?: string } {
  const out: { friendlyName?: string; localKeyId?: string } = {};
  for (const attr of set?.children ?? []) {
    const type = readOid(child(attr, 0));
    const first = child(attr, 1).children[0];
    if (!first) continue;
    if (type === OID.friendlyName && first.tagNumber === Tag.bmpString) out.friendlyName = readBmpString(first);
    if (type === OID.localKeyId) out.localKeyId = first.content.toString('hex');
  }
  return out;
}

function assemble(bags: Bag[], path: string, warnings: string[]): Keystore {
  const certBags = bags.filter((b) => b.type === 'cert');
  const certs = certBags.map((b) => ({ bag: b, cert: new X509Certificate(readOctets(explicit(child(b.value, 1), 0))) }));
  const pool = certs.map((c) => c.cert);
  const keyEntries: KeyEntry[] = [];
  const claimed = new Set<X509Certificate>();
  bags.forEach((bag, index) => {
    if (bag.type === 'cert') return;
    // Match the key to its certificate by localKeyId (what the spec intends), by public key otherwise.
    const byId = bag.localKeyId === undefined ? undefined : certs.find((c) => c.bag.localKeyId === bag.localKeyId)?.cert;
    const alias = bag.friendlyName ?? (keyEntries.length === 0 ? '1' : String(index + 1));
    let leaf = byId;
    const decryptKey = async (password: string): Promise<KeyObject> => {
      const key = await decryptKeyBag(bag, password, path, alias);
      if (!leaf) leaf = pool.find((c) => keyMatchesCertificate(key, c));
      return key;
    };
    const entry: KeyEntry = {
      alias,
      get chain() {
        return leaf ? buildPath(leaf, pool).path : [];
      },
      decryptKey,
    };
    if (leaf) claimed.add(leaf);
    keyEntries.push(entry);
  });
  const trusted: TrustedEntry[] = certs
    .filter((c) => !claimed.has(c.cert))
    .map((c, i) => ({ alias: c.bag.friendlyName ?? `cert-${i + 1}`, cert: c.cert }));
  return { format: 'pkcs12', path, keyEntries, trusted, warnings };
}

async function decryptKeyBag(bag: Bag, password: string, path: string, alias: string): Promise<KeyObject> {
  if (bag.type === 'key') {
    try {
      return createPrivateKey({ key: bag.value.bytes, format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw new C8yError('NOT_A_KEY', `The private key of entry "${alias}" in ${path} cannot be read.`, {
        hint: 'Check the key type is RSA or EC; `openssl pkcs12 -info -in FILE` shows the file.',
        cause: err,
      });
    }
  }
  // An empty password may have been encoded as no bytes at all (see readPkcs12Unchecked).
  for (const candidate of password === '' ? ['', null] : [password]) {
    try {
      const pkcs8 = await decryptPbe(child(bag.value, 0), readOctets(child(bag.value, 1)), candidate);
      return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    } catch (err) {
      // Bad padding, or garbage behind padding that happened to look valid (1 time in 256): wrong password.
      if (!(err instanceof BadDecryptError) && !(err as { code?: string }).code?.startsWith('ERR_')) throw err;
    }
  }
  throw wrongKeyPassword(path, alias);
}

function wrongKeyPassword(path: string, alias: string): C8yError {
  return new C8yError('WRONG_PASSWORD', `The key password of entry "${alias}" in ${path} is wrong.`, {
    hint: 'Give the key password with --key-password-file or C8YTOKEN_KEY_PASSWORD (it defaults to the store password).',
  });
}

/** True when data looks like a PKCS#12 PFX: SEQUENCE { INTEGER 3, ContentInfo ... }. */
export function looksLikePkcs12(data: Buffer): boolean {
  try {
    const pfx = parseDer(data);
    return pfx.tagNumber === Tag.sequence && readSmallInt(child(pfx, 0)) === 3 && child(pfx, 1).tagNumber === Tag.sequence;
  } catch {
    return false;
  }
}
