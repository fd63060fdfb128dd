/**
 * Java KeyStore (JKS) reader. The format is Sun's: big-endian records, keys protected by the proprietary
 * "JKS key protector" (SHA-1 keystream, OID 1.3.6.1.4.1.42.2.17.1.1), and a SHA-1 integrity digest over
 * password + "Mighty Aphrodite" + content. See OpenJDK's sun.security.provider.JavaKeyStore and KeyProtector.
 */
import { createHash, createPrivateKey, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { C8yError } from '../errors.js';
import { DerError, child, parseDer, readOctets, readOid } from '../encoding/der.js';
import type { KeyEntry, Keystore, TrustedEntry } from './types.js';

export const JKS_MAGIC = 0xfeedfeed;
export const JCEKS_MAGIC = 0xcececece;
const JKS_KEY_PROTECTOR_OID = '1.3.6.1.4.1.42.2.17.1.1';

/** Password bytes as Java's JKS code forms them: each UTF-16 code unit big-endian, no terminator. */
function javaPasswordBytes(password: string): Buffer {
  return Buffer.from(password, 'utf16le').swap16();
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

/** Reads a JKS keystore. With a null password the integrity check is skipped (as keytool -list does). */
export function readJks(data: Buffer, path: string, storePassword: string | null): Keystore {
  try {
    return readJksUnchecked(data, path, storePassword);
  } catch (err) {
    if (err instanceof C8yError) throw err;
    if (err instanceof DerError || err instanceof RangeError || (err as { code?: string }).code?.startsWith('ERR_OSSL')) {
      throw new C8yError('KEYSTORE_CORRUPT', `${path} is not a readable JKS keystore (${(err as Error).message}).`, {
        hint: 'Check the file was copied completely; `keytool -list -keystore FILE` shows what it holds.',
        cause: err,
      });
    }
    throw err;
  }
}

function readJksUnchecked(data: Buffer, path: string, storePassword: string | null): Keystore {
  const r = new Reader(data);
  const magic = r.u32();
  if (magic === JCEKS_MAGIC) {
    throw new C8yError('KEYSTORE_UNSUPPORTED', `${path} is a JCEKS keystore, which c8ytoken does not read.`, {
      hint: `Convert it: keytool -importkeystore -srckeystore ${path} -srcstoretype JCEKS -destkeystore device.p12 -deststoretype PKCS12`,
    });
  }
  if (magic !== JKS_MAGIC) throw new DerError('not a JKS file');
  const version = r.u32();
  if (version !== 1 && version !== 2) throw new DerError(`unknown JKS version ${version}`);
  const count = r.u32();
  const warnings: string[] = [];
  const seen = new Set<string>();
  const keyBlobs: { alias: string; blob: Buffer; certs: X509Certificate[] }[] = [];
  const trusted: TrustedEntry[] = [];
  const readCert = (): X509Certificate => {
    if (version === 2) {
      const type = r.utf();
      if (type !== 'X.509') throw new DerError(`certificate of type ${type}`);
    }
    return new X509Certificate(r.bytes(r.u32()));
  };
  for (let i = 0; i < count; i++) {
    const tag = r.u32();
    const alias = r.utf();
    r.bytes(8); // creation time
    // Java treats aliases case-insensitively; two entries with one alias mean a damaged or forged file.
    if (seen.has(alias.toLowerCase())) {
      throw new C8yError('KEYSTORE_CORRUPT', `${path} holds the alias "${alias}" twice.`, {
        hint: 'Rebuild the keystore with keytool so each alias is unique.',
      });
    }
    seen.add(alias.toLowerCase());
    if (tag === 1) {
      const blob = r.bytes(r.u32());
      const certs: X509Certificate[] = [];
      const n = r.u32();
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
    warnings.push(`${path}: no store password given, so its integrity was not checked`);
  } else {
    const actual = createHash('sha1').update(javaPasswordBytes(storePassword)).update('Mighty Aphrodite', 'utf8').update(signed).digest();
    if (!timingSafeEqual(actual, digest)) {
      throw new C8yError('WRONG_PASSWORD', `The keystore password for ${path} is wrong (or the file was changed).`, {
        hint: 'Give the right password with --keystore-password-file or C8YTOKEN_KEYSTORE_PASSWORD.',
      });
    }
  }
  const keyEntries: KeyEntry[] = keyBlobs.map(({ alias, blob, certs }) => ({
    alias,
    chain: certs, // keytool stores the chain in order, leaf first
    decryptKey: async (password: string) => recoverKey(blob, password, path, alias),
  }));
  return { format: 'jks', path, keyEntries, trusted, warnings };
}

function recoverKey(blob: Buffer, password: string, path: string, alias: string): KeyObject {
  const epki = parseDer(blob);
  const oid = readOid(child(child(epki, 0), 0));
  if (oid !== JKS_KEY_PROTECTOR_OID) {
    throw new C8yError('KEYSTORE_UNSUPPORTED', `Entry "${alias}" in ${path} is protected with ${oid}, which c8ytoken does not read.`, {
      hint: 'Convert the keystore to PKCS#12 with keytool -importkeystore -deststoretype PKCS12.',
    });
  }
  const protectedKey = readOctets(child(epki, 1));
  if (protectedKey.length < 41) throw new DerError('protected key too short');
  const salt = protectedKey.subarray(0, 20);
  const encrypted = protectedKey.subarray(20, protectedKey.length - 20);
  const check = protectedKey.subarray(protectedKey.length - 20);
  const pw = javaPasswordBytes(password);
  const plain = Buffer.alloc(encrypted.length);
  let digest: Buffer = salt;
  for (let off = 0; off < encrypted.length; off += 20) {
    digest = createHash('sha1').update(pw).update(digest).digest();
    for (let i = 0; i < 20 && off + i < encrypted.length; i++) plain[off + i] = encrypted[off + i]! ^ digest[i]!;
  }
  const expected = createHash('sha1').update(pw).update(plain).digest();
  if (!timingSafeEqual(expected, check)) {
    throw new C8yError('WRONG_PASSWORD', `The key password of entry "${alias}" in ${path} is wrong.`, {
      hint: 'Give the key password with --key-password-file or C8YTOKEN_KEY_PASSWORD (it defaults to the store password).',
    });
  }
  try {
    return createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new C8yError('NOT_A_KEY', `The private key of entry "${alias}" in ${path} cannot be read.`, { cause: err });
  }
}
