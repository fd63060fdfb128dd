import { describe, expect, it } from 'vitest';
import { bmpPassword, pkcs12Kdf } from '../../src/core/keystore/pbe.js';

// Expected values computed with OpenSSL 3: `openssl kdf -keylen N -kdfopt digest:D -kdfopt pass:P
// -kdfopt hexsalt:S -kdfopt id:I -kdfopt iter:C PKCS12KDF` (pass: raw bytes, not BMP), and the classic
// BMP-password vector ("smeg") used by OpenSSL's and Bouncy Castle's tests.
describe('pkcs12Kdf (RFC 7292 B.2)', () => {
  const salt = Buffer.from('0A58CF64530D823F', 'hex');
  it('matches OpenSSL for a key (id 1) and an IV (id 2)', () => {
    expect(pkcs12Kdf('sha1', Buffer.from('smeg'), salt, 1, 1, 24).toString('hex')).toBe('cdf5d700bdb714fdc96a189db3acc281be29a33e39facb89');
    expect(pkcs12Kdf('sha1', Buffer.from('smeg'), salt, 2, 1, 8).toString('hex')).toBe('f90c6f00ed097684');
  });
  it('matches OpenSSL for a SHA-256 MAC key with 1000 iterations', () => {
    const key = pkcs12Kdf('sha256', Buffer.from('changeit'), Buffer.from('0102030405060708', 'hex'), 3, 1000, 32);
    expect(key.toString('hex')).toBe('5460127e94f39b09410332a77cfe4b43622ab11054b2ad30a32338fce1a49906');
  });
  it('matches the published BMP-password vector', () => {
    expect(pkcs12Kdf('sha1', bmpPassword('smeg'), salt, 1, 1, 24).toString('hex')).toBe('8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3');
  });
  it('encodes passwords as UTF-16BE with a terminator', () => {
    expect(bmpPassword('ab').toString('hex')).toBe('006100620000');
    expect(bmpPassword('').toString('hex')).toBe('0000');
  });
});

describe('single-block hash iteration', () => {
  it('equals createHash applied round by round, for SHA-1 and SHA-256', async () => {
    const { createHash } = await import('node:crypto');
    const { iterateSha1, iterateSha256 } = await import('../../src/core/keystore/hash-iterate.js');
    for (const [hash, iterate] of [['sha1', iterateSha1], ['sha256', iterateSha256]] as const) {
      const start = createHash(hash).update('seed').digest();
      let expected = start;
      for (let i = 0; i < 1000; i++) expected = createHash(hash).update(expected).digest();
      expect(iterate(start, 1000).toString('hex')).toBe(expected.toString('hex'));
      expect(iterate(start, 1).toString('hex')).toBe(createHash(hash).update(start).digest('hex'));
      expect(iterate(start, 0).equals(start)).toBe(true);
    }
  });
});

describe('rc2CbcDecrypt', () => {
  it('matches node-forge’s RC2 (an independent implementation) on random keys and data', async () => {
    const { randomBytes } = await import('node:crypto');
    const { rc2CbcDecrypt } = await import('../../src/core/keystore/rc2.js');
    const { default: rc2 } = await import('node-forge/lib/rc2.js');
    const { default: util } = await import('node-forge/lib/util.js');
    for (const [keyLength, bits] of [[5, 40], [16, 128], [8, 64]] as const) {
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
