/**
 * A PKCS#12 file (RFC 7292) for a renewed keystore identity, in the form OpenSSL 3 and Java 9+ keytool
 * write and read by default: the key in a shrouded key bag and the certificates in an encrypted safe,
 * both PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), integrity by an HMAC-SHA256 MAC, every count the same
 * (a renewal passes the old file's highest, so a rewrite never weakens it). DER by ./der-writer.ts.
 */
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { bmpPassword, pkcs12Kdf } from '../keystore/pbe.js';
import { bmp, context, contextPrimitive, integer, NULL, octetString, oid, seq, setOf } from './der-writer.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  // Oracle's "trusted key usage" bag attribute: what makes keytool list a certificate as a trustedCertEntry.
  javaTrustedKeyUsage: '2.16.840.1.113894.746875.1.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** The entry to write and how to protect it. */
export interface Pkcs12Options {
  /** The key of the leaf (chain[0]). */
  key: KeyObject;
  /** Leaf first, then its issuers. */
  chain: readonly X509Certificate[];
  /** Store and key password (the same, as keytool and OpenSSL use them by default). */
  password: string;
  /** The entry's alias (friendlyName); default "device". */
  alias?: string;
  /** The key's own password, when it differs from the store's (keytool allows it); default `password`. */
  keyPassword?: string | undefined;
  /**
   * Other certificates to keep beside the entry (a renewal keeps those of the replaced file): with their
   * friendlyName when they had one, and marked trusted for Java only when they were (javaTrusted), so keytool
   * lists the same entries after a rewrite as before.
   */
  trusted?: readonly { alias?: string | undefined; cert: X509Certificate; javaTrusted?: boolean | undefined }[] | undefined;
  /** PBKDF2 and MAC iterations; default 2048, OpenSSL 3's (a renewal passes the old file's highest). */
  iterations?: number;
}

/** A DER PKCS#12 file holding the key and chain, protected with `password`. */
export async function writePkcs12(options: Pkcs12Options): Promise<Buffer> {
  const iterations = options.iterations ?? 2048;
  const alias = options.alias ?? 'device';
  const leaf = options.chain[0];
  if (!leaf) throw new TypeError('writePkcs12 needs at least the device certificate');
  // localKeyId ties the key to its certificate (Java and OpenSSL both match on it).
  const localKeyId = Buffer.from(leaf.fingerprint.replace(/:/g, ''), 'hex');
  const leafAttributes = setOf(seq(oid(OID.friendlyName), setOf(bmp(alias))), seq(oid(OID.localKeyId), setOf(octetString(localKeyId))));

  const plainKey = options.key.export({ type: 'pkcs8', format: 'der' });
  // EncryptedPrivateKeyInfo (RFC 5958): the algorithm, then the ciphertext as an OCTET STRING.
  const [keyAlgorithm, keyCiphertext] = pbes2Encrypt(plainKey, options.keyPassword ?? options.password, iterations);
  const encryptedKey = seq(keyAlgorithm, octetString(keyCiphertext));
  plainKey.fill(0);
  const keyBag = seq(oid(OID.shroudedKeyBag), context(0, encryptedKey), leafAttributes);
  const certBags = options.chain.map((cert, i) => {
    const value = context(0, seq(oid(OID.x509Certificate), context(0, octetString(cert.raw))));
    return i === 0 ? seq(oid(OID.certBag), value, leafAttributes) : seq(oid(OID.certBag), value);
  });
  for (const { alias: name, cert, javaTrusted } of options.trusted ?? []) {
    const value = context(0, seq(oid(OID.x509Certificate), context(0, octetString(cert.raw))));
    const attributes = [
      ...(name === undefined ? [] : [seq(oid(OID.friendlyName), setOf(bmp(name)))]),
      ...(javaTrusted === false ? [] : [seq(oid(OID.javaTrustedKeyUsage), setOf(oid(OID.anyExtendedKeyUsage)))]),
    ];
    certBags.push(attributes.length ? seq(oid(OID.certBag), value, setOf(...attributes)) : seq(oid(OID.certBag), value));
  }

  const certsSafe = encryptedData(seq(...certBags), options.password, iterations);
  const keySafe = seq(oid(OID.data), context(0, octetString(seq(keyBag))));
  const authSafe = seq(seq(oid(OID.encryptedData), context(0, certsSafe)), keySafe);

  const macSalt = randomBytes(16);
  const macKey = await pkcs12Kdf('sha256', bmpPassword(options.password), macSalt, 3, iterations, 32);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const macData = seq(seq(seq(oid(OID.sha256), NULL), octetString(mac)), octetString(macSalt), integer(iterations));
  return seq(integer(3), seq(oid(OID.data), context(0, octetString(authSafe))), macData);
}

/** PBES2 (RFC 8018): PBKDF2-HMAC-SHA256 over the UTF-8 password, AES-256-CBC; the AlgorithmIdentifier and the ciphertext. */
function pbes2Encrypt(plain: Buffer, password: string, iterations: number): [algorithm: Buffer, encrypted: Buffer] {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const kdf = seq(oid(OID.pbkdf2), seq(octetString(salt), integer(iterations), seq(oid(OID.hmacWithSha256), NULL)));
  return [seq(oid(OID.pbes2), seq(kdf, seq(oid(OID.aes256Cbc), octetString(iv)))), encrypted];
}

/** EncryptedData (PKCS#7) with PBES2 (pbes2Encrypt). */
function encryptedData(plain: Buffer, password: string, iterations: number): Buffer {
  const [algorithm, encrypted] = pbes2Encrypt(plain, password, iterations);
  return seq(integer(0), seq(oid(OID.data), algorithm, contextPrimitive(0, encrypted)));
}
