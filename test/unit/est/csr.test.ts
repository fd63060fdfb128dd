/** The PKCS#10 request: verified by OpenSSL when it is installed, and by our own reader (the emulator's) always. */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCsr, csrPem, generateDeviceKey, keySpecLike, privateKeyPem, signatureAlgorithm, type KeySpec } from '../../../src/core/est/csr.js';
import { commonNameOf, deviceIdOf } from '../../../src/core/est/names.js';
import { readCsr } from '../../emulator/est.js';
import { tempDir } from '../../helpers/cli.js';
import { pki } from '../../helpers/paths.js';
import { caught, codeOf, wordsOf } from '../../helpers/errors.js';

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const hasOpenssl = openssl.status === 0;
if (!hasOpenssl) console.warn('openssl is not installed: the `openssl req -verify` checks of the CSR tests are skipped');

function opensslVerify(der: Buffer): string {
  const file = join(tempDir(), 'req.pem');
  writeFileSync(file, csrPem(der));
  const run = spawnSync('openssl', ['req', '-verify', '-noout', '-subject', '-text', '-in', file], { encoding: 'utf8' });
  expect(run.stderr + run.stdout).toMatch(/verify OK|Certificate request self-signature verify OK/);
  expect(run.status).toBe(0);
  return run.stdout;
}

describe('buildCsr', () => {
  const specs: [string, KeySpec, RegExp][] = [
    ['EC P-256', { type: 'ec', curve: 'P-256' }, /ecdsa-with-SHA256/],
    ['EC P-384', { type: 'ec', curve: 'P-384' }, /ecdsa-with-SHA384/],
    ['RSA 2048', { type: 'rsa', bits: 2048 }, /sha256WithRSAEncryption/],
  ];
  for (const [name, spec, algorithm] of specs) {
    it(`${name}: a request OpenSSL verifies, CN only, no extension request`, async () => {
      const { key, pem } = await generateDeviceKey(spec);
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      const der = buildCsr(key, commonNameOf('device-ü-001', 'the test CN'));
      const read = await readCsr(der);
      expect(read).toMatchObject({ cn: 'device-ü-001', wantsCa: false });
      if (!hasOpenssl) return;
      const text = opensslVerify(der);
      expect(text).toMatch(/subject=CN ?= ?device-(ü|\\C3\\BC)-001/);
      expect(text).toMatch(algorithm);
      // OpenSSL 3 prints an empty "Requested Extensions:" heading even when there are none.
      expect(text).not.toMatch(/X509v3|CA:TRUE/);
    });
  }

  it('works with the fixture keys as read from their files (PKCS#1, SEC1, PKCS#8)', async () => {
    for (const file of ['device-rsa.pkcs1.key', 'device-ec256.sec1.key', 'device-ec384.key']) {
      const der = buildCsr(createPrivateKey(readFileSync(pki(file))), commonNameOf('x', 'the test CN'));
      expect(await readCsr(der)).toMatchObject({ cn: 'x' });
      if (hasOpenssl) opensslVerify(der);
    }
  });

  it('refuses keys the platform cannot use: RSA under 2048 bits, Ed25519, other curves', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(await codeOf(() => buildCsr(small, commonNameOf('x', 'the test CN')))).toBe('KEY_UNSUPPORTED');
    expect(await codeOf(() => buildCsr(generateKeyPairSync('ed25519').privateKey, commonNameOf('x', 'the test CN')))).toBe('KEY_UNSUPPORTED');
    expect(await codeOf(() => buildCsr(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, commonNameOf('x', 'the test CN')))).toBe('KEY_UNSUPPORTED');
  });

  it('refuses a CN that is empty, too long, or has control characters or surrounding blanks where it enters', async () => {
    for (const cn of ['', 'x'.repeat(65), 'a\nb', ' a']) {
      expect(await codeOf(() => commonNameOf(cn, 'The common name'))).toBe('USAGE');
      expect(await codeOf(() => deviceIdOf(cn))).toBe('USAGE');
    }
    // A CN may hold ":"; a device id, the user name of HTTP Basic, may not.
    expect(commonNameOf('a:b', 'The common name')).toBe('a:b');
    expect(wordsOf(await caught(() => deviceIdOf('a:b'))).message).toContain('--device-id');
  });
});

describe('keys', () => {
  it("a new key is of the current key's type: same curve, RSA at least 2048 bits; P-256 by default", () => {
    expect(keySpecLike(createPrivateKey(readFileSync(pki('device-ec384.key'))))).toEqual({ type: 'ec', curve: 'P-384' });
    expect(keySpecLike(createPrivateKey(readFileSync(pki('device-rsa.key'))))).toEqual({ type: 'rsa', bits: 2048 });
    expect(keySpecLike(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)).toEqual({ type: 'rsa', bits: 2048 });
    expect(keySpecLike(generateKeyPairSync('ed25519').privateKey)).toEqual({ type: 'ec', curve: 'P-256' });
  });

  it('privateKeyPem encrypts with a passphrase (PBES2), readable back with it only', async () => {
    const { key } = await generateDeviceKey();
    const pem = privateKeyPem(key, 'changeit');
    expect(pem).toMatch(/BEGIN ENCRYPTED PRIVATE KEY/);
    expect(createPrivateKey({ key: pem, passphrase: 'changeit' }).asymmetricKeyType).toBe('ec');
    expect(() => createPrivateKey({ key: pem, passphrase: 'wrong' })).toThrow();
  });

  it('names the signature algorithm per key', async () => {
    expect(signatureAlgorithm((await generateDeviceKey({ type: 'ec', curve: 'P-384' })).key).label).toBe('ECDSA P-384 with SHA-384');
  });
});
