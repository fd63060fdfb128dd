/**
 * End to end in this process: `c8ytoken cert renew | needs-renewal | enroll` through the CLI against the
 * local endpoint in EST mode (tokens and EST on one port), asserting exit codes, stdout, stderr and the
 * files: renewed in place with .bak, or left byte for byte on every failure class.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_VARIABLES } from '../../src/core/config/environment.js';
import { Emulator } from '../emulator/server.js';
import type { EstFault } from '../emulator/est.js';
import { tempDir, type CliRun } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki, root } from '../helpers/paths.js';
import { TestProxy } from '../helpers/proxy.js';
import { hasKeytool, KEYTOOL_QUICK } from '../helpers/keytool.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator({ est: true }).start();
  // The fixtures are valid to 2099: a renewal must end later, or it is refused as shorter.
  emulator.est!.validityDays = FAR;
});
const FAR = 100 * 365;
const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).error === undefined;
const hasOpenssl = has('openssl', ['version']);
if (!hasKeytool) console.warn('keytool (Java) is not installed: the keytool checks of renewed keystores are skipped');
afterAll(async () => {
  await emulator.stop();
});
afterEach(() => {
  emulator.est!.fault = undefined;
  emulator.est!.faultCount = Infinity;
  emulator.fault = undefined;
});

const posix = process.platform !== 'win32';
const DAY = 86_400_000;

/** Copies fixtures into a fresh folder; returns their new paths and the folder. */
function copies(...names: string[]): { dir: string; paths: string[] } {
  const dir = tempDir('c8ytoken-cert-');
  return { dir, paths: names.map((n) => (copyFileSync(pki(n), join(dir, n)), join(dir, n))) };
}

function cert(args: string[], env: Record<string, string> = {}, now?: () => number): Promise<CliRun> {
  return runMain(['cert', ...args], { env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit', ...env }, ...(now ? { now } : {}) });
}

function renew(files: string[], extra: string[] = []): Promise<CliRun> {
  return cert(['renew', '--url', emulator.url, '--truststore', pki('server-ca.crt'), ...files, ...extra]);
}

const leafOf = (path: string): X509Certificate => new X509Certificate(readFileSync(path));
/** A certificate's key identifier extension as OpenSSL reads it (hex with colons), or undefined. */
const keyIdentifier = (path: string, ext: 'subjectKeyIdentifier' | 'authorityKeyIdentifier'): string | undefined =>
  /([0-9A-F]{2}(?::[0-9A-F]{2})+)/.exec(spawnSync('openssl', ['x509', '-in', path, '-noout', '-ext', ext], { encoding: 'utf8' }).stdout)?.[1];
const snapshot = (dir: string): Record<string, string> => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

describe('cert renew', () => {
  const pems: [string, string, string][] = [
    ['RSA (with its intermediate)', 'device-rsa.chain.pem', 'device-rsa.key'],
    ['EC P-256', 'device-ec256.chain.pem', 'device-ec256.key'],
    ['EC from the EST CA', 'device-est.chain.pem', 'device-est.key'],
  ];
  for (const [name, certFile, keyFile] of pems) {
    it(`${name}: PEM files renewed in place, .bak kept, the key unchanged; a token works with the new files`, async () => {
      const { dir, paths } = copies(certFile, keyFile);
      const [certPath, keyPath] = paths as [string, string];
      const before = readFileSync(certPath);
      const keyBefore = readFileSync(keyPath);
      const run = await renew(['--cert', certPath, '--key', keyPath]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Renewed the device certificate of [\w-]+: valid until \d{4}-\d\d-\d\dT[\d:]+Z \(in \d+ d/);
      // The key stays, and is backed up with the certificate: the .bak files are a pair.
      expect(run.stdout).toContain(`${certPath}.bak, ${keyPath}.bak (the previous files)`);
      const renewed = leafOf(certPath);
      expect(renewed.issuer).toMatch(/c8ytoken EST CA/);
      expect(readFileSync(`${certPath}.bak`).equals(before)).toBe(true);
      expect(readFileSync(keyPath).equals(keyBefore)).toBe(true);
      expect(readFileSync(`${keyPath}.bak`).equals(keyBefore)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual([certFile, `${certFile}.bak`, keyFile, `${keyFile}.bak`].sort());
      // The endpoint's key identifiers are OpenSSL's "hash" method: the same key, the same identifier.
      expect(keyIdentifier(certPath, 'subjectKeyIdentifier')).toBe(keyIdentifier(`${certPath}.bak`, 'subjectKeyIdentifier'));
      expect(keyIdentifier(certPath, 'authorityKeyIdentifier')).toBe(keyIdentifier(pki('est-ca.crt'), 'subjectKeyIdentifier'));
      const fetched = await runMain(['fetch', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--cert', certPath, '--key', keyPath]);
      expect(fetched.code).toBe(0);
    });
  }

  it('--new-key --json: a new key of the same type (0600), both files backed up; the JSON says what changed', async () => {
    const { paths } = copies('device-rsa.chain.pem', 'device-rsa.key');
    const [certPath, keyPath] = paths as [string, string];
    chmodSync(keyPath, 0o600);
    const keyBefore = readFileSync(keyPath);
    const run = await renew(['--cert', certPath, '--key', keyPath, '--new-key', '--json']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ identity: 'pem', keyReplaced: true, newKey: 'RSA 2048', issuerChanged: true, backups: { cert: `${certPath}.bak`, key: `${keyPath}.bak` } });
    expect(Date.parse(json.notAfter as string)).toBeGreaterThan(Date.now() + 300 * DAY);
    expect(readFileSync(`${keyPath}.bak`).equals(keyBefore)).toBe(true);
    expect(createPrivateKey(readFileSync(keyPath)).asymmetricKeyDetails?.modulusLength).toBe(2048);
    if (posix) expect(statSync(keyPath).mode & 0o777).toBe(0o600);
  });

  /** keytool -list -v of a keystore: the oracle nobody here wrote. */
  const keytoolList = (path: string): string => {
    const r = spawnSync('keytool', [...KEYTOOL_QUICK, '-list', '-v', '-keystore', path, '-storepass', 'changeit'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  /** keytool prints serials as lower-case hex without leading zeros. */
  const serialOf = (c: X509Certificate): string => c.serialNumber.toLowerCase().replace(/^0+/, '');

  for (const [file, format, alias] of [
    ['device-est.p12', 'PKCS#12', 'device'],
    ['device-ec256.jks', 'JKS', 'device'],
    ['device-rsa.keytool.p12', 'PKCS#12', 'device'],
  ] as const) {
    it(`a ${format} keystore (${file}) is renewed in place: same format, password and alias, .bak kept; needs-renewal and fetch read the new certificate`, async () => {
      const { dir, paths } = copies(file);
      const path = paths[0]!;
      const before = readFileSync(path);
      const oldLeafEnd = Date.parse('2099-12-31T23:59:59Z');
      const due = () => oldLeafEnd - 20 * DAY;
      expect((await cert(['needs-renewal', '--keystore', path], {}, due)).code).toBe(0);
      const run = await renew(['--keystore', path]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`written +.*${file.replace('.', '\\.')} \\(${format.replace('#', '#')}, entry "${alias}", same password, the same key\\)`));
      expect(run.stdout).toContain(`${path}.bak (the previous file)`);
      expect(readdirSync(dir).sort()).toEqual([file, `${file}.bak`]);
      expect(readFileSync(`${path}.bak`).equals(before)).toBe(true);
      expect(readFileSync(path).readUInt32BE(0) === 0xfeedfeed).toBe(format === 'JKS');
      // The renewed certificate is the one the keystore now gives: inside the window no more.
      expect((await cert(['needs-renewal', '--keystore', path], {}, due)).code).toBe(1);
      const fetched = await runMain(['fetch', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--keystore', path, '--format', 'json'], {
        env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' },
      });
      expect(fetched.code).toBe(0);
      const issued = emulator.est!.issued.at(-1)!;
      if (hasKeytool) {
        const listed = keytoolList(path);
        expect(listed).toMatch(new RegExp(`Keystore type: ${format === 'JKS' ? 'JKS' : 'PKCS12'}`));
        expect(listed).toMatch(new RegExp(`Alias name: ${alias}\\b`));
        expect(listed).toMatch(/Entry type: PrivateKeyEntry/);
        expect(listed).toContain(`Serial number: ${serialOf(issued)}`);
      }
      if (hasOpenssl && format === 'PKCS#12') {
        const r = spawnSync('openssl', ['pkcs12', '-in', path, '-passin', 'pass:changeit', '-nokeys'], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(new X509Certificate(r.stdout).fingerprint256).toBe(issued.fingerprint256);
        expect(r.stdout).toMatch(new RegExp(`friendlyName: ${alias}`));
      }
    });
  }

  it.skipIf(!hasKeytool)('keytool lists a renewed JKS with two entries: both there, one renewed (skipped without keytool)', async () => {
    const { paths } = copies('two-devices.jks');
    const run = await renew(['--keystore', paths[0]!, '--alias', 'rsa']);
    expect(run.code).toBe(0);
    const listed = keytoolList(paths[0]!);
    expect(listed).toMatch(/Your keystore contains 2 entries/);
    expect(listed).toContain(`Serial number: ${serialOf(emulator.est!.issued.at(-1)!)}`);
    expect(listed).toMatch(/Alias name: ec\b/);
  });

  it('a read-only keystore: exit 9 before any request, the file untouched', async () => {
    const { dir, paths } = copies('device-est.p12');
    chmodSync(paths[0]!, 0o444);
    const before = snapshot(dir);
    const estRequests = emulator.est!.requests.length;
    const run = await renew(['--keystore', paths[0]!]);
    expect(run.code).toBe(9);
    expect(run.stderr).toMatch(/Cannot replace .*device-est\.p12: the file is read-only, so the renewal was not started/);
    expect(emulator.est!.requests.length).toBe(estRequests);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a certificate that expires before the current one: exit 8, files untouched; --allow-shorter or C8YTOKEN_ALLOW_SHORTER=true accept it', async () => {
    emulator.est!.validityDays = 365;
    try {
      const { dir, paths } = copies('device-est.p12');
      const before = snapshot(dir);
      const run = await renew(['--keystore', paths[0]!]);
      expect(run.code).toBe(8);
      expect(run.stderr).toMatch(/expires before the current certificate \(valid until 2099-12-31T23:59:59Z\)/);
      expect(run.stderr).toMatch(/--allow-shorter/);
      expect(snapshot(dir)).toEqual(before);
      expect((await renew(['--keystore', paths[0]!, '--allow-shorter'])).code).toBe(0);
      const pem = copies('device-est.chain.pem', 'device-est.key');
      expect((await cert(['renew', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--cert', pem.paths[0]!, '--key', pem.paths[1]!], { C8YTOKEN_ALLOW_SHORTER: 'true' })).code).toBe(0);
    } finally {
      emulator.est!.validityDays = FAR;
    }
  });

  const failures: [string, EstFault, number, string, RegExp][] = [
    ['401 (token refused)', 'http401', 7, 'EST_UNAUTHORIZED', /simplereenroll answered HTTP 401: the device token was not accepted for the renewal\. The platform said: security\/Unauthorized/],
    ['403 (another CN)', 'http403', 7, 'EST_FORBIDDEN', /HTTP 403: the renewal is not allowed/],
    ['400 (request refused)', 'http400', 7, 'EST_CSR_REJECTED', /HTTP 400: the certificate request was refused/],
    ['500', 'http500', 8, 'EST_SERVER_ERROR', /HTTP 500: the platform failed/],
    ['a 200 without a certificate', 'not-cert', 8, 'EST_BAD_RESPONSE', /without a readable certificate/],
    ['a certificate for another key', 'other-key', 8, 'EST_WRONG_CERTIFICATE', /for another key/],
    ['a certificate for another CN', 'other-cn', 8, 'EST_WRONG_CERTIFICATE', /issued a certificate for CN=.*-other, but the request was for CN=/],
    ['a CA certificate', 'ca-cert', 8, 'EST_UNUSABLE_CERTIFICATE', /is a CA certificate \(basicConstraints CA:TRUE\)/],
    [
      'a serverAuth-only certificate',
      'server-auth',
      8,
      'EST_UNUSABLE_CERTIFICATE',
      /is not for TLS client authentication \(its extended key usages: 1\.3\.6\.1\.5\.5\.7\.3\.1; clientAuth is missing\)/,
    ],
    ['a 3-minute certificate', 'short-lived', 8, 'EST_UNUSABLE_CERTIFICATE', /is valid for less than a day/],
  ];
  for (const [name, fault, exit, code, says] of failures) {
    it(`${name}: exit ${exit}, ${code}, the files byte for byte and nothing beside them`, async () => {
      const { dir, paths } = copies('device-ec256.chain.pem', 'device-ec256.key');
      const before = snapshot(dir);
      emulator.est!.fault = fault;
      emulator.est!.faultCount = 1;
      const run = await renew(['--cert', paths[0]!, '--key', paths[1]!, '--new-key']);
      expect(run.code).toBe(exit);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(says);
      expect(run.stderr).toMatch(/Nothing was changed: .*device-ec256\.chain\.pem and .*device-ec256\.key are as before\./);
      expect(run.stderr).not.toMatch(/eyJ|Bearer /);
      expect(snapshot(dir)).toEqual(before);
    });
  }

  it('the token request refused (before any EST request): exit 7, files untouched, no EST request', async () => {
    const { dir, paths } = copies('device-ec256.chain.pem', 'device-ec256.key');
    const before = snapshot(dir);
    const estRequests = emulator.est!.requests.length;
    emulator.fault = 'http403';
    emulator.faultCount = 1;
    const run = await renew(['--cert', paths[0]!, '--key', paths[1]!, '--json']);
    expect(run.code).toBe(7);
    expect(JSON.parse(run.stderr)).toMatchObject({ error: { code: 'PLATFORM_FORBIDDEN' } });
    expect(emulator.est!.requests.length).toBe(estRequests);
    expect(snapshot(dir)).toEqual(before);
  });

  it('202 (pending) with a Retry-After beyond --timeout: exit 8, EST_PENDING saying when, the files byte for byte', async () => {
    const { dir, paths } = copies('device-ec256.chain.pem', 'device-ec256.key');
    const before = snapshot(dir);
    emulator.est!.fault = 'http202';
    emulator.est!.faultCount = 1;
    const run = await renew(['--cert', paths[0]!, '--key', paths[1]!, '--new-key', '--timeout', '900ms']);
    expect(run.code).toBe(8);
    expect(run.stderr).toMatch(/HTTP 202 to simplereenroll: the request is pending.*Retry-After: 1 s.*Nothing was changed.*Run again after .*raise --timeout/s);
    expect(snapshot(dir)).toEqual(before);
  });

  it('202 (pending) with a Retry-After within --timeout: waited for, then renewed', async () => {
    const { paths } = copies('device-ec256.chain.pem', 'device-ec256.key');
    emulator.est!.fault = 'http202';
    emulator.est!.faultCount = 1;
    const run = await renew(['--cert', paths[0]!, '--key', paths[1]!]);
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.est!.requests.slice(-2).map((r) => r.status)).toEqual([202, 200]);
  });

  it('an endpoint without EST (the token port): the device certificate passes its handshake, then 404: exit 7 naming port 443, files untouched', async () => {
    const { dir, paths } = copies('device-ec256.chain.pem', 'device-ec256.key');
    const before = snapshot(dir);
    const other = await new Emulator({ est: false }).start();
    try {
      // Tokens from an endpoint without EST: it requires a client certificate, which renewal now offers (RFC 7030 3.3.2).
      const run = await cert(['renew', '--url', other.url, '--truststore', pki('server-ca.crt'), '--cert', paths[0]!, '--key', paths[1]!]);
      expect(run.code).toBe(7);
      expect(run.stderr).toMatch(/there is no simplereenroll endpoint.*Nothing was changed.*EST is on port 443 \(not \d+\)/s);
    } finally {
      await other.stop();
    }
    expect(snapshot(dir)).toEqual(before);
  });

  it.skipIf(!posix || process.getuid?.() === 0)('a read-only folder: exit 9 before any request, files untouched', async () => {
    const { dir, paths } = copies('device-ec256.chain.pem', 'device-ec256.key');
    const estRequests = emulator.est!.requests.length;
    chmodSync(dir, 0o555);
    try {
      const run = await renew(['--cert', paths[0]!, '--key', paths[1]!]);
      expect(run.code).toBe(9);
      expect(run.stderr).toMatch(/not writable.*Nothing was changed/s);
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(emulator.est!.requests.length).toBe(estRequests);
  });

  it('no tenant URL: exit 3', async () => {
    const { paths } = copies('device-ec256.chain.pem', 'device-ec256.key');
    const run = await cert(['renew', '--cert', paths[0]!, '--key', paths[1]!]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/No tenant URL/);
  });
});

describe('cert needs-renewal', () => {
  const notAfter = Date.parse(leafOf(pki('device-ec256.crt')).validTo);
  const at = (ms: number) => () => ms;
  it('exit 1 (not yet) outside the window, 0 inside it and once expired; --json has notAfter, daysLeft, renewNow', async () => {
    const far = await cert(['needs-renewal', '--cert', pki('device-ec256.chain.pem'), '--within', '30d'], {}, at(notAfter - 31 * DAY));
    expect(far.code).toBe(1);
    expect(far.stdout).toMatch(/^not yet: .*expires at 2099-12-31T23:59:59Z \(in 31 d\), later than 30 d from now\./);
    const near = await cert(['needs-renewal', '--cert', pki('device-ec256.chain.pem'), '--within', '30d', '--json'], {}, at(notAfter - 29 * DAY - 1000));
    expect(near.code).toBe(0);
    expect(JSON.parse(near.stdout)).toMatchObject({ renewNow: true, daysLeft: 29, expired: false, notAfter: '2099-12-31T23:59:59Z', withinSeconds: 30 * 86_400 });
    const gone = await cert(['needs-renewal', '--cert', pki('device-ec256.chain.pem')], {}, at(notAfter + DAY));
    expect(gone.code).toBe(0);
    expect(gone.stdout).toMatch(/EXPIRED .*enroll the device again/);
  });

  it('--within longer than the certificate lives (400 d on a 1-year certificate): a warning that a daily timer renews every day', async () => {
    const expired = pki('device-expired.crt'); // 2021-01-01 to 2021-12-31T23:59:59Z
    const march = await cert(['needs-renewal', '--cert', expired, '--within', '400d', '--json'], {}, at(Date.parse('2021-03-01T00:00:00Z')));
    expect(march.code).toBe(0);
    expect(march.stderr).toMatch(/--within 400 d is at least the device certificate's whole lifetime \(364 d 23 h\).*a daily timer \(c8ytoken-cert-renew@\) renews every day/s);
    expect(JSON.parse(march.stdout)).toMatchObject({ renewNow: true, windowExceedsLifetime: true });
    // A window shorter than the lifetime: no warning.
    const usual = await cert(['needs-renewal', '--cert', expired, '--within', '30d', '--json'], {}, at(Date.parse('2021-08-01T00:00:00Z')));
    expect([usual.code, usual.stderr]).toEqual([1, '']);
    expect(JSON.parse(usual.stdout)).toMatchObject({ windowExceedsLifetime: false });
  });

  it('the default window is 30 days; a keystore (with its password) and JKS read too', async () => {
    expect((await cert(['needs-renewal', '--keystore', pki('device-ec256.p12')], {}, at(notAfter - 20 * DAY))).code).toBe(0);
    expect((await cert(['needs-renewal', '--keystore', pki('device-ec256.jks')], {}, at(notAfter - 40 * DAY))).code).toBe(1);
    const noPassword = await runMain(['cert', 'needs-renewal', '--keystore', pki('device-ec256.p12')]);
    expect(noPassword.code).toBe(3);
  });

  it('no certificate: exit 3; a bad duration: exit 2', async () => {
    expect((await cert(['needs-renewal'])).code).toBe(3);
    expect((await cert(['needs-renewal', '--cert', pki('device-ec256.crt'), '--within', 'soon'])).code).toBe(2);
  });
});

describe('the documented cert renew example (docs/commands/cert-renew.md)', () => {
  it('runs as written against the local endpoint (one-year certificates replacing the fixture valid to 2099)', async () => {
    const page = readFileSync(join(root, 'docs', 'commands', 'cert-renew.md'), 'utf8');
    const line = /^\$ c8ytoken cert renew (.*)$/m.exec(page)?.[1];
    expect(line, 'docs/commands/cert-renew.md shows a cert renew session').toBeDefined();
    const { dir } = copies('server-ca.crt', 'device-rsa.chain.pem', 'device-rsa.key');
    const args = line!.split(/\s+/).map((a) => (a === 'https://localhost:18443' ? emulator.url : /\.(crt|pem|key)$/.test(a) ? join(dir, a) : a));
    emulator.est!.validityDays = 365;
    try {
      const run = await cert(['renew', ...args]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^Renewed the device certificate of rsa-device-001: valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
      expect(run.stdout).toMatch(/before {7}valid until 2099-12-31T23:59:59Z/);
    } finally {
      emulator.est!.validityDays = FAR;
    }
  });
});

describe('cert enroll', () => {
  function otpFile(otp: string): string {
    const file = join(tempDir('c8ytoken-otp-'), 'otp.txt');
    writeFileSync(file, `${otp}\n`, { mode: 0o600 });
    return file;
  }
  const enroll = (args: string[], env: Record<string, string> = {}) => cert(['enroll', '--url', emulator.url, '--truststore', pki('server-ca.crt'), ...args], env);

  it('polls until the device is registered, then writes the key (0600) and the certificate; a token works with them', async () => {
    emulator.registerEnrollment('cli-device-001', 'Otp-cli-12345', { pendingPolls: 2 });
    const dir = tempDir('c8ytoken-enroll-');
    const [certPath, keyPath] = [join(dir, 'device.pem'), join(dir, 'device.key')];
    const run = await enroll([
      '--device-id',
      'cli-device-001',
      '--one-time-password-file',
      otpFile('Otp-cli-12345'),
      '--cert',
      certPath,
      '--key',
      keyPath,
      '--retry-every',
      '20ms',
      '--max-wait',
      '10s',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr.match(/attempt \d: not accepted yet \(EST_UNAUTHORIZED\)/g)).toHaveLength(2);
    expect(run.stderr).not.toContain('Otp-cli-12345');
    expect(run.stdout).toMatch(/^Enrolled device cli-device-001: certificate valid until /);
    expect(run.stdout).toContain(`${keyPath} (new EC P-256 key, mode 0600)`);
    if (posix) expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['device.key', 'device.pem']);
    expect((await runMain(['fetch', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--cert', certPath, '--key', keyPath])).code).toBe(0);
  });

  it('one file for --cert and --key (or the truststore as an output): exit 2 before any request, nothing written', async () => {
    emulator.registerEnrollment('same-file-001', 'Otp-same-12345');
    const dir = tempDir('c8ytoken-enroll-');
    const estRequests = emulator.est!.requests.length;
    const same = await enroll(['--device-id', 'same-file-001', '--cert', join(dir, 'd.pem'), '--key', join(dir, '.', 'd.pem')], { C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-same-12345' });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--cert .*d\.pem is the same file as --key/);
    const trust = join(dir, 'trust.pem');
    copyFileSync(pki('server-ca.crt'), trust);
    const overTrust = await cert(['enroll', '--url', emulator.url, '--truststore', trust, '--device-id', 'same-file-001', '--cert', trust, '--key', join(dir, 'd.key')], {
      C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-same-12345',
    });
    expect(overTrust.code).toBe(2);
    expect(emulator.est!.requests.length).toBe(estRequests);
    expect(readdirSync(dir)).toEqual(['trust.pem']);
  });

  it('the one-time password from its variable; --json', async () => {
    emulator.registerEnrollment('cli-device-002', 'Otp-env-12345');
    const dir = tempDir('c8ytoken-enroll-');
    const run = await enroll(['--device-id', 'cli-device-002', '--cert', join(dir, 'd.pem'), '--key', join(dir, 'd.key'), '--json'], { C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-env-12345' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ commonName: 'cli-device-002', keyType: 'EC P-256', chainLength: 0 });
  });

  for (const [fault, exit, says] of [
    ['unknown-ca', 6, /client certificate|not accepted|rejected/i],
    ['server-auth', 8, /not for TLS client authentication/],
    ['short-lived', 8, /valid for less than a day/],
  ] as const) {
    it(`${fault}: not enrolled (exit ${exit}), neither --cert nor --key written`, async () => {
      emulator.registerEnrollment(`cli-${fault}`, 'Otp-fault-12345');
      emulator.est!.fault = fault;
      emulator.est!.faultCount = 1;
      const dir = tempDir('c8ytoken-enroll-');
      const run = await enroll(['--device-id', `cli-${fault}`, '--cert', join(dir, 'd.pem'), '--key', join(dir, 'd.key')], { C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-fault-12345' });
      expect(run.code).toBe(exit);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(says);
      expect(run.stderr).toMatch(/Nothing was written/);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('never registered: EST_NOT_REGISTERED (exit 7) after --max-wait, nothing written', async () => {
    const dir = tempDir('c8ytoken-enroll-');
    const run = await enroll([
      '--device-id',
      'cli-nobody',
      '--one-time-password-file',
      otpFile('Otp-none-1234'),
      '--cert',
      join(dir, 'd.pem'),
      '--key',
      join(dir, 'd.key'),
      '--retry-every',
      '20ms',
      '--max-wait',
      '100ms',
    ]);
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/The device cli-nobody is still not accepted by https:\/\/localhost:\d+ after \d+ attempt\(s\)/);
    expect(run.stderr).not.toContain('Otp-none-1234');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a one-time password on the command line, a missing one, and existing files', async () => {
    for (const flag of ['--one-time-password=Otp-argv-123', '--otp=Otp-argv-123']) {
      const argv = await enroll(['--device-id', 'x', flag]);
      expect(argv.code).toBe(2);
      expect(argv.stderr).toMatch(/never takes passwords on the command line/);
      expect(argv.stderr).not.toContain('Otp-argv-123');
    }
    // A hook started by watch never gets the one-time password's variable.
    expect(SECRET_VARIABLES).toContain('C8YTOKEN_ONE_TIME_PASSWORD');
    const dir = tempDir('c8ytoken-enroll-');
    const missing = await enroll(['--device-id', 'x', '--cert', join(dir, 'd.pem'), '--key', join(dir, 'd.key')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--one-time-password-file FILE, or C8YTOKEN_ONE_TIME_PASSWORD/);
    writeFileSync(join(dir, 'd.pem'), 'old');
    const exists = await enroll(['--device-id', 'x', '--one-time-password-file', otpFile('Otp-x-12345678'), '--cert', join(dir, 'd.pem'), '--key', join(dir, 'd.key')]);
    expect(exists.code).toBe(9);
    expect(exists.stderr).toMatch(/exists already/);
    expect(readFileSync(join(dir, 'd.pem'), 'utf8')).toBe('old');
  });
});

describe('EST through a CONNECT proxy', () => {
  let proxy: TestProxy;
  let authed: TestProxy;
  beforeAll(async () => {
    proxy = await new TestProxy().start();
    authed = await new TestProxy({ auth: { user: 'dev', password: 'proxy-secret' } }).start();
  });
  afterAll(async () => {
    await proxy.stop();
    await authed.stop();
  });

  it('cert renew: the token request, the EST request and the proof with the new certificate all go through the proxy', async () => {
    const { paths } = copies('device-ec256.chain.pem', 'device-ec256.key');
    const target = new URL(emulator.url).host;
    const connects = proxy.connects.length;
    const run = await runMain(['-v', 'cert', 'renew', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--cert', paths[0]!, '--key', paths[1]!], {
      env: { HTTPS_PROXY: proxy.url() },
    });
    expect(run.code).toBe(0);
    expect(proxy.connects.slice(connects).map((c) => c.target)).toEqual([target, target, target]);
    expect(run.stderr).toMatch(/proxy http:\/\/127\.0\.0\.1:\d+ \(from HTTPS_PROXY\)/);
    expect(leafOf(paths[0]!).issuer).toMatch(/c8ytoken EST CA/);
  });

  it('cert enroll through a proxy that wants credentials: PROXY_AUTH_REQUIRED (exit 3) naming the proxy, nothing written', async () => {
    emulator.registerEnrollment('proxy-device-001', 'Otp-proxy-12345');
    const dir = tempDir('c8ytoken-enroll-');
    const run = await cert(
      [
        'enroll',
        '--url',
        emulator.url,
        '--truststore',
        pki('server-ca.crt'),
        '--device-id',
        'proxy-device-001',
        '--cert',
        join(dir, 'd.pem'),
        '--key',
        join(dir, 'd.key'),
        '--max-wait',
        '1s',
        '--json',
      ],
      { C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-proxy-12345', HTTPS_PROXY: authed.url() },
    );
    expect(run.code).toBe(3);
    const error = (JSON.parse(run.stderr) as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
    expect(error.code).toBe('PROXY_AUTH_REQUIRED');
    expect(error.details).toMatchObject({ operation: 'simpleenroll', proxySource: 'HTTPS_PROXY' });
    expect(run.stderr).not.toContain('Otp-proxy-12345');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('cert enroll with the proxy credentials: enrolled through the tunnel; NO_PROXY exempts the EST host', async () => {
    emulator.registerEnrollment('proxy-device-002', 'Otp-proxy-67890');
    const dir = tempDir('c8ytoken-enroll-');
    const passwordFile = join(dir, 'proxy.pass');
    writeFileSync(passwordFile, 'proxy-secret\n', { mode: 0o600 });
    const tunnels = authed.tunnels;
    const args = ['enroll', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--device-id', 'proxy-device-002', '--cert', join(dir, 'd.pem'), '--key', join(dir, 'd.key')];
    const proxyUrl = authed.url('dev');
    const run = await cert([...args, '--proxy', proxyUrl, '--proxy-password-file', passwordFile], { C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-proxy-67890' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Two tunnels: the enrollment, and the token that proves the new certificate.
    expect(authed.tunnels).toBe(tunnels + 2);
    expect(run.stderr).not.toContain('proxy-secret');

    emulator.registerEnrollment('proxy-device-003', 'Otp-proxy-24680');
    const dir3 = tempDir('c8ytoken-enroll-');
    const direct = await cert(['enroll', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--device-id', 'proxy-device-003', '--cert', join(dir3, 'd.pem'), '--key', join(dir3, 'd.key')], {
      C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-proxy-24680',
      HTTPS_PROXY: authed.url(),
      NO_PROXY: new URL(emulator.url).hostname,
    });
    expect(direct.code).toBe(0);
    expect(authed.tunnels).toBe(tunnels + 2);
  });
});

describe('EST at a URL of its own, and a port that demands a client certificate', () => {
  it('--est-url (and C8YTOKEN_EST_URL) send enroll there; --url stays the token endpoint (the proof)', async () => {
    // Two endpoints: the token endpoint of --url (it trusts the EST CA, as the platform trusts its own) and the EST server of --est-url.
    const tokens = await new Emulator({ est: true }).start();
    try {
      emulator.registerEnrollment('est-url-device', 'Otp-est-url-1');
      const dir = tempDir('c8ytoken-enroll-');
      const args = ['enroll', '--url', tokens.url, '--truststore', pki('server-ca.crt'), '--device-id', 'est-url-device', '--cert', join(dir, 'd.pem'), '--key', join(dir, 'd.key')];
      const run = await cert([...args, '--est-url', emulator.url], { C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-est-url-1' });
      expect(run.code, run.stderr).toBe(0);
      expect(emulator.est!.requests.at(-1)).toMatchObject({ path: '/.well-known/est/simpleenroll', csrCn: 'est-url-device', status: 200 });
      expect(tokens.requests.map((r) => r.path)).toEqual(['/devicecontrol/deviceAccessToken']);
      emulator.registerEnrollment('est-url-env', 'Otp-est-url-2');
      const dir2 = tempDir('c8ytoken-enroll-');
      const env = await cert([...args.slice(0, 6), 'est-url-env', '--cert', join(dir2, 'd.pem'), '--key', join(dir2, 'd.key')], {
        C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-est-url-2',
        C8YTOKEN_EST_URL: emulator.url,
      });
      expect(env.code, env.stderr).toBe(0);
      expect(tokens.requests.map((r) => r.path)).toEqual(['/devicecontrol/deviceAccessToken', '/devicecontrol/deviceAccessToken']);
    } finally {
      await tokens.stop();
    }
  });

  it('cert enroll at the token port (it demands a client certificate): exit 3 EST_CLIENT_CERT_REQUIRED naming port 443, not "connection reset, retry later"', async () => {
    // The endpoint without `est` is the token port as the platform runs it: no client certificate, no handshake.
    const tokenPort = await new Emulator().start();
    try {
      const dir = tempDir('c8ytoken-enroll-');
      const run = await cert(['enroll', '--url', tokenPort.url, '--truststore', pki('server-ca.crt'), '--device-id', 'dev-8443', '--cert', join(dir, 'd.pem'), '--key', join(dir, 'd.key')], {
        C8YTOKEN_ONE_TIME_PASSWORD: 'Otp-8443',
      });
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/demands a client certificate for simpleenroll/);
      expect(run.stderr).toMatch(/EST is on the tenant's port 443/);
      expect(run.stderr).toContain('EST_CLIENT_CERT_REQUIRED');
      expect(run.stderr).not.toContain('Otp-8443');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await tokenPort.stop();
    }
  });
});
