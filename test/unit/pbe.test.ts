import { createHash, createPrivateKey, generateKeyPairSync, hash as oneShot } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestRounds } from '../../src/core/keystore/digest-rounds.js';
import { ASSEMBLED } from '../../src/core/keystore/digest-rounds-assembler.js';
import { MODULES } from '../../src/core/keystore/digest-rounds-modules.js';
import { bmpPassword, decryptPbe, deriveAhead, pkcs12Kdf } from '../../src/core/keystore/pbe.js';
import { KdfWork, type KdfCost } from '../../src/core/keystore/work.js';
import { child, parseDer, readOctets } from '../../src/core/encoding/der.js';

/** RFC 7292 B.2 written out plainly, every round through OpenSSL: the oracle for the properties below. */
function referenceKdf(hash: string, password: Buffer, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const u = createHash(hash).digest().length;
  const v = 64;
  const fill = (src: Buffer): Buffer => Buffer.from(Array.from({ length: src.length ? v * Math.ceil(src.length / v) : 0 }, (_, k) => src[k % src.length]!));
  const i = Buffer.concat([fill(salt), fill(password)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let a = createHash(hash).update(Buffer.alloc(v, id)).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash(hash).update(a).digest();
    out.push(a);
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
  return Buffer.concat(out).subarray(0, length);
}

// Expected values computed with OpenSSL 3: `openssl kdf -keylen N -kdfopt digest:D -kdfopt pass:P
// -kdfopt hexsalt:S -kdfopt id:I -kdfopt iter:C PKCS12KDF` (pass: raw bytes, not BMP), and the classic
// BMP-password vector ("smeg") used by OpenSSL's and Bouncy Castle's tests.
describe('pkcs12Kdf (RFC 7292 B.2)', () => {
  const salt = Buffer.from('0A58CF64530D823F', 'hex');
  it('matches OpenSSL for a key (id 1) and an IV (id 2)', async () => {
    expect((await pkcs12Kdf('sha1', Buffer.from('smeg'), salt, 1, 1, 24)).toString('hex')).toBe('cdf5d700bdb714fdc96a189db3acc281be29a33e39facb89');
    expect((await pkcs12Kdf('sha1', Buffer.from('smeg'), salt, 2, 1, 8)).toString('hex')).toBe('f90c6f00ed097684');
  });
  it('matches OpenSSL for a SHA-256 MAC key with 1000 iterations', async () => {
    const key = await pkcs12Kdf('sha256', Buffer.from('changeit'), Buffer.from('0102030405060708', 'hex'), 3, 1000, 32);
    expect(key.toString('hex')).toBe('5460127e94f39b09410332a77cfe4b43622ab11054b2ad30a32338fce1a49906');
  });
  it('matches the published BMP-password vector', async () => {
    expect((await pkcs12Kdf('sha1', bmpPassword('smeg'), salt, 1, 1, 24)).toString('hex')).toBe('8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3');
  });
  it('encodes passwords as UTF-16BE with a terminator', () => {
    expect(bmpPassword('ab').toString('hex')).toBe('006100620000');
    expect(bmpPassword('').toString('hex')).toBe('0000');
  });
});

describe('pkcs12Kdf rounds', () => {
  it('equals createHash applied round by round (SHA-1, SHA-256), pausing between slices when given work', async () => {
    const { createHash } = await import('node:crypto');
    const { KdfWork } = await import('../../src/core/keystore/work.js');
    for (const hash of ['sha1', 'sha256'] as const) {
      // Iterations above one slice (4096), so the pauses run.
      const salt = Buffer.from('0102030405060708', 'hex');
      const pw = bmpPassword('changeit');
      const u = createHash(hash).digest().length;
      const d = Buffer.alloc(64, 3);
      const fill = (src: Buffer): Buffer => Buffer.from(Array.from({ length: 64 * Math.ceil(src.length / 64) }, (_, i) => src[i % src.length]!));
      let expected = createHash(hash)
        .update(d)
        .update(Buffer.concat([fill(salt), fill(pw)]))
        .digest();
      for (let i = 1; i < 5000; i++) expected = createHash(hash).update(expected).digest();
      expect((await pkcs12Kdf(hash, pw, salt, 3, 5000, u, new KdfWork())).toString('hex')).toBe(expected.toString('hex'));
    }
  });
});

describe('the WebAssembly rounds (ADR 0010) against OpenSSL', () => {
  it('are the modules the assembler makes from FIPS 180-4’s steps (npm run wasm writes them)', () => {
    for (const hash of ['sha1', 'sha256'] as const) expect(MODULES[hash], hash).toBe(Buffer.from(ASSEMBLED[hash]()).toString('base64'));
  });

  it('are available for SHA-1 and SHA-256 on this Node, and only for those', () => {
    expect(digestRounds('sha1')).toBeDefined();
    expect(digestRounds('sha256')).toBeDefined();
    expect(digestRounds('sha512')).toBeUndefined();
  });

  it('hash any digest any number of times as crypto.hash does round by round', () => {
    fc.assert(
      fc.property(fc.constantFrom('sha1', 'sha256'), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 600 }), (hash, seed, n) => {
        const a = Buffer.from(seed).subarray(0, hash === 'sha1' ? 20 : 32);
        let expected = a;
        for (let r = 0; r < n; r++) expected = oneShot(hash, expected, 'buffer');
        expect(digestRounds(hash)!(a, n).toString('hex')).toBe(expected.toString('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it('pkcs12Kdf equals the plain RFC 7292 derivation for random passwords, salts, ids, counts and lengths', async () => {
    const { KdfWork } = await import('../../src/core/keystore/work.js');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('sha1', 'sha256'),
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 70 }),
        fc.constantFrom(1 as const, 2 as const, 3 as const),
        // Across the boundaries of a call (256 rounds), of SHA-256's WebAssembly (from 2,048) and of a slice between pauses (4096).
        fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 2040, max: 2060 }), fc.integer({ min: 4090, max: 4400 })),
        fc.integer({ min: 1, max: 70 }),
        async (hash, password, salt, id, iterations, length) => {
          const pw = Buffer.from(password);
          const s = Buffer.from(salt);
          const got = await pkcs12Kdf(hash, pw, s, id, iterations, length, new KdfWork());
          expect(got.toString('hex')).toBe(referenceKdf(hash, pw, s, id, iterations, length).toString('hex'));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("PBES2 keys derived ahead (a PKCS#12 file's bag keys beside its MAC)", () => {
  /** A KdfWork that lists what it accounts. */
  class CountedWork extends KdfWork {
    taken: KdfCost[] = [];
    override take(cost: KdfCost): void {
      this.taken.push(cost);
      super.take(cost);
    }
  }
  // An EncryptedPrivateKeyInfo as OpenSSL writes it: PBES2, PBKDF2-HMAC-SHA256 of 2,048 rounds, AES-256-CBC.
  const encrypted = (): { algorithm: ReturnType<typeof parseDer>; data: Buffer } => {
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { format: 'der', type: 'spki' },
      privateKeyEncoding: { format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right' },
    });
    const info = parseDer(privateKey);
    return { algorithm: child(info, 0), data: readOctets(child(info, 1)) };
  };

  it('are accounted when started, used once, and only for the password they were started with', async () => {
    const { algorithm, data } = encrypted();
    const work = new CountedWork();
    deriveAhead(algorithm, 'right', work, 'the key');
    expect(work.taken.map((c) => c.iterations)).toEqual([2048]);
    const plain = await decryptPbe(algorithm, data, 'right', work, 'the key');
    expect(createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' }).asymmetricKeyType).toBe('ec');
    expect(work.taken).toHaveLength(1); // the key started ahead, not derived and counted again
    await decryptPbe(algorithm, data, 'right', work, 'the key');
    expect(work.taken).toHaveLength(2); // used once: a second decryption derives (and counts) its own

    const other = new CountedWork();
    deriveAhead(algorithm, 'wrong', other, 'the key');
    await expect(decryptPbe(algorithm, data, 'right', other, 'the key')).resolves.toEqual(plain);
    expect(other.taken).toHaveLength(2); // started with another password: not used
  });

  it('started with another password are given back to the limits, so a file at its limit still opens', async () => {
    const { algorithm, data } = encrypted();
    const { LIMITS } = await import('../../src/core/limits.js');
    const work = new KdfWork();
    // Everything else the file declares, up to the limit but for this key's 2,048 rounds.
    for (let left = LIMITS.kdfWork - 2048; left > 0; left -= LIMITS.kdfIterations) work.take({ iterations: Math.min(left, LIMITS.kdfIterations), blocks: 1, what: 'the rest' });
    deriveAhead(algorithm, 'store password', work, 'the key');
    // The key has a password of its own: derived (and counted) again, the one started ahead given back.
    await expect(decryptPbe(algorithm, data, 'right', work, 'the key')).resolves.toBeInstanceOf(Buffer);
  });

  it('stop at 60,000 rounds in all for one file (what runs on after a wrong password or a signal)', () => {
    const work = new CountedWork();
    for (let i = 0; i < 40; i++) deriveAhead(encrypted().algorithm, 'pw', work, `key ${i}`);
    expect(work.taken).toHaveLength(Math.floor(60_000 / 2048));
  });

  it('are not started for counts a signal could not interrupt in time, nor for what fails in its place', () => {
    const { algorithm } = encrypted();
    // The same parameters with 30,000 rounds (INTEGER 2048 is 02 02 08 00; 30,000 is 02 02 75 30).
    const bytes = Buffer.from(algorithm.bytes);
    const at = bytes.indexOf(Buffer.from([2, 2, 8, 0]));
    expect(at).toBeGreaterThan(0);
    bytes.set([0x75, 0x30], at + 2);
    const work = new CountedWork();
    deriveAhead(parseDer(bytes), 'right', work, 'the key');
    expect(work.taken).toEqual([]);
    deriveAhead(parseDer(Buffer.from([0x30, 0x03, 0x06, 0x01, 0x2a])), 'right', work, 'the key'); // not PBES2
    expect(work.taken).toEqual([]);
  });
});

describe('rc2CbcDecrypt', () => {
  it('matches node-forge’s RC2 (an independent implementation) on random keys and data', async () => {
    const { randomBytes } = await import('node:crypto');
    const { rc2CbcDecrypt } = await import('../../src/core/keystore/rc2.js');
    const { default: rc2 } = await import('node-forge/lib/rc2.js');
    const { default: util } = await import('node-forge/lib/util.js');
    for (const [keyLength, bits] of [
      [5, 40],
      [16, 128],
      [8, 64],
    ] as const) {
      for (let n = 0; n < 20; n++) {
        const key = randomBytes(keyLength);
        const iv = randomBytes(8);
        const plain = randomBytes(1 + n * 7);
        const enc = rc2.createEncryptionCipher(util.createBuffer(key.toString('binary')), bits);
        enc.start(util.createBuffer(iv.toString('binary')));
        enc.update(util.createBuffer(plain.toString('binary')));
        enc.finish();
        const cipher = Buffer.from(enc.output.getBytes(), 'binary');
        expect(rc2CbcDecrypt(key, bits, iv, cipher)?.toString('hex')).toBe(plain.toString('hex'));
      }
    }
  });

  it('refuses input that is not whole blocks, and does not return the plaintext for a wrong key', async () => {
    const { rc2CbcDecrypt } = await import('../../src/core/keystore/rc2.js');
    const { default: rc2 } = await import('node-forge/lib/rc2.js');
    const { default: util } = await import('node-forge/lib/util.js');
    expect(rc2CbcDecrypt(Buffer.alloc(5, 1), 40, Buffer.alloc(8), Buffer.alloc(7))).toBeUndefined();
    const enc = rc2.createEncryptionCipher(util.createBuffer('\x01\x02\x03\x04\x05'), 40);
    enc.start(util.createBuffer('\0'.repeat(8)));
    enc.update(util.createBuffer('device certificate bag'));
    enc.finish();
    const cipher = Buffer.from(enc.output.getBytes(), 'binary');
    expect(rc2CbcDecrypt(Buffer.from([1, 2, 3, 4, 6]), 40, Buffer.alloc(8), cipher)?.toString()).not.toBe('device certificate bag');
  });
});
