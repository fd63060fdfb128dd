/**
 * Java KeyStore (JKS) reader. The format is Sun's: big-endian records, keys protected by the proprietary
 * "JKS key protector" (SHA-1 keystream, OID 1.3.6.1.4.1.42.2.17.1.1), and a SHA-1 integrity digest over
 * password + "Mighty Aphrodite" + content. See OpenJDK's sun.security.provider.JavaKeyStore and KeyProtector.
 */
import { createHash, createPrivateKey, timingSafeEqual, type KeyObject, type X509Certificate } from 'node:crypto';
import { C8yError, type FileRole, type WarningSink } from '../errors.js';
import { LIMITS } from '../limits.js';
import { DerError, child, parseDer, readOctets, readOid } from '../encoding/der.js';
import { parseCertificate } from '../x509/read.js';
import { keystoreFailure } from './failure.js';
import type { KeyEntry, Keystore, TrustedEntry } from './types.js';

export const JKS_MAGIC = 0xfeedfeed;
export const JCEKS_MAGIC = 0xcececece;
const JKS_KEY_PROTECTOR_OID = '1.3.6.1.4.1.42.2.17.1.1';

/** Password bytes as Java's JKS code forms them: each UTF-16 code unit big-endian, no terminator. */
export function javaPasswordBytes(password: string): Buffer {
  return Buffer.from(password, 'utf16le').swap16();
}

/**
 * Sun's KeyProtector keystream applied to `input` (the same XOR encrypts and decrypts): SHA-1 of the
 * password bytes and the previous digest, starting from the salt, 20 bytes at a time.
 */
export function sunKeyProtectorXor(passwordBytes: Buffer, salt: Buffer, input: Buffer): Buffer {
  const out = Buffer.alloc(input.length);
  let digest: Buffer = salt;
  for (let off = 0; off < input.length; off += 20) {
    digest = createHash('sha1').update(passwordBytes).update(digest).digest();
    for (let i = 0; i < 20 && off + i < input.length; i++) out[off + i] = input[off + i]! ^ digest[i]!;
  }
  return out;
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DerError('the keystore ends early');
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  // Java's modified UTF-8; identical to UTF-8 for every alias a keytool user can type but NUL.
  utf(): string {
    return this.bytes(this.u16()).toString('utf8');
  }
}

export interface ReadJksOptions {
  path: string;
  role: FileRole;
  /** null: open without checking integrity (as keytool -list does; JKS truststores only). */
  password: string | null;
  warn: WarningSink;
}

/** Reads a JKS keystore; entry and certificate counts are bounded by LIMITS, not by the file's numbers. */
export function readJks(data: Buffer, options: ReadJksOptions): Keystore {
  try {
    return readJksUnchecked(data, options);
  } catch (err) {
    throw keystoreFailure(err, options.path, options.role, 'JKS');
  }
}

function readJksUnchecked(data: Buffer, options: ReadJksOptions): Keystore {
  const { path, role, password: storePassword } = options;
  const r = new Reader(data);
  const magic = r.u32();
  if (magic === JCEKS_MAGIC) throw new C8yError('KEYSTORE_UNSUPPORTED', { path, role, format: 'JCEKS' });
  if (magic !== JKS_MAGIC) throw new DerError('not a JKS file');
  const version = r.u32();
  if (version !== 1 && version !== 2) throw new DerError(`unknown JKS version ${version}`);
  const count = r.u32();
  if (count > LIMITS.keystoreEntries) throw new C8yError('INPUT_LIMIT', { path, role, format: 'JKS', what: 'entries', limit: LIMITS.keystoreEntries, actual: count });
  const seen = new Set<string>();
  const keyBlobs: { alias: string; blob: Buffer; certs: X509Certificate[] }[] = [];
  const trusted: TrustedEntry[] = [];
  const readCert = (): X509Certificate => {
    if (version === 2) {
      const type = r.utf();
      if (type !== 'X.509') throw new DerError(`certificate of type ${type}`);
    }
    const cert = parseCertificate(r.bytes(r.u32()));
    if (!cert) throw new DerError('an entry holds no readable certificate');
    return cert;
  };
  for (let i = 0; i < count; i++) {
    const tag = r.u32();
    const alias = r.utf();
    r.bytes(8); // creation time
    // Java treats aliases case-insensitively; two entries with one alias mean a damaged or forged file.
    if (seen.has(alias.toLowerCase())) throw new C8yError('KEYSTORE_CORRUPT', { path, role, format: 'JKS', alias, reason: `the alias "${alias}" twice` });
    seen.add(alias.toLowerCase());
    if (tag === 1) {
      const blob = r.bytes(r.u32());
      const n = r.u32();
      if (n > LIMITS.chainCertificates) throw new C8yError('INPUT_LIMIT', { path, role, format: 'JKS', alias, what: 'certificates in one chain', limit: LIMITS.chainCertificates, actual: n });
      const certs: X509Certificate[] = [];
      for (let j = 0; j < n; j++) certs.push(readCert());
      keyBlobs.push({ alias, blob, certs });
    } else if (tag === 2) {
      trusted.push({ alias, cert: readCert() });
    } else {
      throw new DerError(`unknown entry tag ${tag}`);
    }
  }
  const signed = data.subarray(0, r.pos);
  const digest = r.bytes(20);
  if (storePassword === null) {
    options.warn(`${path}: no store password given, so its integrity was not checked`);
  } else {
    const actual = createHash('sha1').update(javaPasswordBytes(storePassword)).update('Mighty Aphrodite', 'utf8').update(signed).digest();
    if (!timingSafeEqual(actual, digest)) throw new C8yError('WRONG_PASSWORD', { path, role, format: 'JKS', password: role === 'truststore' ? 'truststore' : 'keystore', reason: 'integrity check' });
  }
  const keyEntries: KeyEntry[] = keyBlobs.map(({ alias, blob, certs }) => ({
    alias,
    chain: certs, // keytool stores the chain in order, leaf first
    decryptKey: (password: string) => {
      try {
        return Promise.resolve(recoverKey(blob, password, options, alias));
      } catch (err) {
        return Promise.reject(keystoreFailure(err, path, role, 'JKS'));
      }
    },
  }));
  return { format: 'jks', path, keyEntries, trusted };
}

function recoverKey(blob: Buffer, password: string, options: ReadJksOptions, alias: string): KeyObject {
  const { path, role } = options;
  const epki = parseDer(blob);
  const oid = readOid(child(child(epki, 0), 0));
  if (oid !== JKS_KEY_PROTECTOR_OID) throw new C8yError('KEYSTORE_UNSUPPORTED', { path, role, format: 'JKS', alias, reason: oid });
  const protectedKey = readOctets(child(epki, 1));
  if (protectedKey.length < 41) throw new DerError('protected key too short');
  const salt = protectedKey.subarray(0, 20);
  const encrypted = protectedKey.subarray(20, protectedKey.length - 20);
  const check = protectedKey.subarray(protectedKey.length - 20);
  const pw = javaPasswordBytes(password);
  const plain = sunKeyProtectorXor(pw, salt, encrypted);
  const expected = createHash('sha1').update(pw).update(plain).digest();
  if (!timingSafeEqual(expected, check)) throw new C8yError('WRONG_PASSWORD', { path, role, format: 'JKS', alias, password: 'key' });
  try {
    return createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new C8yError('NOT_A_KEY', { path, role, format: 'JKS', alias }, { cause: err });
  }
}
