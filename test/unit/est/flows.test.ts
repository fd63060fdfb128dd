/** renewCertificate and enrollDevice end to end against the local endpoint, in process. */
import { createPrivateKey } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../src/core/credentials/identity.js';
import { estBaseUrl } from '../../../src/core/est/client.js';
import { enrollDevice, renewCertificate } from '../../../src/core/est/flows.js';
import { Emulator } from '../../../src/emulator/server.js';
import { tempDir } from '../../helpers/cli.js';
import { caught } from '../../helpers/errors.js';
import { noPasswords, passwordsOf, serverCa, tokenFor } from '../../helpers/est.js';
import { pki } from '../../helpers/paths.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator({ est: true }).start();
});
afterAll(async () => {
  await emulator.stop();
});

const connection = () => ({ estBase: estBaseUrl(new URL(emulator.url)), trustCas: serverCa, timeoutMs: 5000 });
const quiet = { warn: () => undefined };
const prove = (c: string, k: string) => tokenFor(emulator, c, k).then(() => undefined);

function copy(...names: string[]): string[] {
  const dir = tempDir('c8ytoken-flow-');
  return names.map((n) => {
    const to = join(dir, n);
    copyFileSync(pki(n), to);
    return to;
  });
}

describe('renewCertificate', () => {
  it('PEM files, same key: renewed in place, proven, steps reported', async () => {
    const [certPath, keyPath] = copy('device-est.chain.pem', 'device-est.key');
    const identity = await loadIdentity({ cert: certPath!, key: keyPath! }, noPasswords(), quiet);
    const steps: string[] = [];
    const result = await renewCertificate({
      ...connection(),
      identity,
      files: { kind: 'pem', certPath: certPath!, keyPath },
      token: await tokenFor(emulator, certPath!, keyPath!),
      prove,
      progress: (m) => steps.push(m),
    });
    expect(result).toMatchObject({ commonName: 'est-device-001', keyReplaced: false, issuerChanged: false, certPath, keyPath });
    expect(result.notAfter.getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    expect(steps.join('\n')).toMatch(/POST https:\/\/localhost:\d+\/.well-known\/est\/simplereenroll for CN=est-device-001[\s\S]*proving/);
    expect(await tokenFor(emulator, certPath!, keyPath!)).toMatch(/^eyJ/);
  });

  it('--new-key with an encrypted key file: the new EC P-256 key is written encrypted with the same password', async () => {
    const [certPath, keyPath] = copy('device-ec256.chain.pem', 'device-ec256.enc-pkcs8.key');
    const passwords = passwordsOf({ key: 'keysecret' });
    const identity = await loadIdentity({ cert: certPath!, key: keyPath! }, passwords, quiet);
    emulator.est!.answerChain = true;
    try {
      const result = await renewCertificate({
        ...connection(),
        identity,
        files: { kind: 'pem', certPath: certPath!, keyPath },
        token: await tokenFor(emulator, pki('device-ec256.chain.pem'), pki('device-ec256.key')),
        newKey: true,
        newKeyPassphrase: 'keysecret',
        // The proof reads the encrypted key with its password.
        prove: async (c, k) => {
          const key = createPrivateKey({ key: readFileSync(k), passphrase: 'keysecret' });
          expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
          const plain = join(tempDir(), 'plain.key');
          writeFileSync(plain, key.export({ type: 'pkcs8', format: 'pem' }));
          await prove(c, plain);
        },
      });
      expect(result).toMatchObject({ keyReplaced: true, newKeySpec: { type: 'ec', curve: 'P-256' }, issuerChanged: true });
      expect(readFileSync(keyPath!, 'utf8')).toMatch(/BEGIN ENCRYPTED PRIVATE KEY/);
      if (process.platform !== 'win32') expect(statSync(keyPath!).mode & 0o777).toBe(0o600);
    } finally {
      emulator.est!.answerChain = false;
    }
  });

  it('a keystore: PEM files beside it, the keystore untouched', async () => {
    const [p12] = copy('device-est.p12');
    const passwords = passwordsOf({ keystore: 'changeit' });
    const identity = await loadIdentity({ keystore: { path: p12! } }, passwords, quiet);
    const before = readFileSync(p12!);
    const result = await renewCertificate({
      ...connection(),
      identity,
      files: { kind: 'keystore', path: p12! },
      token: await tokenFor(emulator, pki('device-est.chain.pem'), pki('device-est.key')),
      prove,
    });
    expect(result.howToUse).toMatch(/--cert .*device-est\.renewed\.chain\.pem --key .*device-est\.renewed\.key/);
    expect(readFileSync(p12!).equals(before)).toBe(true);
    expect(readdirSync(join(p12!, '..')).sort()).toEqual(['device-est.p12', 'device-est.renewed.chain.pem', 'device-est.renewed.key']);
  });

  it('a keystore with the store password: also a new PKCS#12 that works as --keystore', async () => {
    const [p12] = copy('device-est.p12');
    const passwords = () => passwordsOf({ keystore: 'changeit' });
    const identity = await loadIdentity({ keystore: { path: p12! } }, passwords(), quiet);
    const result = await renewCertificate({
      ...connection(),
      identity,
      files: { kind: 'keystore', path: p12!, keyPassphrase: 'changeit', pkcs12Password: 'changeit' },
      token: await tokenFor(emulator, pki('device-est.chain.pem'), pki('device-est.key')),
      prove: (c, k) => tokenFor(emulator, c, k, 'changeit').then(() => undefined),
    });
    expect(result.pkcs12Path).toBe(join(p12!, '..', 'device-est.renewed.p12'));
    expect(result.howToUse).toMatch(/--keystore .*device-est\.renewed\.p12/);
    if (process.platform !== 'win32') expect(statSync(result.pkcs12Path!).mode & 0o777).toBe(0o600);
    const renewed = await loadIdentity({ keystore: { path: result.pkcs12Path! } }, passwords(), quiet);
    expect(renewed.chain[0]!.fingerprint256).toBe(result.certificate.fingerprint256);
    expect(renewed.chain).toHaveLength(2);
    expect(readFileSync(result.keyPath, 'utf8')).toMatch(/ENCRYPTED PRIVATE KEY/);
  });

  it('checks the folder before the request: nothing is asked of the platform when it cannot be written', async () => {
    const identity = await loadIdentity({ cert: pki('device-est.chain.pem'), key: pki('device-est.key') }, noPasswords(), quiet);
    const before = emulator.est!.requests.length;
    const err = await caught(
      renewCertificate({ ...connection(), identity, files: { kind: 'pem', certPath: '/nonexistent-c8ytoken/d.pem', keyPath: '/nonexistent-c8ytoken/d.key' }, token: 'x.y.z', prove }),
    );
    expect(err.exitCode).toBe(9);
    expect(emulator.est!.requests.length).toBe(before);
  });
});

describe('enrollDevice', () => {
  it('new EC P-256 key (0600), polls until registered, writes certificate and key', async () => {
    emulator.registerEnrollment('flow-device-001', 'Otp-12345678', { pendingPolls: 1 });
    const dir = tempDir('c8ytoken-flow-');
    const steps: string[] = [];
    const result = await enrollDevice({
      ...connection(),
      deviceId: 'flow-device-001',
      oneTimePassword: 'Otp-12345678',
      certPath: join(dir, 'device.pem'),
      keyPath: join(dir, 'device.key'),
      poll: { retryEveryMs: 10, maxWaitMs: 5000 },
      progress: (m) => steps.push(m),
    });
    expect(result).toMatchObject({ keySpec: { type: 'ec', curve: 'P-256' }, chainLength: 0 });
    if (process.platform !== 'win32') expect(statSync(result.keyPath).mode & 0o777).toBe(0o600);
    expect(steps.join('\n')).toMatch(/not accepted yet \(EST_UNAUTHORIZED\)/);
    expect(steps.join('\n')).not.toContain('Otp-12345678');
    expect(readdirSync(dir).sort()).toEqual(['device.key', 'device.pem']);
  });
});
