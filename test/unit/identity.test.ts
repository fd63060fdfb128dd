import { X509Certificate, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyPem, loadIdentity } from '../../src/core/credentials/identity.js';
import { loadTrust } from '../../src/core/credentials/truststore.js';
import { certificatePem } from '../../src/core/x509/read.js';
import { PasswordBook } from '../../src/core/credentials/passwords.js';
import type { PasswordSources } from '../../src/core/credentials/passwords.js';
import { codeOf } from '../helpers/errors.js';
import { hasCommand } from '../helpers/softhsm.js';

const io = { warn: () => undefined };
import { pki } from '../helpers/paths.js';

function book(env: { key?: string; keystore?: string } = {}, prompt?: (q: string) => Promise<string>): PasswordBook {
  const src = (role: 'key' | 'keystore' | 'truststore', envName: string, value?: string): PasswordSources => ({ role, envName, ...(value !== undefined ? { envValue: value } : {}) });
  return new PasswordBook(
    {
      key: src('key', 'C8YTOKEN_KEY_PASSWORD', env.key),
      keystore: src('keystore', 'C8YTOKEN_KEYSTORE_PASSWORD', env.keystore),
      truststore: src('truststore', 'C8YTOKEN_TRUSTSTORE_PASSWORD'),
    },
    prompt,
    () => undefined,
  );
}

describe('loadIdentity from PEM', () => {
  const keyForms = [
    ['PKCS#8', 'device-rsa.key', 'device-rsa.chain.pem', 'rsa', undefined],
    ['PKCS#1', 'device-rsa.pkcs1.key', 'device-rsa.chain.pem', 'rsa', undefined],
    ['encrypted PKCS#8', 'device-rsa.enc-pkcs8.key', 'device-rsa.chain.pem', 'rsa', 'keysecret'],
    ['traditional encrypted PEM (RSA)', 'device-rsa.enc-traditional.key', 'device-rsa.chain.pem', 'rsa', 'keysecret'],
    ['SEC1 (EC P-256)', 'device-ec256.sec1.key', 'device-ec256.chain.pem', 'ec', undefined],
    ['encrypted PKCS#8 (EC P-256)', 'device-ec256.enc-pkcs8.key', 'device-ec256.chain.pem', 'ec', 'keysecret'],
    ['traditional encrypted PEM (EC P-384)', 'device-ec384.enc-traditional.key', 'device-ec384.chain.pem', 'ec', 'keysecret'],
  ] as const;
  for (const [name, key, cert, type, password] of keyForms) {
    it(`reads a ${name} key with its chain`, async () => {
      const id = await loadIdentity({ cert: pki(cert), key: pki(key) }, book(password ? { key: password } : {}), io);
      expect(id.key.asymmetricKeyType).toBe(type);
      expect(id.chain).toHaveLength(2);
      expect(id.chain[1]!.subject).toContain('Intermediate');
    });
  }

  it('orders a chain whose file lists the intermediate first', async () => {
    const { readFileSync, writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const reversed = join(mkdtempSync(join(tmpdir(), 'id-')), 'reversed.pem');
    writeFileSync(reversed, readFileSync(pki('device-intermediate-ca.crt'), 'utf8') + readFileSync(pki('device-rsa.crt'), 'utf8'));
    const id = await loadIdentity({ cert: reversed, key: pki('device-rsa.key') }, book(), io);
    expect(id.chain[0]!.subject).toContain('rsa-device-001');
  });

  it('says what is wrong with each bad input', async () => {
    expect(await codeOf(loadIdentity({ cert: pki('device-rsa.crt'), key: pki('mismatch.key') }, book(), io))).toBe('KEY_MISMATCH');
    expect(await codeOf(loadIdentity({ cert: pki('device-rsa.crt'), key: pki('device-rsa.enc-pkcs8.key') }, book({ key: 'wrong' }), io))).toBe('WRONG_PASSWORD');
    // "changeit" decrypts this key to padding that looks valid: OpenSSL then says "unsupported", still a wrong password.
    expect(await codeOf(loadIdentity({ cert: pki('device-rsa.crt'), key: pki('device-rsa.enc-pkcs8.key') }, book({ key: 'changeit' }), io))).toBe('WRONG_PASSWORD');
    expect(await codeOf(loadIdentity({ cert: pki('device-rsa.crt'), key: pki('device-rsa.enc-traditional.key') }, book({ key: 'wrong' }), io))).toBe('WRONG_PASSWORD');
    expect(await codeOf(loadIdentity({ cert: pki('device-rsa.crt'), key: pki('device-rsa.enc-pkcs8.key') }, book(), io))).toBe('PASSWORD_REQUIRED');
    expect(await codeOf(loadIdentity({ cert: pki('device-rsa.key'), key: pki('device-rsa.key') }, book(), io))).toBe('NOT_A_CERTIFICATE');
    expect(await codeOf(loadIdentity({ cert: pki('device-rsa.crt'), key: pki('device-rsa.crt') }, book(), io))).toBe('NOT_A_KEY');
    expect(await codeOf(loadIdentity({ cert: pki('missing.crt'), key: pki('device-rsa.key') }, book(), io))).toBe('FILE_NOT_FOUND');
    expect(await codeOf(loadIdentity({ cert: pki('device-rsa.crt') }, book(), io))).toBe('NO_CREDENTIALS');
    expect(await codeOf(loadIdentity({}, book(), io))).toBe('NO_CREDENTIALS');
  });

  it('asks for the key password only when the key is encrypted, once', async () => {
    const asked: string[] = [];
    const prompt = async (q: string): Promise<string> => (asked.push(q), 'keysecret');
    await loadIdentity({ cert: pki('device-rsa.crt'), key: pki('device-rsa.key') }, book({}, prompt), io);
    expect(asked).toEqual([]);
    await loadIdentity({ cert: pki('device-rsa.crt'), key: pki('device-rsa.enc-pkcs8.key') }, book({}, prompt), io);
    expect(asked).toEqual([`Enter the key password for ${pki('device-rsa.enc-pkcs8.key')}: `]);
  });
});

describe('loadIdentity from a keystore', () => {
  it('uses the store password as key password unless one is given', async () => {
    const id = await loadIdentity({ keystore: { path: pki('device-ec256.jks') } }, book({ keystore: 'changeit' }), io);
    expect(id.key.asymmetricKeyType).toBe('ec');
    expect(id.source).toContain('entry "device"');
    expect(await codeOf(loadIdentity({ keystore: { path: pki('device-rsa.keypass.jks') } }, book({ keystore: 'changeit' }), io))).toBe('WRONG_PASSWORD');
    const withKeyPassword = await loadIdentity({ keystore: { path: pki('device-rsa.keypass.jks') } }, book({ keystore: 'changeit', key: 'keysecret' }), io);
    expect(withKeyPassword.key.asymmetricKeyType).toBe('rsa');
  });

  it('needs the store password, and says how to give it', async () => {
    expect(await codeOf(loadIdentity({ keystore: { path: pki('device-rsa.p12') } }, book(), io))).toBe('PASSWORD_REQUIRED');
  });
});

describe('the PEM handed to the TLS context (keyPem, certificatePem)', () => {
  const blocks = (file: string): string[] => readFileSync(file, 'latin1').match(/-----BEGIN ([A-Z ]+)-----\n[\s\S]*?\n-----END \1-----/g) ?? [];

  it('is the key and certificate blocks as read from unencrypted PEM files, in every key form', async () => {
    for (const [key, cert] of [
      ['device-rsa.key', 'device-rsa.chain.pem'],
      ['device-rsa.pkcs1.key', 'device-rsa.chain.pem'],
      ['device-ec256.sec1.key', 'device-ec256.chain.pem'],
    ] as const) {
      const id = await loadIdentity({ cert: pki(cert), key: pki(key) }, book(), io);
      expect(keyPem(id.key as KeyObject), key).toBe(blocks(pki(key)).find((b) => b.includes('PRIVATE KEY')));
      expect(id.chain.map(certificatePem), cert).toEqual(blocks(pki(cert)));
    }
  });

  it('is the truststore blocks as read from a PEM truststore, and the certificate encoded again from DER or JKS', async () => {
    const pem = await loadTrust(pki('truststore.pem'), book(), io);
    expect(pem.cas!.map(certificatePem)).toEqual(blocks(pki('truststore.pem')));
    const der = join(mkdtempSync(join(tmpdir(), 'id-')), 'ca.der');
    writeFileSync(der, pem.cas![0]!.raw);
    for (const other of [await loadTrust(der, book(), io), await loadTrust(pki('truststore.jks'), book(), io)]) {
      expect(other.cas!.map(certificatePem)).toEqual(other.cas!.map((c) => c.toString()));
    }
  });

  // OpenSSL reads trust settings after a certificate (what `openssl x509 -trustout` writes) also under a
  // plain CERTIFICATE label; handed to the TLS context as read, a "reject serverAuth" there refused the
  // platform's certificate although every check here had passed it.
  it.skipIf(!hasCommand('openssl'))(`is the certificate alone, encoded again, when its block carries trust settings${hasCommand('openssl') ? '' : ' (skipped: no openssl)'}`, async () => {
    const out = spawnSync('openssl', ['x509', '-in', pki('server-ca.crt'), '-addreject', 'serverAuth', '-trustout'], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const relabeled = join(mkdtempSync(join(tmpdir(), 'id-')), 'trust.pem');
    writeFileSync(relabeled, out.stdout.replaceAll('TRUSTED CERTIFICATE', 'CERTIFICATE'));
    const trust = await loadTrust(relabeled, book(), io);
    const [ca] = trust.cas!;
    expect(ca!.raw.equals(new X509Certificate(readFileSync(pki('server-ca.crt'))).raw)).toBe(true);
    expect(certificatePem(ca!)).toBe(ca!.toString());
    expect(certificatePem(ca!)).not.toBe(blocks(relabeled)[0]);
  });

  it('is the key exported as PKCS#8 when it was encrypted or came from a keystore (never the encrypted text)', async () => {
    const encrypted = await loadIdentity({ cert: pki('device-rsa.chain.pem'), key: pki('device-rsa.enc-pkcs8.key') }, book({ key: 'keysecret' }), io);
    const stored = await loadIdentity({ keystore: { path: pki('device-rsa.p12') } }, book({ keystore: 'changeit' }), io);
    for (const id of [encrypted, stored]) {
      const key = id.key as KeyObject;
      expect(keyPem(key)).toBe(key.export({ type: 'pkcs8', format: 'pem' }));
      expect(keyPem(key)).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
    expect(stored.chain.map(certificatePem)).toEqual(stored.chain.map((c) => c.toString()));
  });
});
