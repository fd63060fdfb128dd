/**
 * Rewrites one key entry of a Java KeyStore (JKS) for a renewal in place, in Sun's format as
 * ../keystore/jks.ts reads it and keytool writes it (OpenJDK's sun.security.provider.JavaKeyStore):
 * big-endian records, the key protected by Sun's KeyProtector (a SHA-1 keystream XORed over the PKCS#8
 * key, OID 1.3.6.1.4.1.42.2.17.1.1, with a SHA-1 check over password and key), and the store's integrity
 * digest SHA-1(password as UTF-16BE || "Mighty Aphrodite" || everything before it).
 *
 * Every other record (other key entries, trusted certificates) is copied byte for byte: a key entry's
 * protection does not depend on the store password, so nothing of another entry needs to be decrypted
 * to keep it. The renewed entry keeps its alias bytes and its creation time.
 */
import { createHash, randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { NULL, octetString, oid, seq } from './der-writer.js';
import { javaPasswordBytes, sunKeyProtectorXor } from '../keystore/jks.js';

const JKS_MAGIC = 0xfeedfeed;
const KEY_PROTECTOR_OID = '1.3.6.1.4.1.42.2.17.1.1';

/** The EncryptedPrivateKeyInfo of Sun's KeyProtector for `key` under `password`. */
export function protectJksKey(key: KeyObject, password: string): Buffer {
  const plain = key.export({ type: 'pkcs8', format: 'der' });
  const pw = javaPasswordBytes(password);
  const salt = randomBytes(20);
  const encrypted = sunKeyProtectorXor(pw, salt, plain);
  const check = createHash('sha1').update(pw).update(plain).digest();
  plain.fill(0);
  return seq(seq(oid(KEY_PROTECTOR_OID), NULL), octetString(Buffer.concat([salt, encrypted, check])));
}

/** A record of the original file: its bytes, and for a key entry its alias. */
interface JksRecord {
  bytes: Buffer;
  alias: string;
  aliasBytes: Buffer;
  created: Buffer;
  keyEntry: boolean;
}

/** The records of a JKS file whose integrity was already checked by the reader (so lengths are sound). */
function records(data: Buffer): { version: number; records: JksRecord[] } {
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > data.length) throw new RangeError('the keystore ends early');
  };
  const u16 = (): number => (need(2), (pos += 2), data.readUInt16BE(pos - 2));
  const u32 = (): number => (need(4), (pos += 4), data.readUInt32BE(pos - 4));
  const bytes = (n: number): Buffer => (need(n), (pos += n), data.subarray(pos - n, pos));
  if (u32() !== JKS_MAGIC) throw new RangeError('not a JKS file');
  const version = u32();
  const count = u32();
  const cert = (): void => {
    if (version === 2) bytes(u16());
    bytes(u32());
  };
  const out: JksRecord[] = [];
  for (let i = 0; i < count; i++) {
    const start = pos;
    const tag = u32();
    const aliasBytes = bytes(u16());
    const created = bytes(8);
    if (tag === 1) {
      bytes(u32());
      const n = u32();
      for (let j = 0; j < n; j++) cert();
    } else {
      cert();
    }
    out.push({ bytes: data.subarray(start, pos), alias: aliasBytes.toString('utf8'), aliasBytes, created, keyEntry: tag === 1 });
  }
  return { version, records: out };
}

/** The replacement entry: the key (protected with keyPassword), and its chain, leaf first. */
export interface JksEntry {
  alias: string;
  key: KeyObject;
  keyPassword: string;
  chain: readonly X509Certificate[];
}

/**
 * The keystore `original` (read and checked with `storePassword` before) with the key entry `entry.alias`
 * (compared case-insensitively, as Java does) replaced; every other record as it was.
 */
export function rewriteJks(original: Buffer, storePassword: string, entry: JksEntry): Buffer {
  const { version, records: list } = records(original);
  const index = list.findIndex((r) => r.keyEntry && r.alias.toLowerCase() === entry.alias.toLowerCase());
  if (index < 0) throw new RangeError(`no key entry "${entry.alias}"`);
  const old = list[index]!;
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const protectedKey = protectJksKey(entry.key, entry.keyPassword);
  const certs = entry.chain.flatMap((c) => [...(version === 2 ? [u16(5), Buffer.from('X.509')] : []), u32(c.raw.length), c.raw]);
  const record = Buffer.concat([u32(1), u16(old.aliasBytes.length), old.aliasBytes, old.created, u32(protectedKey.length), protectedKey, u32(entry.chain.length), ...certs]);
  const body = Buffer.concat([u32(JKS_MAGIC), u32(version), u32(list.length), ...list.map((r, i) => (i === index ? record : r.bytes))]);
  const digest = createHash('sha1').update(javaPasswordBytes(storePassword)).update('Mighty Aphrodite', 'utf8').update(body).digest();
  return Buffer.concat([body, digest]);
}
