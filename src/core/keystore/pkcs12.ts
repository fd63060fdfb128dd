/**
 * PKCS#12 (RFC 7292) reader on Node's crypto: modern (PBES2/AES + HMAC-SHA256, OpenSSL 3 and Java 9+),
 * legacy (RC2-40/3DES + SHA-1 MAC, OpenSSL -legacy and Java 8) and BER-encoded files. Node's own `pfx`
 * option rejects the legacy ones; reading the bags ourselves also gives keys of any type (RSA, EC, DSA)
 * to createPrivateKey. Every number that drives work (iteration counts, salt and MAC lengths) is checked
 * against LIMITS before the work, and every failure, now or when a key is decrypted later, is a
 * C8yError naming the file.
 */
import { createHmac, createPrivateKey, timingSafeEqual, type KeyObject, type X509Certificate } from 'node:crypto';
import { C8yError, type FileRole, type WarningSink } from '../errors.js';
import { LIMITS } from '../limits.js';
import { buildPath, keyMatchesCertificate } from '../x509/path.js';
import { parseCertificate } from '../x509/read.js';
import { child, explicit, parseDer, readBmpString, readOctets, readOid, readSmallInt, Tag, type Node } from '../encoding/der.js';
import { BadDecryptError, bmpPassword, checkedSalt, decryptPbe, deriveAhead, hashName, isPbes2, pbeCosts, pkcs12Kdf, UnsupportedAlgorithmError } from './pbe.js';
import { keystoreFailure } from './failure.js';
import { KdfWork, type KdfCost } from './work.js';
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
  javaTrustedKeyUsage: '2.16.840.1.113894.746875.1.1',
} as const;

interface Bag {
  type: 'key' | 'shroudedKey' | 'cert';
  value: Node;
  friendlyName?: string;
  localKeyId?: string;
  /** Oracle's trusted-key-usage attribute: keytool lists the certificate as a trustedCertEntry. */
  javaTrusted?: boolean;
}

export interface ReadKeystoreOptions {
  /** The file, for messages, and what it is to the user. */
  path: string;
  role: FileRole;
  password: string;
  warn: WarningSink;
  /** Aborts long key derivations (SIGINT/SIGTERM). */
  signal?: AbortSignal | undefined;
  /**
   * The key entries are decrypted next with the store's password (no key password was given): their keys
   * may be derived ahead, beside the MAC. Not for a truststore, nor with a key password of its own (then a
   * key derived ahead would be derived, and counted, twice).
   */
  keysAhead?: boolean | undefined;
}

/** Reads a PKCS#12 file's content. */
export async function readPkcs12(data: Buffer, options: ReadKeystoreOptions): Promise<Keystore> {
  const { path, role } = options;
  try {
    return await readPkcs12Unchecked(data, options);
  } catch (err) {
    throw keystoreFailure(err, path, role, 'PKCS#12');
  }
}

async function readPkcs12Unchecked(data: Buffer, options: ReadKeystoreOptions): Promise<Keystore> {
  const { path, role, password: storePassword } = options;
  const work = new KdfWork(options.signal);
  const pfx = parseDer(data);
  const authSafe = child(pfx, 1);
  if (readOid(child(authSafe, 0)) !== OID.data) throw new C8yError('KEYSTORE_UNSUPPORTED', { path, role, format: 'PKCS#12', reason: 'public-key protection' });
  const authSafeContent = readOctets(explicit(child(authSafe, 1), 0));
  const macData = pfx.children[2];
  const sections = readSections(parseDer(authSafeContent), options);
  // Every derivation the file declares where it can be seen without a password (the MAC, the encrypted
  // sections, the shrouded keys of plain sections) is weighed before the first one runs: a file asking for
  // more than the limits in all is refused at once, not after seconds of work.
  work.plan([...(macData ? [macCost(macData)] : []), ...sections.flatMap(declaredCosts)]);
  // The bags' PBKDF2 keys derive on the thread pool while the MAC's KDF runs here (PBES2 takes an empty and
  // an absent password as the same bytes, so the MAC's verdict on them does not matter): the certificates'
  // always, the keys' when they are decrypted next with the store's password.
  for (const section of sections) {
    if (section.kind === 'encrypted') deriveAhead(section.algorithm, storePassword, work, 'its certificates');
    else if (options.keysAhead) for (const bag of section.bags) if (bag.type === 'shroudedKey') deriveAhead(child(bag.value, 0), storePassword, work, `the key of entry "${bag.friendlyName ?? '1'}"`);
  }
  // The MAC tells a wrong password from a damaged file before any decryption is tried. Some tools encode an
  // empty password as no bytes at all instead of a BMP terminator (RFC 7292 leaves it open): try both.
  const candidates = storePassword === '' ? ['', null] : [storePassword];
  let password: string | null = storePassword;
  if (macData) {
    let ok: string | null | undefined;
    for (const candidate of candidates) {
      if (await verifyMac(macData, authSafeContent, candidate, work, { path, role })) {
        ok = candidate;
        break;
      }
    }
    if (ok === undefined) throw new C8yError('WRONG_PASSWORD', { path, role, format: 'PKCS#12', password: role === 'truststore' ? 'truststore' : 'keystore', reason: 'integrity check' });
    password = ok;
  } else {
    // OpenSSL says the same ("no MAC: integrity not verified"): anyone could have changed the file's content.
    options.warn(`${path}: this PKCS#12 file has no integrity check (MAC): its content is used unverified; re-create it with a password (openssl pkcs12 -export) if you did not mean that`);
  }

  const bags: Bag[] = [];
  for (const section of sections) {
    if (section.kind === 'plain') {
      bags.push(...section.bags);
      continue;
    }
    let plain: Buffer;
    try {
      plain = await decryptPbe(section.algorithm, section.encrypted, password, work, 'its certificates');
    } catch (err) {
      if (err instanceof BadDecryptError)
        throw new C8yError('WRONG_PASSWORD', { path, role, format: 'PKCS#12', password: role === 'truststore' ? 'truststore' : 'keystore', reason: 'certificates cannot be decrypted' });
      throw err;
    }
    collectBags(parseDer(plain), bags);
  }
  return assemble(bags, options, work);
}

/**
 * The highest iteration count the file declares where it can be seen without a password (the MAC, the
 * encrypted sections, the shrouded keys of plain sections), or undefined when none can be read: a
 * rewrite of the file keeps at least this protection.
 */
export function declaredIterations(data: Buffer, options: Pick<ReadKeystoreOptions, 'path' | 'role'>): number | undefined {
  try {
    const pfx = parseDer(data);
    const macData = pfx.children[2];
    const sections = readSections(parseDer(readOctets(explicit(child(child(pfx, 1), 1), 0))), { ...options, password: '', warn: () => undefined });
    const counts = [...(macData ? [macCost(macData)] : []), ...sections.flatMap(declaredCosts)].map((c) => c.iterations);
    return counts.length ? Math.max(...counts) : undefined;
  } catch {
    return undefined;
  }
}

/** One ContentInfo of the AuthenticatedSafe: bags in the clear, or data encrypted with a password. */
type Section = { kind: 'plain'; bags: Bag[] } | { kind: 'encrypted'; algorithm: Node; encrypted: Buffer };

function readSections(authenticatedSafe: Node, options: ReadKeystoreOptions): Section[] {
  const sections: Section[] = [];
  for (const contentInfo of authenticatedSafe.children) {
    const type = readOid(child(contentInfo, 0));
    if (type === OID.data) {
      const bags: Bag[] = [];
      collectBags(parseDer(readOctets(explicit(child(contentInfo, 1), 0))), bags);
      sections.push({ kind: 'plain', bags });
    } else if (type === OID.encryptedData) {
      const encryptedContentInfo = child(explicit(child(contentInfo, 1), 0), 1);
      // [0] IMPLICIT OCTET STRING
      sections.push({ kind: 'encrypted', algorithm: child(encryptedContentInfo, 1), encrypted: child(encryptedContentInfo, 2).content });
    } else {
      options.warn(`${options.path}: skipped a PKCS#12 section of type ${type}`);
    }
  }
  return sections;
}

/** The derivations a section declares before any is done (an algorithm we do not read costs nothing: it fails when used). */
function declaredCosts(section: Section): KdfCost[] {
  const costs = (algorithm: Node, what: string): KdfCost[] => {
    try {
      return pbeCosts(algorithm, what);
    } catch (err) {
      if (err instanceof UnsupportedAlgorithmError) return [];
      throw err;
    }
  };
  if (section.kind === 'encrypted') return costs(section.algorithm, 'its certificates');
  return section.bags.filter((bag) => bag.type === 'shroudedKey').flatMap((bag) => costs(child(bag.value, 0), `the key of entry "${bag.friendlyName ?? '1'}"`));
}

function macCost(macData: Node): KdfCost {
  return { iterations: macData.children[2] ? readSmallInt(child(macData, 2)) : 1, blocks: 1, what: 'its integrity check (MAC)' };
}

async function verifyMac(macData: Node, content: Buffer, password: string | null, work: KdfWork, file: { path: string; role: FileRole }): Promise<boolean> {
  const digestInfo = child(macData, 0);
  const hash = hashName(readOid(child(child(digestInfo, 0), 0)));
  const expected = readOctets(child(digestInfo, 1));
  const salt = checkedSalt(readOctets(child(macData, 1)));
  // A MAC value is exactly one HMAC output: anything else is damage (and would be costly to derive).
  const macLength = createHmac(hash, '').digest().length;
  if (expected.length !== macLength)
    throw new C8yError('KEYSTORE_CORRUPT', { ...file, format: 'PKCS#12', reason: `a ${hash.toUpperCase()} MAC value of ${expected.length} bytes (it is ${macLength})` });
  const cost = macCost(macData);
  work.take(cost);
  const pw = password === null ? Buffer.alloc(0) : bmpPassword(password);
  const key = await pkcs12Kdf(hash, pw, salt, 3, cost.iterations, macLength, work);
  return timingSafeEqual(createHmac(hash, key).update(content).digest(), expected);
}

function collectBags(safeContents: Node, bags: Bag[], depth = 0): void {
  for (const safeBag of safeContents.children) {
    const bagId = readOid(child(safeBag, 0));
    const value = explicit(child(safeBag, 1), 0);
    const attrs = readAttributes(safeBag.children[2]);
    if (bagId === OID.safeContentsBag && depth < 4) collectBags(value, bags, depth + 1);
    else if (bagId === OID.keyBag) bags.push({ type: 'key', value, ...attrs });
    else if (bagId === OID.shroudedKeyBag) bags.push({ type: 'shroudedKey', value, ...attrs });
    else if (bagId === OID.certBag && readOid(child(value, 0)) === OID.x509Certificate) bags.push({ type: 'cert', value, ...attrs });
    // CRL and secret bags carry nothing a device needs.
  }
}

function readAttributes(set: Node | undefined): Pick<Bag, 'friendlyName' | 'localKeyId' | 'javaTrusted'> {
  const out: Pick<Bag, 'friendlyName' | 'localKeyId' | 'javaTrusted'> = {};
  for (const attr of set?.children ?? []) {
    const type = readOid(child(attr, 0));
    const first = child(attr, 1).children[0];
    if (!first) continue;
    if (type === OID.friendlyName && first.tagNumber === Tag.bmpString) out.friendlyName = readBmpString(first);
    if (type === OID.localKeyId) out.localKeyId = first.content.toString('hex');
    if (type === OID.javaTrustedKeyUsage) out.javaTrusted = true;
  }
  return out;
}

function assemble(bags: Bag[], options: ReadKeystoreOptions, work: KdfWork): Keystore {
  const { path, role } = options;
  const certs = bags
    .filter((b) => b.type === 'cert')
    .map((bag) => {
      const cert = parseCertificate(readOctets(explicit(child(bag.value, 1), 0)));
      if (!cert) throw new C8yError('KEYSTORE_CORRUPT', { path, role, format: 'PKCS#12', reason: 'a certificate bag holds no readable certificate' });
      return { bag, cert };
    });
  const pool = certs.map((c) => c.cert);
  const keyEntries: KeyEntry[] = [];
  const claimed = new Set<X509Certificate>();
  bags.forEach((bag, index) => {
    if (bag.type === 'cert') return;
    // Match the key to its certificate by localKeyId (what the spec intends), by public key otherwise.
    const byId = bag.localKeyId === undefined ? undefined : certs.find((c) => c.bag.localKeyId === bag.localKeyId)?.cert;
    const alias = bag.friendlyName ?? (keyEntries.length === 0 ? '1' : String(index + 1));
    let leaf = byId;
    let chain: X509Certificate[] | undefined;
    const entry: KeyEntry = {
      alias,
      get chain() {
        if (!leaf) return [];
        if (!chain) {
          const built = buildPath(leaf, pool);
          if (built.exhausted) throw new C8yError('INPUT_LIMIT', { path, role, what: 'signature checks', unit: 'signature checks', limit: LIMITS.signatureChecks, actual: pool.length });
          chain = built.path;
        }
        return chain;
      },
      decryptKey: async (password: string) => {
        try {
          const key = await decryptKeyBag(bag, password, options, alias, work);
          leaf ??= pool.find((c) => keyMatchesCertificate(key, c));
          return key;
        } catch (err) {
          throw keystoreFailure(err, path, role, 'PKCS#12');
        }
      },
    };
    if (leaf) claimed.add(leaf);
    keyEntries.push(entry);
  });
  const trusted: TrustedEntry[] = certs
    .filter((c) => !claimed.has(c.cert))
    .map((c, i) => ({
      alias: c.bag.friendlyName ?? `cert-${i + 1}`,
      cert: c.cert,
      ...(c.bag.friendlyName !== undefined ? { named: true } : {}),
      ...(c.bag.javaTrusted ? { javaTrusted: true } : {}),
    }));
  return { format: 'pkcs12', path, keyEntries, trusted };
}

async function decryptKeyBag(bag: Bag, password: string, options: ReadKeystoreOptions, alias: string, work: KdfWork): Promise<KeyObject> {
  const { path, role } = options;
  const notAKey = (err?: unknown): C8yError => new C8yError('NOT_A_KEY', { path, role, format: 'PKCS#12', alias }, { cause: err });
  if (bag.type === 'key') {
    try {
      return createPrivateKey({ key: bag.value.bytes, format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw notAKey(err);
    }
  }
  // An empty password may have been encoded as no bytes at all (see readPkcs12Unchecked); PBES2 takes
  // both as the same zero bytes, so trying the second would only repeat the derivation.
  for (const candidate of password === '' && !isPbes2(child(bag.value, 0)) ? ['', null] : [password]) {
    let pkcs8: Buffer;
    try {
      pkcs8 = await decryptPbe(child(bag.value, 0), readOctets(child(bag.value, 1)), candidate, work, `the key of entry "${alias}"`);
    } catch (err) {
      if (err instanceof BadDecryptError) continue;
      throw err;
    }
    try {
      return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    } catch {
      // Garbage behind padding that happened to look valid (1 time in 256): a wrong password.
    }
  }
  throw new C8yError('WRONG_PASSWORD', { path, role, format: 'PKCS#12', alias, password: 'key' });
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
