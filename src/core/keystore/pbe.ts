/**
 * Password-based encryption used inside keystores, on Node's native crypto: PBES2 (PBKDF2 + AES/3DES,
 * RFC 8018) and the PKCS#12 PBE schemes (RFC 7292 appendix B/C). Only RC2, which OpenSSL 3 keeps in its
 * legacy provider and Node does not load, has a small implementation of its own (rc2.ts).
 */
import { createDecipheriv, createHash, hash as digest, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { LIMITS } from '../limits.js';
import { rc2CbcDecrypt } from './rc2.js';
import { digestRounds } from './digest-rounds.js';
import { child, DerError, readOctets, readOid, readSmallInt, Tag, type Node } from '../encoding/der.js';
import type { KdfCost, KdfWork } from './work.js';

const pbkdf2Async = promisify(pbkdf2);

const hashByOid: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '1.2.840.113549.2.5': 'md5',
};

const hmacPrfByOid: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const pbes2Ciphers: Record<string, { name: string; keyLength: number; ivLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
};

const pkcs12Pbe: Record<string, { cipher: string; keyLength: number; ivLength: number; rc2Bits?: number }> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLength: 16, ivLength: 8 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2-cbc', keyLength: 16, ivLength: 8, rc2Bits: 128 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2-cbc', keyLength: 5, ivLength: 8, rc2Bits: 40 },
};

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';

/** Raised when an algorithm is well-formed but not one we decrypt. */
export class UnsupportedAlgorithmError extends Error {
  override name = 'UnsupportedAlgorithmError';
  constructor(readonly oid: string) {
    super(`unsupported algorithm ${oid}`);
  }
}

/** Node hash name for a digest AlgorithmIdentifier's OID. */
export function hashName(oid: string): string {
  const name = hashByOid[oid];
  if (!name) throw new UnsupportedAlgorithmError(oid);
  return name;
}

/** The password as PKCS#12 wants it: UTF-16BE with a two-byte terminator (RFC 7292 B.1). */
export function bmpPassword(password: string): Buffer {
  const le = Buffer.from(password + '\0', 'utf16le');
  return Buffer.from(le).swap16();
}

// Rounds between pauses of a long derivation: a few milliseconds of hashing.
const ROUNDS_PER_SLICE = 4096;
// Rounds per call of the WebAssembly rounds: V8 starts them in its baseline compiler and swaps in
// optimised code between calls, never during one (measured: the first ~500 SHA-256 rounds are ten times
// slower than the rest); a call costs about a microsecond.
const ROUNDS_PER_CALL = 256;
// Derivations from which the WebAssembly rounds pay for themselves (compiling the module and V8's
// optimising compile, once per process; ADR 0010). SHA-256, median of 10-12 runs each: 1,024 rounds 2.34 ms
// against crypto.hash's 1.24, 2,048 rounds (OpenSSL 3's MAC) 2.68 against 4.4; reading OpenSSL 3's
// PKCS#12 13.1 -> 10.3 ms. SHA-1 from the first: the legacy files' six derivations of 2,048 rounds.
const WASM_FROM: Record<string, number> = { sha1: 2, sha256: 2048 };

/** A salt from the file, refused when longer than any writer makes (its length drives the work below). */
export function checkedSalt(salt: Buffer): Buffer {
  if (salt.length > LIMITS.saltBytes) throw new DerError(`a salt of ${salt.length} bytes`);
  return salt;
}

/**
 * The PKCS#12 key derivation function (RFC 7292 appendix B.2): id 1 key, 2 IV, 3 MAC key. The rounds
 * run in slices with pauses when `work` is given (so signals are answered during a long derivation);
 * the iteration count must have been accounted with `work.take` by the caller.
 */
export async function pkcs12Kdf(hash: string, password: Buffer, salt: Buffer, id: 1 | 2 | 3, iterations: number, length: number, work?: KdfWork): Promise<Buffer> {
  const u = createHash(hash).digest().length;
  const v = hash === 'sha384' || hash === 'sha512' ? 128 : 64;
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([fill(checkedSalt(salt)), fill(password)]);
  // The rounds after the first hash the digest alone: one compression each, in WebAssembly for SHA-1
  // and SHA-256 (ADR 0010), else a one-shot hash() per round (a fifth of createHash()'s call overhead).
  const rounds =
    (iterations >= (WASM_FROM[hash] ?? Infinity) ? digestRounds(hash) : undefined) ??
    ((x: Buffer, n: number) => {
      for (let r = 0; r < n; r++) x = digest(hash, x, 'buffer');
      return x;
    });
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let a: Buffer = createHash(hash).update(d).update(i).digest();
    for (let done = 1; done < iterations;) {
      const slice = Math.min(ROUNDS_PER_SLICE, iterations - done);
      for (let r = 0; r < slice; r += ROUNDS_PER_CALL) a = rounds(a, Math.min(ROUNDS_PER_CALL, slice - r));
      done += slice;
      if (work && done < iterations) await work.pause();
    }
    blocks.push(a);
    if (produced + u >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v), B being A repeated to v bytes.
    const b = fill(a);
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k]! + b[k]! + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** The derivations an encryption AlgorithmIdentifier asks for, read without doing any (for KdfWork.plan and take). */
export function pbeCosts(algorithm: Node, what: string): KdfCost[] {
  const oid = readOid(child(algorithm, 0));
  const params = child(algorithm, 1);
  if (oid === PBES2) {
    const { iterations, prf, cipher } = pbes2Parameters(params);
    return [{ iterations, blocks: blocksOf(cipher.keyLength, prf), what }];
  }
  const scheme = pkcs12Pbe[oid];
  if (!scheme) throw new UnsupportedAlgorithmError(oid);
  const iterations = readSmallInt(child(params, 1));
  // Two derivations (key and IV), SHA-1 based: a 3DES key takes two 20-byte blocks.
  return [
    { iterations, blocks: blocksOf(scheme.keyLength, 'sha1'), what },
    { iterations, blocks: blocksOf(scheme.ivLength, 'sha1'), what },
  ];
}

/** Hash-sized blocks a derivation of `length` bytes computes (each costs the full iteration count). */
export function blocksOf(length: number, hash: string): number {
  return Math.ceil(length / createHash(hash).digest().length);
}

/**
 * Decrypts data protected by a PBES2 or PKCS#12 PBE AlgorithmIdentifier. A null password is the
 * zero-length one that some tools use for "no password" instead of an empty BMPString. `what` names the
 * data for limit messages ("the key of entry x").
 * Throws BadDecryptError when the password is wrong (bad padding), UnsupportedAlgorithmError when the
 * scheme is unknown, DerError when the parameters are malformed, KdfLimitError past the limits.
 */
export async function decryptPbe(algorithm: Node, data: Buffer, password: string | null, work: KdfWork, what: string): Promise<Buffer> {
  const oid = readOid(child(algorithm, 0));
  const params = child(algorithm, 1);
  const ahead = oid === PBES2 ? work.useAhead(algorithm, password ?? '') : undefined;
  if (!ahead) for (const cost of pbeCosts(algorithm, what)) work.take(cost);
  if (oid === PBES2) return decryptPbes2(params, data, password ?? '', work, ahead);
  const scheme = pkcs12Pbe[oid]!;
  const salt = readOctets(child(params, 0));
  const iterations = readSmallInt(child(params, 1));
  const pw = password === null ? Buffer.alloc(0) : bmpPassword(password);
  const key = await pkcs12Kdf('sha1', pw, salt, 1, iterations, scheme.keyLength, work);
  const iv = await pkcs12Kdf('sha1', pw, salt, 2, iterations, scheme.ivLength, work);
  if (scheme.rc2Bits !== undefined) return decryptRc2(key, iv, data, scheme.rc2Bits);
  return decipher(scheme.cipher, key, iv, data);
}

/** True when the scheme takes the password as UTF-8 bytes, where an empty and an absent password are the same bytes. */
export function isPbes2(algorithm: Node): boolean {
  return readOid(child(algorithm, 0)) === PBES2;
}

function pbes2Parameters(params: Node): { salt: Buffer; iterations: number; prf: string; cipher: { name: string; keyLength: number; ivLength: number }; iv: Buffer } {
  const kdf = child(params, 0);
  const enc = child(params, 1);
  const kdfOid = readOid(child(kdf, 0));
  if (kdfOid !== PBKDF2) throw new UnsupportedAlgorithmError(kdfOid);
  const kdfParams = child(kdf, 1);
  const salt = checkedSalt(readOctets(child(kdfParams, 0)));
  const iterations = readSmallInt(child(kdfParams, 1));
  let prf = 'sha1';
  for (const extra of kdfParams.children.slice(2)) {
    if (extra.tagNumber === Tag.sequence) {
      const prfOid = readOid(child(extra, 0));
      const name = hmacPrfByOid[prfOid];
      if (!name) throw new UnsupportedAlgorithmError(prfOid);
      prf = name;
    }
  }
  const encOid = readOid(child(enc, 0));
  const cipher = pbes2Ciphers[encOid];
  if (!cipher) throw new UnsupportedAlgorithmError(encOid);
  const iv = readOctets(child(enc, 1));
  if (iv.length !== cipher.ivLength) throw new DerError(`an IV of ${iv.length} bytes for ${cipher.name}`);
  return { salt, iterations, prf, cipher, iv };
}

async function decryptPbes2(params: Node, data: Buffer, password: string, work: KdfWork, ahead?: Promise<Buffer>): Promise<Buffer> {
  const { salt, iterations, prf, cipher, iv } = pbes2Parameters(params);
  // PBES2 takes the password as UTF-8 bytes (RFC 8018; OpenSSL and Java agree). Asynchronous: the
  // rounds run on libuv's thread pool, so the event loop stays free for signals meanwhile; a signal that
  // came during the derivation stops the work here.
  const key = await (ahead ?? derivePbkdf2(password, salt, iterations, cipher.keyLength, prf));
  await work.pause();
  return decipher(cipher.name, key, iv, data);
}

const derivePbkdf2 = (password: string, salt: Buffer, iterations: number, keyLength: number, prf: string): Promise<Buffer> =>
  pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, keyLength, prf);

/**
 * PBES2 derivations up to this count may start ahead, and up to this many rounds in all for one file. A
 * PBKDF2 call on the thread pool cannot be cancelled: one started ahead and then not used (a wrong
 * password, a signal) runs to its end, and the process waits for it before it exits. 20,000 rounds are 4 ms
 * here (tens of ms on a small ARM board), 60,000 a keystore's certificates and two keys of keytool's 10,000
 * with room; GnuTLS's 600,000 (120-190 ms here) are derived when used, between pauses that answer a signal.
 */
const AHEAD_MAX_ITERATIONS = 20_000;
const AHEAD_MAX_IN_ALL = 60_000;

/**
 * Starts the PBKDF2 derivation of a PBES2 AlgorithmIdentifier on libuv's thread pool now, for a
 * decryptPbe of the same algorithm and password later: the thread pool derives a keystore's bag keys while
 * the main thread checks its MAC (keytool's PKCS#12: two PBKDF2 of 10,000 rounds beside the MAC's 10,000
 * SHA-256 rounds). The work is accounted now. Nothing is thrown here: an algorithm that is malformed,
 * unknown, too costly to start ahead or past the limits is derived, or fails, in its place when used.
 */
export function deriveAhead(algorithm: Node, password: string, work: KdfWork, what: string): void {
  try {
    if (!isPbes2(algorithm)) return;
    const { salt, iterations, prf, cipher } = pbes2Parameters(child(algorithm, 1));
    const costs = pbeCosts(algorithm, what);
    const rounds = costs.reduce((sum, c) => sum + c.iterations * c.blocks, 0);
    if (iterations > AHEAD_MAX_ITERATIONS || work.aheadRounds + rounds > AHEAD_MAX_IN_ALL) return;
    for (const cost of costs) work.take(cost);
    work.keepAhead(algorithm, password, rounds, derivePbkdf2(password, salt, iterations, cipher.keyLength, prf));
  } catch {
    // In its place, when decrypted.
  }
}

/** Raised when decryption produces bad padding: almost always a wrong password. */
export class BadDecryptError extends Error {
  override name = 'BadDecryptError';
}

function decipher(name: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  let d;
  try {
    d = createDecipheriv(name, key, iv);
  } catch (err) {
    // OpenSSL builds without a cipher (3DES is legacy on some) refuse it here.
    throw new UnsupportedAlgorithmError(`${name} (${(err as { code?: string }).code ?? 'refused'})`);
  }
  try {
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    // Bad padding or a length that is not whole blocks: a wrong password, or damaged data.
    throw new BadDecryptError('decryption failed');
  }
}

function decryptRc2(key: Buffer, iv: Buffer, data: Buffer, bits: number): Buffer {
  const plain = rc2CbcDecrypt(key, bits, iv, data);
  if (!plain) throw new BadDecryptError('decryption failed');
  return plain;
}
