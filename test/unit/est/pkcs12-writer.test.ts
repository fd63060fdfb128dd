/** The PKCS#12 written for a renewed keystore identity: read back by our reader, OpenSSL 3 and keytool. */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writePkcs12 } from '../../../src/core/est/pkcs12-writer.js';
import { openKeystore } from '../../../src/core/keystore/open.js';
import { keyMatchesCertificate } from '../../../src/core/x509/path.js';
import { tempDir } from '../../helpers/cli.js';
import { pki } from '../../helpers/paths.js';
import { hasKeytool, KEYTOOL_QUICK } from '../../helpers/keytool.js';

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).error === undefined;
const hasOpenssl = has('openssl', ['version']);
if (!hasOpenssl) console.warn('openssl is not installed: the OpenSSL check of the PKCS#12 writer is skipped');
if (!hasKeytool) console.warn('keytool (Java) is not installed: the keytool check of the PKCS#12 writer is skipped');

const cases = [
  ['EC P-256 with its CA', 'device-est.key', ['device-est.crt', 'est-ca.crt']],
  ['RSA with its intermediate', 'device-rsa.key', ['device-rsa.crt', 'device-intermediate-ca.crt']],
] as const;

describe('writePkcs12', () => {
  for (const [name, keyFile, certFiles] of cases) {
    const key = createPrivateKey(readFileSync(pki(keyFile)));
    const chain = certFiles.map((f) => new X509Certificate(readFileSync(pki(f))));
    const file = join(tempDir(), 'renewed.p12');
    beforeAll(async () => {
      writeFileSync(file, await writePkcs12({ key, chain, password: 'changeit', alias: 'my-device' }));
    });

    it(`${name}: our reader finds the entry, its chain and its key`, async () => {
      const store = await openKeystore(file, { password: 'changeit', role: 'keystore', warn: () => undefined });
      expect(store.format).toBe('pkcs12');
      expect(store.keyEntries.map((e) => e.alias)).toEqual(['my-device']);
      const entry = store.keyEntries[0]!;
      expect(entry.chain.map((c) => c.fingerprint256)).toEqual(chain.map((c) => c.fingerprint256));
      expect(keyMatchesCertificate(await entry.decryptKey('changeit'), chain[0]!)).toBe(true);
    });

    it.skipIf(!hasOpenssl)(`${name}: OpenSSL 3 verifies the MAC and reads PBES2/AES-256 (skipped without openssl)`, () => {
      const run = spawnSync('openssl', ['pkcs12', '-in', file, '-info', '-nodes', '-passin', 'pass:changeit'], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      expect(run.stderr).toMatch(/MAC: sha256/);
      expect(run.stderr).toMatch(/PBES2, PBKDF2, AES-256-CBC/);
      expect(run.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
      expect(run.stdout).toMatch(/BEGIN PRIVATE KEY/);
      const wrong = spawnSync('openssl', ['pkcs12', '-in', file, '-noout', '-passin', 'pass:wrong'], { encoding: 'utf8' });
      expect(wrong.status).not.toBe(0);
    });

    it.skipIf(!hasKeytool)(`${name}: keytool lists a private key entry with the chain (skipped without keytool)`, () => {
      const run = spawnSync('keytool', [...KEYTOOL_QUICK, '-list', '-v', '-keystore', file, '-storetype', 'PKCS12', '-storepass', 'changeit'], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/Alias name: my-device/);
      expect(run.stdout).toMatch(/Entry type: PrivateKeyEntry/);
      expect(run.stdout).toMatch(/Certificate chain length: 2/);
    });
  }
});
