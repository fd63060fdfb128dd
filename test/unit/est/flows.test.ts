/** renewCertificate and enrollDevice end to end against the local endpoint, in process. */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../src/core/credentials/identity.js';
import { estBaseUrl } from '../../../src/core/est/client.js';
import { enrollDevice, renewCertificate } from '../../../src/core/est/flows.js';
import { deviceIdOf } from '../../../src/core/est/names.js';
import { Emulator } from '../../emulator/server.js';
import { tempDir } from '../../helpers/cli.js';
import { caught, wordsOf } from '../../helpers/errors.js';
import { noPasswords, passwordsOf, serverCa, tokenFor, tokenForKeystore } from '../../helpers/est.js';
import type { EstFault } from '../../emulator/est.js';
import { pki } from '../../helpers/paths.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator({ est: true }).start();
  // The fixtures are valid to 2099: a renewal must end later, or it is refused as shorter.
  emulator.est!.validityDays = FAR;
});
const FAR = 100 * 365;
afterAll(async () => {
  await emulator.stop();
});

const connection = () => ({ estBase: estBaseUrl(new URL(emulator.url)), trustCas: serverCa, timeoutMs: 5000 });
const quiet = { warn: () => undefined };
const provePem = (c: string, k: string) => tokenFor(emulator, c, k).then(() => undefined);
/** The proof renewCertificate asks for: a token with the new PEM files, or with the rewritten keystore (password changeit). */
const prove = (c: { kind: 'pem'; certPath: string; keyPath: string } | { kind: 'keystore'; path: string }, keystore: { keystore: string; key?: string } = { keystore: 'changeit' }) =>
  (c.kind === 'pem' ? tokenFor(emulator, c.certPath, c.keyPath) : tokenForKeystore(emulator, c.path, keystore)).then(() => undefined);

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
    chmodSync(keyPath!, 0o600);
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
        prove: async (c) => {
          if (c.kind !== 'pem') throw new Error('a PEM identity');
          const key = createPrivateKey({ key: readFileSync(c.keyPath), passphrase: 'keysecret' });
          expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
          const plain = join(tempDir(), 'plain.key');
          writeFileSync(plain, key.export({ type: 'pkcs8', format: 'pem' }));
          await provePem(c.certPath, plain);
        },
      });
      expect(result).toMatchObject({ keyReplaced: true, newKeySpec: { type: 'ec', curve: 'P-256' }, issuerChanged: true });
      expect(readFileSync(keyPath!, 'utf8')).toMatch(/BEGIN ENCRYPTED PRIVATE KEY/);
      if (process.platform !== 'win32') expect(statSync(keyPath!).mode & 0o777).toBe(0o600);
    } finally {
      emulator.est!.answerChain = false;
    }
  });

  /** Renews the keystore copy at `path`; the token from the fixture PEM files of the same device. */
  async function renewKeystore(path: string, given: { keystore: string; key?: string }, extra: Partial<Parameters<typeof renewCertificate>[0]> = {}, alias?: string) {
    const identity = await loadIdentity({ keystore: { path, ...(alias ? { alias } : {}) } }, passwordsOf(given), quiet);
    return renewCertificate({
      ...connection(),
      identity,
      files: { kind: 'keystore', path, storePassword: given.keystore, keyPassword: given.key ?? given.keystore, alias },
      token: await tokenForKeystore(emulator, path, given, alias),
      prove: (c) => (c.kind === 'keystore' ? tokenForKeystore(emulator, c.path, given, alias).then(() => undefined) : prove(c)),
      ...extra,
    });
  }

  it('a PKCS#12 keystore: rewritten in place (same password, alias and chain length), the old file kept as .bak', async () => {
    const [p12] = copy('device-est.p12');
    const before = readFileSync(p12!);
    const oldAlias = (await loadIdentity({ keystore: { path: p12! } }, passwordsOf({ keystore: 'changeit' }), quiet)).source;
    const result = await renewKeystore(p12!, { keystore: 'changeit' });
    expect(result).toMatchObject({ certPath: p12, keyPath: p12, backups: { cert: `${p12}.bak` }, keystore: { format: 'pkcs12' } });
    expect(readFileSync(`${p12}.bak`).equals(before)).toBe(true);
    expect(readdirSync(join(p12!, '..')).sort()).toEqual(['device-est.p12', 'device-est.p12.bak']);
    const renewed = await loadIdentity({ keystore: { path: p12! } }, passwordsOf({ keystore: 'changeit' }), quiet);
    expect(renewed.source).toBe(oldAlias);
    expect(renewed.chain[0]!.fingerprint256).toBe(result.certificate.fingerprint256);
    expect(renewed.chain).toHaveLength(2);
  });

  it('a JKS with two key entries and a separate key password: the entry renewed, the other kept byte for byte, still JKS', async () => {
    const [jks] = copy('two-devices.jks');
    const result = await renewKeystore(jks!, { keystore: 'changeit' }, {}, 'ec');
    expect(result.keystore).toEqual({ format: 'jks', alias: 'ec' });
    expect(readFileSync(jks!).readUInt32BE(0)).toBe(0xfeedfeed);
    const ec = await loadIdentity({ keystore: { path: jks!, alias: 'ec' } }, passwordsOf({ keystore: 'changeit' }), quiet);
    expect(ec.chain[0]!.fingerprint256).toBe(result.certificate.fingerprint256);
    const rsaBefore = await loadIdentity({ keystore: { path: `${jks}.bak`, alias: 'rsa' } }, passwordsOf({ keystore: 'changeit' }), quiet);
    const rsaAfter = await loadIdentity({ keystore: { path: jks!, alias: 'rsa' } }, passwordsOf({ keystore: 'changeit' }), quiet);
    expect(rsaAfter.chain.map((c) => c.fingerprint256)).toEqual(rsaBefore.chain.map((c) => c.fingerprint256));
    expect((rsaAfter.key as KeyObject).export({ type: 'pkcs8', format: 'der' }).equals((rsaBefore.key as KeyObject).export({ type: 'pkcs8', format: 'der' }))).toBe(true);

    const [keypass] = copy('device-rsa.keypass.jks');
    const r2 = await renewKeystore(keypass!, { keystore: 'changeit', key: 'keysecret' });
    expect(r2.keystore?.format).toBe('jks');
    // The key stays under its own password: the store password does not open it.
    await expect(tokenForKeystore(emulator, keypass!, { keystore: 'changeit', key: 'keysecret' })).resolves.toMatch(/^eyJ/);
    expect((await caught(loadIdentity({ keystore: { path: keypass! } }, passwordsOf({ keystore: 'changeit' }), quiet))).code).toBe('WRONG_PASSWORD');
  });

  it('a certificate that expires before the current one is refused (exit 8), the keystore untouched; allowShorter accepts it', async () => {
    const [p12] = copy('device-est.p12');
    const before = readFileSync(p12!);
    emulator.est!.validityDays = 365;
    try {
      const err = await caught(renewKeystore(p12!, { keystore: 'changeit' }));
      expect(err).toMatchObject({ code: 'EST_UNUSABLE_CERTIFICATE', exitCode: 8, facts: { problem: 'shorter', unchanged: [p12] } });
      expect(readFileSync(p12!).equals(before)).toBe(true);
      expect(readdirSync(join(p12!, '..'))).toEqual(['device-est.p12']);
      const result = await renewKeystore(p12!, { keystore: 'changeit' }, { allowShorter: true });
      expect(result.notAfter.getTime()).toBeLessThan(Date.parse('2099-01-01'));
    } finally {
      emulator.est!.validityDays = FAR;
    }
  });

  for (const fault of ['ca-cert', 'server-auth', 'short-lived', 'other-key'] as const) {
    it(`${fault}: refused (exit 8), PEM files untouched, no .new or .bak left`, async () => {
      const [certPath, keyPath] = copy('device-est.chain.pem', 'device-est.key');
      const dir = join(certPath!, '..');
      const before = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('base64'));
      const identity = await loadIdentity({ cert: certPath!, key: keyPath! }, noPasswords(), quiet);
      emulator.est!.fault = fault;
      emulator.est!.faultCount = 1;
      const err = await caught(
        renewCertificate({ ...connection(), identity, files: { kind: 'pem', certPath: certPath!, keyPath }, token: await tokenFor(emulator, certPath!, keyPath!), prove, allowShorter: true }),
      );
      expect(err.exitCode).toBe(8);
      expect(err.code).toBe(fault === 'other-key' ? 'EST_WRONG_CERTIFICATE' : 'EST_UNUSABLE_CERTIFICATE');
      expect(readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('base64'))).toEqual(before);
    });
  }

  it('a read-only keystore fails before the request (exit 9)', async () => {
    const [p12] = copy('device-est.p12');
    chmodSync(p12!, 0o444);
    const requests = emulator.est!.requests.length;
    const err = await caught(renewKeystore(p12!, { keystore: 'changeit' }));
    expect(err).toMatchObject({ code: 'OUTPUT_UNWRITABLE', exitCode: 9, facts: { reason: 'file read-only' } });
    expect(emulator.est!.requests.length).toBe(requests);
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() !== 0)(
    'as root: the mode, owner and group of a 0640 1234:1234 key, its certificate and the .bak files are kept with --new-key',
    async () => {
      const [certPath, keyPath] = copy('device-est.chain.pem', 'device-est.key');
      const { chownSync } = await import('node:fs');
      chownSync(keyPath!, 1234, 1234);
      chmodSync(keyPath!, 0o640);
      chownSync(certPath!, 1234, 1235);
      chmodSync(certPath!, 0o664);
      const identity = await loadIdentity({ cert: certPath!, key: keyPath! }, noPasswords(), quiet);
      await renewCertificate({ ...connection(), identity, files: { kind: 'pem', certPath: certPath!, keyPath }, token: await tokenFor(emulator, certPath!, keyPath!), prove, newKey: true });
      const attrs = (p: string) => {
        const s = statSync(p);
        return [s.mode & 0o7777, s.uid, s.gid];
      };
      expect(new X509Certificate(readFileSync(certPath!)).checkPrivateKey(createPrivateKey(readFileSync(keyPath!)))).toBe(true);
      expect(attrs(keyPath!)).toEqual([0o640, 1234, 1234]);
      expect(attrs(`${keyPath}.bak`)).toEqual([0o640, 1234, 1234]);
      expect(attrs(certPath!)).toEqual([0o664, 1234, 1235]);
      expect(attrs(`${certPath}.bak`)).toEqual([0o664, 1234, 1235]);
    },
  );

  it.skipIf(process.platform === 'win32' || process.getuid?.() !== 0)('as root: a combined PEM and a keystore keep their mode, owner and group', async () => {
    const [chain, key, p12] = copy('device-est.chain.pem', 'device-est.key', 'device-est.p12');
    const combined = join(chain!, '..', 'combined.pem');
    writeFileSync(combined, readFileSync(chain!, 'utf8') + readFileSync(key!, 'utf8'));
    const { chownSync } = await import('node:fs');
    for (const f of [combined, p12!]) {
      chownSync(f, 1234, 1234);
      chmodSync(f, 0o640);
    }
    const identity = await loadIdentity({ cert: combined }, noPasswords(), quiet);
    await renewCertificate({ ...connection(), identity, files: { kind: 'pem', certPath: combined }, token: await tokenFor(emulator, chain!, key!), prove });
    await renewKeystore(p12!, { keystore: 'changeit' });
    for (const f of [combined, `${combined}.bak`, p12!, `${p12}.bak`]) {
      const s = statSync(f);
      expect([f, s.mode & 0o7777, s.uid, s.gid]).toEqual([f, 0o640, 1234, 1234]);
    }
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
      deviceId: deviceIdOf('flow-device-001'),
      oneTimePassword: 'Otp-12345678',
      certPath: join(dir, 'device.pem'),
      keyPath: join(dir, 'device.key'),
      poll: { retryEveryMs: 10, maxWaitMs: 5000 },
      progress: (m) => steps.push(m),
      prove: provePem,
    });
    expect(result).toMatchObject({ keySpec: { type: 'ec', curve: 'P-256' }, chainLength: 0 });
    if (process.platform !== 'win32') expect(statSync(result.keyPath).mode & 0o777).toBe(0o600);
    expect(steps.join('\n')).toMatch(/not accepted yet \(EST_UNAUTHORIZED\)/);
    expect(steps.join('\n')).not.toContain('Otp-12345678');
    expect(readdirSync(dir).sort()).toEqual(['device.key', 'device.pem']);
    expect(steps.join('\n')).toMatch(/proving the new certificate/);
  });

  // Each is "not enrolled": a non-zero exit and no file at --cert or --key (the one-time password is used up, so a retry needs a new registration anyway).
  const refused: [EstFault, number, string][] = [
    ['unknown-ca', 6, 'the platform does not accept a certificate from an unknown CA'],
    ['bad-signature', 6, 'a certificate whose signature does not verify'],
    ['server-auth', 8, 'serverAuth only'],
    ['ca-cert', 8, 'CA:TRUE'],
    ['short-lived', 8, 'valid for minutes'],
  ];
  for (const [fault, exitCode, what] of refused) {
    it(`${fault}: ${what} is not enrolled (exit ${exitCode}), nothing written`, async () => {
      const id = `flow-${fault}`;
      emulator.registerEnrollment(id, 'Otp-12345678', { pendingPolls: 0 });
      emulator.est!.fault = fault;
      emulator.est!.faultCount = 1;
      const dir = tempDir('c8ytoken-flow-');
      const err = await caught(
        enrollDevice({
          ...connection(),
          deviceId: deviceIdOf(id),
          oneTimePassword: 'Otp-12345678',
          certPath: join(dir, 'device.pem'),
          keyPath: join(dir, 'device.key'),
          poll: { retryEveryMs: 10, maxWaitMs: 2000 },
          prove: provePem,
        }),
      );
      expect(err.exitCode).toBe(exitCode);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  const enrollInto = (id: string, dir: string, maxWaitMs: number) =>
    enrollDevice({
      ...connection(),
      deviceId: deviceIdOf(id),
      oneTimePassword: 'Otp-12345678',
      certPath: join(dir, 'device.pem'),
      keyPath: join(dir, 'device.key'),
      poll: { retryEveryMs: 20, maxWaitMs },
      prove: provePem,
    });

  it('a proof that fails for now (two HTTP 503 from the token endpoint) is asked again with backoff: enrolled', async () => {
    emulator.registerEnrollment('flow-503-twice', 'Otp-12345678', { pendingPolls: 0 });
    const dir = tempDir('c8ytoken-flow-');
    const seen = emulator.requests.length;
    // The enrollment itself is an EST request; the token endpoint's fault hits the proofs only.
    emulator.fault = 'http503';
    emulator.faultCount = 2;
    try {
      const result = await enrollInto('flow-503-twice', dir, 5000);
      expect(readdirSync(dir).sort()).toEqual(['device.key', 'device.pem']);
      expect(await tokenFor(emulator, result.certPath, result.keyPath)).toMatch(/^eyJ/);
      expect(emulator.requests.slice(seen).filter((r) => r.path.startsWith('/devicecontrol/deviceAccessToken')).length).toBeGreaterThanOrEqual(3);
    } finally {
      emulator.fault = undefined;
      emulator.faultCount = Infinity;
    }
  });

  it('a proof that keeps failing for now (HTTP 503 through --max-wait): the issued files are installed, exit 8 "issued but not yet proven", never "register again"', async () => {
    emulator.registerEnrollment('flow-503-always', 'Otp-12345678', { pendingPolls: 0 });
    const dir = tempDir('c8ytoken-flow-');
    emulator.fault = 'http503';
    let err;
    try {
      err = await caught(enrollInto('flow-503-always', dir, 300));
    } finally {
      emulator.fault = undefined;
    }
    expect(err.exitCode).toBe(8);
    expect(err.facts.unproven).toEqual([join(dir, 'device.key'), join(dir, 'device.pem')]);
    expect(err.facts.notWritten).toBeUndefined();
    const words = wordsOf(err);
    expect(words.message).toMatch(/^Issued but not yet proven: .*device\.key and .*device\.pem.*HTTP 503|^Issued but not yet proven: .*503/s);
    expect(`${words.message} ${words.hint}`).not.toMatch(/register .*again|Nothing was (written|changed)/);
    expect(words.hint).toMatch(/Do not enroll again.*Retry later/);
    expect(readdirSync(dir).sort()).toEqual(['device.key', 'device.pem']);
    if (process.platform !== 'win32') expect(statSync(join(dir, 'device.key')).mode & 0o777).toBe(0o600);
    // The files are the device's identity: once the platform is back, they get a token.
    expect(await tokenFor(emulator, join(dir, 'device.pem'), join(dir, 'device.key'))).toMatch(/^eyJ/);
  });
});

describe('one renewal at a time (FILE.lock)', () => {
  it('a second renewal while the first is proving: exit 9 naming the PID; the first completes; the lock is gone after', async () => {
    const [certPath, keyPath] = copy('device-est.chain.pem', 'device-est.key');
    const identity = await loadIdentity({ cert: certPath!, key: keyPath! }, noPasswords(), quiet);
    const token = await tokenFor(emulator, certPath!, keyPath!);
    let proving!: () => void;
    const inProof = new Promise<void>((r) => (proving = r));
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    const first = renewCertificate({
      ...connection(),
      identity,
      files: { kind: 'pem', certPath: certPath!, keyPath },
      token,
      prove: async (c) => {
        proving();
        await paused;
        await prove(c);
      },
    });
    await inProof;
    expect(existsSync(`${certPath}.new`)).toBe(true);
    expect(readFileSync(`${certPath}.lock`, 'utf8').trim()).toBe(String(process.pid));
    const second = await caught(renewCertificate({ ...connection(), identity, files: { kind: 'pem', certPath: certPath!, keyPath }, token, prove }));
    expect(second).toMatchObject({ code: 'OUTPUT_UNWRITABLE', facts: { reason: 'renewal running', pid: process.pid } });
    expect(second.exitCode).toBe(9);
    expect(wordsOf(second).message).toMatch(new RegExp(`another renewal \\(PID ${process.pid}\\) is running`));
    // The second one touched nothing of the first's: its .new is still there to be proven.
    expect(existsSync(`${certPath}.new`)).toBe(true);
    resume();
    const result = await first;
    expect(result.backups.cert).toBe(`${certPath}.bak`);
    expect(readdirSync(join(certPath!, '..')).sort()).toEqual(['device-est.chain.pem', 'device-est.chain.pem.bak', 'device-est.key', 'device-est.key.bak']);
  });

  it('a stale lock (its process is gone) is taken over', async () => {
    const [certPath, keyPath] = copy('device-est.chain.pem', 'device-est.key');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${certPath}.lock`, `${gone.stdout}\n`);
    const identity = await loadIdentity({ cert: certPath!, key: keyPath! }, noPasswords(), quiet);
    const result = await renewCertificate({ ...connection(), identity, files: { kind: 'pem', certPath: certPath!, keyPath }, token: await tokenFor(emulator, certPath!, keyPath!), prove });
    expect(result.notAfter.getTime()).toBeGreaterThan(Date.now());
    expect(existsSync(`${certPath}.lock`)).toBe(false);
  });
});
