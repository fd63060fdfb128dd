import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectKeystoreKind, openKeystore, selectKeyEntry } from '../../src/core/keystore/open.js';
import { keyMatchesCertificate } from '../../src/core/x509/path.js';
import { caught, codeOf } from '../helpers/errors.js';
import { pki } from '../helpers/paths.js';
import { runMain } from '../helpers/main.js';
import * as hostile from '../../fixtures/hostile.mjs';

const STORE = 'changeit';

// Every kind of keystore a device may carry, each with RSA, EC P-256 and EC P-384 keys.
const KINDS = [
  ['OpenSSL 3 PKCS#12 (PBES2/AES-256, HMAC-SHA256)', '.p12', 'pkcs12'],
  ['OpenSSL -legacy PKCS#12 (RC2-40/3DES, SHA-1 MAC)', '.legacy.p12', 'pkcs12'],
  ['Java keytool PKCS#12', '.keytool.p12', 'pkcs12'],
  ['Java keytool JKS', '.jks', 'jks'],
] as const;
const DEVICES = [
  ['device-rsa', 'rsa', 'rsa-device-001'],
  ['device-ec256', 'ec', 'ec-device-256'],
  ['device-ec384', 'ec', 'ec-device-384'],
] as const;

// Warnings go to one channel; each test reads what its calls said.
const warnings: string[] = [];
const warn = (m: string): void => void warnings.push(m);

describe('openKeystore', () => {
  for (const [kindName, suffix, format] of KINDS) {
    for (const [device, keyType, cn] of DEVICES) {
      it(`reads ${device} from ${kindName}`, async () => {
        const store = await openKeystore(pki(`${device}${suffix}`), { password: STORE, role: 'keystore', warn });
        expect(store.format).toBe(format);
        const entry = selectKeyEntry(store, undefined);
        const key = await entry.decryptKey(STORE);
        expect(key.asymmetricKeyType).toBe(keyType);
        expect(entry.chain).toHaveLength(2);
        expect(entry.chain[0]!.subject).toContain(`CN=${cn}`);
        expect(entry.chain[1]!.subject).toContain('CN=c8ytoken Device Intermediate CA');
        expect(keyMatchesCertificate(key, entry.chain[0]!)).toBe(true);
      });
    }
  }

  it('detects PKCS#12 content in a file named .jks', async () => {
    expect(detectKeystoreKind(readFileSync(pki('device-rsa.pkcs12-named.jks')))).toBe('pkcs12');
    const store = await openKeystore(pki('device-rsa.pkcs12-named.jks'), { type: 'jks', password: STORE, role: 'keystore', warn });
    expect(store.format).toBe('pkcs12');
    expect(warnings.join()).toMatch(/declared as jks but holds pkcs12/);
  });

  it('tells a wrong store password from a damaged file', async () => {
    expect(await codeOf(openKeystore(pki('device-rsa.p12'), { password: 'wrong', role: 'keystore', warn }))).toBe('WRONG_PASSWORD');
    expect(await codeOf(openKeystore(pki('device-rsa.legacy.p12'), { password: 'wrong', role: 'keystore', warn }))).toBe('WRONG_PASSWORD');
    expect(await codeOf(openKeystore(pki('device-rsa.jks'), { password: 'wrong', role: 'keystore', warn }))).toBe('WRONG_PASSWORD');
    expect(await codeOf(openKeystore(pki('device-rsa.crt'), { password: STORE, role: 'keystore', warn }))).toBe('KEYSTORE_CORRUPT');
    expect(await codeOf(openKeystore(pki('does-not-exist.p12'), { password: STORE, role: 'keystore', warn }))).toBe('FILE_NOT_FOUND');
  });

  it('reports a truncated keystore as damaged, not as a crash', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ks-'));
    for (const name of ['device-rsa.p12', 'device-rsa.jks']) {
      const data = readFileSync(pki(name));
      const cut = join(dir, name);
      writeFileSync(cut, data.subarray(0, Math.floor(data.length / 2)));
      expect(await codeOf(openKeystore(cut, { password: STORE, role: 'keystore', warn }))).toMatch(/KEYSTORE_CORRUPT|WRONG_PASSWORD/);
    }
  });

  it('uses a separate key password when the entry has one', async () => {
    const store = await openKeystore(pki('device-rsa.keypass.jks'), { password: STORE, role: 'keystore', warn });
    const entry = selectKeyEntry(store, undefined);
    expect(await codeOf(entry.decryptKey(STORE))).toBe('WRONG_PASSWORD');
    expect((await entry.decryptKey('keysecret')).asymmetricKeyType).toBe('rsa');
  });

  it('chooses an entry by alias, case-insensitively, and says which exist otherwise', async () => {
    const store = await openKeystore(pki('two-devices.jks'), { password: STORE, role: 'keystore', warn });
    expect(await codeOf(() => selectKeyEntry(store, undefined))).toBe('KEYSTORE_ALIAS_AMBIGUOUS');
    expect(selectKeyEntry(store, 'EC').alias).toBe('ec');
    const err = await caught(() => selectKeyEntry(store, 'nope'), 'KEYSTORE_ALIAS_NOT_FOUND');
    expect(err.facts.aliases).toContain('rsa');
  });

  it('reports a keystore without a key entry', async () => {
    const store = await openKeystore(pki('certs-only.p12'), { password: STORE, role: 'keystore', warn });
    expect(await codeOf(() => selectKeyEntry(store, undefined))).toBe('KEYSTORE_NO_KEY');
    expect(store.trusted.length).toBe(2);
    const jksTrust = await openKeystore(pki('truststore.jks'), { password: STORE, role: 'truststore', warn });
    expect(jksTrust.trusted.map((t) => t.alias)).toEqual(['server-ca']);
  });

  it('opens a JKS truststore without a password, with a warning', async () => {
    const store = await openKeystore(pki('truststore.jks'), { password: null, role: 'truststore', warn });
    expect(store.trusted).toHaveLength(1);
    expect(warnings.join()).toMatch(/integrity was not checked/);
  });

  it('reads a PKCS#12 without a MAC, with a warning as OpenSSL gives ("no MAC: integrity not verified"), in the API and on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nomac-'));
    const path = join(dir, 'nomac.p12');
    // device-rsa.legacy.p12 without its MAC, the counts unchanged.
    writeFileSync(path, hostile.p12WithoutMacPbeIterations(2048));
    const said: string[] = [];
    const store = await openKeystore(path, { password: STORE, role: 'keystore', warn: (m) => void said.push(m) });
    expect(await selectKeyEntry(store, undefined).decryptKey(STORE)).toBeDefined();
    expect(said).toEqual([expect.stringMatching(/nomac\.p12: this PKCS#12 file has no integrity check \(MAC\)/)]);
    const run = await runMain(['verify-chain', '--keystore', path], { env: { C8YTOKEN_KEYSTORE_PASSWORD: STORE } });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/warning.*no integrity check \(MAC\)/i);
    // A file with its MAC says nothing of the kind.
    const withMac = await runMain(['verify-chain', '--keystore', pki('device-rsa.legacy.p12')], { env: { C8YTOKEN_KEYSTORE_PASSWORD: STORE } });
    expect(withMac.stderr).not.toMatch(/integrity/);
  });
});
