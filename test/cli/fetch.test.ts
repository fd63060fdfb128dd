/**
 * End to end: the built `c8ytoken fetch` against the local Cumulocity-like endpoint over real mutual TLS,
 * with every credential kind and every failure class, asserting stdout, stderr and the exit code.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type Fault } from '../emulator/server.js';
import { tempDir, type CliRun } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki } from '../helpers/paths.js';
import { hasCommand } from '../helpers/softhsm.js';

const PASSWORDS = { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit', C8YTOKEN_TRUSTSTORE_PASSWORD: 'changeit' };
const JWT = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator().start();
});
afterAll(async () => {
  await emulator.stop();
});

function fetch(args: string[], env: Record<string, string> = {}, url = emulator.url): Promise<CliRun> {
  return runMain(['fetch', '--url', url, '--truststore', pki('truststore.pem'), ...args], { env: { ...PASSWORDS, ...env } });
}

function expectToken(run: CliRun, sub: string): string {
  expect(run.stderr).toContain(`Token for device_${sub} on tenant t12345`);
  expect(run.code).toBe(0);
  expect(run.stdout.endsWith('\n')).toBe(true);
  const token = run.stdout.trimEnd();
  expect(token).toMatch(JWT);
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  expect(claims.sub).toBe(`device_${sub}`);
  return token;
}

describe('fetch with every credential kind', () => {
  const cases: [string, string[], string][] = [
    ['PEM chain + PKCS#8 RSA key', ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')], 'rsa-device-001'],
    ['PEM chain + PKCS#1 RSA key', ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.pkcs1.key')], 'rsa-device-001'],
    ['PEM chain + SEC1 EC P-256 key', ['--cert', pki('device-ec256.chain.pem'), '--key', pki('device-ec256.sec1.key')], 'ec-device-256'],
    ['PEM chain + encrypted PKCS#8 key', ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.enc-pkcs8.key'), '--key-password-file', pki('key.pass')], 'rsa-device-001'],
    [
      'PEM chain + traditional encrypted EC P-384 key',
      ['--cert', pki('device-ec384.chain.pem'), '--key', pki('device-ec384.enc-traditional.key'), '--key-password-file', pki('key.pass')],
      'ec-device-384',
    ],
    ['OpenSSL 3 PKCS#12, RSA', ['--keystore', pki('device-rsa.p12')], 'rsa-device-001'],
    ['OpenSSL 3 PKCS#12, EC P-256', ['--keystore', pki('device-ec256.p12')], 'ec-device-256'],
    ['OpenSSL 3 PKCS#12, EC P-384', ['--keystore', pki('device-ec384.p12')], 'ec-device-384'],
    ['legacy PKCS#12 (RC2/3DES), RSA', ['--keystore', pki('device-rsa.legacy.p12')], 'rsa-device-001'],
    ['legacy PKCS#12 (RC2/3DES), EC P-256', ['--keystore', pki('device-ec256.legacy.p12')], 'ec-device-256'],
    ['keytool PKCS#12, EC P-384', ['--keystore', pki('device-ec384.keytool.p12')], 'ec-device-384'],
    ['keytool PKCS#12, RSA', ['--keystore', pki('device-rsa.keytool.p12')], 'rsa-device-001'],
    ['JKS, RSA', ['--keystore', pki('device-rsa.jks')], 'rsa-device-001'],
    ['JKS, EC P-256, with a JKS truststore', ['--keystore', pki('device-ec256.jks'), '--truststore', pki('truststore.jks')], 'ec-device-256'],
    ['JKS, EC P-384, with a PKCS#12 truststore', ['--keystore', pki('device-ec384.jks'), '--truststore', pki('truststore.p12')], 'ec-device-384'],
    ['PKCS#12 content in a .jks file', ['--keystore', pki('device-rsa.pkcs12-named.jks')], 'rsa-device-001'],
    ['JKS with two entries, by alias', ['--keystore', pki('two-devices.jks'), '--alias', 'ec'], 'ec-device-256'],
    ['JKS with a separate key password', ['--keystore', pki('device-rsa.keypass.jks'), '--key-password-file', pki('key.pass')], 'rsa-device-001'],
  ];
  for (const [name, args, sub] of cases) {
    it(name, async () => {
      expectToken(await fetch(args), sub);
    });
  }

  it('reads credentials from the environment names other Cumulocity tools use', async () => {
    const run = await runMain(['fetch', '--truststore', pki('truststore.pem')], {
      env: { C8Y_HOST: emulator.url, C8Y_CERTIFICATE_FILE: pki('device-ec256.chain.pem'), C8Y_CERTIFICATE_KEY_FILE: pki('device-ec256.key') },
    });
    expectToken(run, 'ec-device-256');
  });

  it('reads everything from a config file with a profile', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, '.c8ytokenrc.yaml'),
      [
        `url: https://nowhere.invalid`,
        `truststore: ${pki('truststore.pem')}`,
        'profiles:',
        '  local:',
        `    url: ${emulator.url}`,
        `    keystore:`,
        `      path: ${pki('device-ec384.p12')}`,
        `      passwordFile: ${pki('store.pass')}`,
      ].join('\n'),
      { mode: 0o600 },
    );
    const run = await runMain(['fetch', '--profile', 'local'], { cwd: dir });
    expectToken(run, 'ec-device-384');
  });
});

describe('the request', () => {
  it('is a POST with an empty body, Accept JSON, no Authorization, leaf + intermediate in the handshake', async () => {
    const before = emulator.requests.length;
    expectToken(await fetch(['--keystore', pki('device-rsa.p12')]), 'rsa-device-001');
    const req = emulator.requests[before]!;
    expect(req).toMatchObject({ method: 'POST', path: '/devicecontrol/deviceAccessToken', accept: 'application/json', authorization: false, contentLength: 0 });
    expect(req.handshakeChain.slice(0, 2)).toEqual(['rsa-device-001', 'c8ytoken Device Intermediate CA']);
    expect(req.chainHeaderCount).toBe(1);
  });

  it('sends X-Ssl-Cert-Chain per --chain-header', async () => {
    for (const [mode, count] of [
      ['none', undefined],
      ['full', 2],
      ['auto', 1],
    ] as const) {
      const before = emulator.requests.length;
      expectToken(await fetch(['--keystore', pki('device-ec256.p12'), '--chain-header', mode]), 'ec-device-256');
      expect(emulator.requests[before]!.chainHeaderCount).toBe(count);
    }
  });

  it('gets the same token again before half-life', async () => {
    const a = expectToken(await fetch(['--keystore', pki('device-ec384.jks')]), 'ec-device-384');
    const b = expectToken(await fetch(['--keystore', pki('device-ec384.jks')]), 'ec-device-384');
    expect(b).toBe(a);
  });
});

describe('output forms', () => {
  const creds = () => ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')];

  it('--format header is one curl header line', async () => {
    const run = await fetch([...creds(), '--format', 'header']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Authorization: Bearer eyJ[\w.-]+\n$/);
  });

  it('--format json has token, claims and ISO times', async () => {
    const run = await fetch([...creds(), '--format', 'json']);
    const body = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(body.token).toMatch(JWT);
    expect((body.claims as Record<string, unknown>).ten).toBe('t12345');
    for (const k of ['issuedAt', 'expiresAt', 'refreshAfter']) expect(body[k]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('--format env prints the go-c8y-cli session variables for each shell', async () => {
    const bash = await fetch([...creds(), '--format', 'env']);
    // C8Y_HOST keeps the port the user gave, so the next call in the same shell goes there.
    expect(bash.stdout).toMatch(
      /^export C8Y_TOKEN='eyJ[\w.-]+'\nexport C8Y_HOST='https:\/\/localhost:\d+'\nexport C8Y_TENANT='t12345'\nexport C8Y_USER='device_rsa-device-001'\nexport C8Y_HEADER_AUTHORIZATION='Bearer eyJ[\w.-]+'\n$/,
    );
    const fish = await fetch([...creds(), '--format', 'env', '--shell', 'fish']);
    expect(fish.stdout).toContain("set -gx C8Y_TENANT 't12345'");
    const ps = await fetch([...creds(), '--format', 'env', '--shell', 'powershell']);
    expect(ps.stdout).toContain("$env:C8Y_USER = 'device_rsa-device-001'");
  });

  it('-o writes the token atomically, mode 0600, without a newline, and prints nothing on stdout', async () => {
    const file = join(tempDir(), 'token');
    const run = await fetch([...creds(), '-o', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`written to ${file}`);
    const content = readFileSync(file, 'utf8');
    expect(content).toMatch(JWT);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('-q prints only the token', async () => {
    const run = await fetch([...creds(), '-q']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toMatch(JWT);
  });
});

interface FailureCase {
  name: string;
  args?: string[];
  fault?: Fault;
  url?: () => string;
  exit: number;
  code: string;
  says: RegExp;
}

describe('failures: exit code, stable code, a message naming the cause and the next step', () => {
  const creds = ['--keystore', pki('device-rsa.p12')];
  const cases: FailureCase[] = [
    { name: 'HTTP 400', fault: 'http400', exit: 7, code: 'PLATFORM_BAD_REQUEST', says: /HTTP 400.*Cannot parse X509 certificate/ },
    { name: 'HTTP 401', fault: 'http401', exit: 7, code: 'PLATFORM_UNAUTHORIZED', says: /HTTP 401.*Invalid certificate chain!/ },
    { name: 'HTTP 403', fault: 'http403', exit: 7, code: 'PLATFORM_FORBIDDEN', says: /HTTP 403/ },
    { name: 'HTTP 404', fault: 'http404', exit: 7, code: 'PLATFORM_FEATURE_DISABLED', says: /This feature is disabled/ },
    { name: 'HTTP 422', fault: 'http422', exit: 7, code: 'PLATFORM_UNPROCESSABLE', says: /Cannot process certificate data/ },
    { name: 'HTTP 500', fault: 'http500', exit: 8, code: 'PLATFORM_ERROR', says: /HTTP 500/ },
    { name: 'HTTP 503', fault: 'http503', exit: 8, code: 'PLATFORM_ERROR', says: /HTTP 503.*temporarily unavailable/ },
    { name: 'HTTP 429', fault: 'http429', exit: 8, code: 'PLATFORM_BUSY', says: /HTTP 429/ },
    { name: 'an nginx HTML page', fault: 'html400', exit: 7, code: 'PLATFORM_BAD_REQUEST', says: /"400 The SSL certificate error"/ },
    { name: 'a 200 whose body is not JSON', fault: 'not-json', exit: 8, code: 'BAD_RESPONSE', says: /not JSON/ },
    { name: 'a 200 without accessToken', fault: 'no-token', exit: 8, code: 'NO_TOKEN', says: /without a usable token \(no accessToken\)/ },
    { name: 'a 200 whose token is not a JWT', fault: 'not-jwt', exit: 8, code: 'NO_TOKEN', says: /not a JWT/ },
    { name: 'an oversized body', fault: 'oversized', exit: 8, code: 'RESPONSE_TOO_LARGE', says: /over 1 MiB/ },
    { name: 'a redirect', fault: 'redirect', exit: 7, code: 'PLATFORM_REFUSED', says: /redirect/ },
    { name: 'a timeout', fault: 'hang', args: ['--timeout', '500ms'], exit: 5, code: 'TIMEOUT', says: /within 1 s/ }, // 500 ms is shown as 1 s
    {
      name: 'an untrusted client certificate (TLS 1.3 reset)',
      args: ['--keystore', pki('stranger-device.p12')],
      exit: 6,
      code: 'CLIENT_CERT_REJECTED',
      says: /did not accept the device certificate|rejected the device certificate/,
    },
    { name: 'an expired client certificate', args: ['--keystore', pki('device-expired.p12')], exit: 6, code: 'CLIENT_CERT_REJECTED', says: /device certificate/ },
    { name: 'a server certificate not in the truststore', args: ['--truststore', pki('device-root-ca.crt')], exit: 6, code: 'SERVER_UNTRUSTED', says: /not trusted by .*device-root-ca\.crt/ },
    { name: 'a wrong keystore password', args: ['--keystore-password-file', pki('key.pass')], exit: 4, code: 'WRONG_PASSWORD', says: /keystore password for .*device-rsa\.p12 is wrong/ },
    {
      name: 'a key that does not match the certificate',
      args: ['--cert', pki('device-rsa.crt'), '--key', pki('mismatch.key')],
      exit: 4,
      code: 'KEY_MISMATCH',
      says: /does not belong to the certificate/,
    },
    { name: 'a missing keystore', args: ['--keystore', '/nonexistent/device.p12'], exit: 4, code: 'FILE_NOT_FOUND', says: /\/nonexistent\/device\.p12 does not exist/ },
    { name: 'a refused connection', url: () => 'https://127.0.0.1:1', exit: 5, code: 'CONNECTION_REFUSED', says: /refused the connection/ },
    { name: 'a DNS failure', url: () => 'https://no-such-tenant.c8ytoken-test.invalid', args: ['--timeout', '10s'], exit: 5, code: 'DNS_FAILED', says: /cannot be resolved/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      if (c.fault) {
        emulator.fault = c.fault;
        emulator.faultCount = 1;
      }
      try {
        const extra = c.args ?? [];
        const usesPem = extra.includes('--cert') || extra.includes('--keystore');
        const run = await runMain(['fetch', '--json', '--url', c.url ? c.url() : emulator.url, '--truststore', pki('truststore.pem'), ...(usesPem ? [] : creds), ...extra], { env: PASSWORDS });
        expect(run.stdout).toBe('');
        const error = (JSON.parse(run.stderr.trim().split('\n').pop()!) as { error: { code: string; message: string; hint: string; exitCode: number } }).error;
        expect(error.code).toBe(c.code);
        expect(error.message).toMatch(c.says);
        expect(error.hint.length).toBeGreaterThan(10);
        expect(run.code).toBe(c.exit);
      } finally {
        emulator.fault = undefined;
      }
    });
  }

  it('a host name mismatch', async () => {
    const wrong = await new Emulator({ serverCert: 'wronghost' }).start();
    try {
      const run = await fetch(creds, {}, wrong.url);
      expect(run.stderr).toMatch(/not valid for the name localhost/);
      expect(run.stderr).toContain('HOSTNAME_MISMATCH');
      expect(run.code).toBe(6);
    } finally {
      await wrong.stop();
    }
  });

  // A server certificate the truststore's CA signed but not for servers (extended key usage clientAuth):
  // OpenSSL's INVALID_PURPOSE, a TLS failure to fix in the certificates, not a network one to retry.
  it.skipIf(!hasCommand('openssl'))(`a server certificate not issued for servers${hasCommand('openssl') ? '' : ' (skipped: no openssl)'}`, async () => {
    const dir = tempDir();
    const openssl = (...args: string[]): void => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=Test Purpose CA',
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
    openssl('req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:localhost\nextendedKeyUsage=clientAuth\n');
    openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '30', '-extfile', 'leaf.ext');
    const server = createServer({ key: readFileSync(join(dir, 'leaf.key')), cert: readFileSync(join(dir, 'leaf.crt')) }, (_, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://localhost:${(server.address() as AddressInfo).port}`;
      const run = await runMain(['fetch', '--url', url, '--truststore', join(dir, 'ca.crt'), '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')]);
      expect(run.stderr).toContain('SERVER_UNTRUSTED');
      expect(run.stderr).toContain('INVALID_PURPOSE');
      expect(run.code).toBe(6);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a client certificate refused under TLS 1.2 (a handshake alert)', async () => {
    const tls12 = await new Emulator({ maxVersion: 'TLSv1.2' }).start();
    try {
      const run = await fetch(['--keystore', pki('stranger-device.p12')], {}, tls12.url);
      expect(run.stderr).toContain('CLIENT_CERT_REJECTED');
      expect(run.stderr).toMatch(/verify-chain/);
      expect(run.code).toBe(6);
    } finally {
      await tls12.stop();
    }
  });

  it('no built-in root trusts a private platform CA', async () => {
    const run = await runMain(['fetch', '--url', emulator.url, '--keystore', pki('device-rsa.p12')], { env: PASSWORDS });
    expect(run.stderr).toContain('SERVER_UNTRUSTED');
    expect(run.stderr).toMatch(/--truststore/);
    expect(run.code).toBe(6);
  });

  it('usage and configuration errors', async () => {
    const noUrl = await runMain(['fetch', '--keystore', pki('device-rsa.p12')], { env: PASSWORDS });
    expect(noUrl.stderr).toMatch(/No tenant URL is configured[\s\S]*--url/);
    expect(noUrl.code).toBe(3);
    const bare = await runMain([]);
    expect(bare.stderr).toMatch(/Usage: c8ytoken/);
    expect(bare.code).toBe(2);
    const help = await runMain(['fetch', '--help']);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.code).toBe(0);
    const unknown = await runMain(['fetch', '--frobnicate']);
    expect(unknown.stderr).toMatch(/Unknown option '--frobnicate'[\s\S]*c8ytoken COMMAND --help/);
    expect(unknown.code).toBe(2);
    // A mistyped password flag is not echoed with its value, and --json makes a parse error one JSON line.
    const mistyped = await runMain(['--json', 'fetch', '--storepass=changeit']);
    expect(mistyped.code).toBe(2);
    expect(mistyped.stderr).not.toContain('changeit');
    expect(JSON.parse(mistyped.stderr)).toMatchObject({ error: { code: 'USAGE', exitCode: 2, message: "Unknown option '--storepass=…'." } });
    const argvPassword = await runMain(['fetch', '--keystore-password=changeit']);
    expect(argvPassword.stderr).toMatch(/never takes passwords on the command line/);
    expect(argvPassword.stderr).not.toContain('changeit');
    expect(argvPassword.code).toBe(2);
    const noPassword = await runMain(['fetch', '--url', emulator.url, '--keystore', pki('device-rsa.p12')]);
    expect(noPassword.stderr).toMatch(/needs its password[\s\S]*C8YTOKEN_KEYSTORE_PASSWORD/);
    expect(noPassword.code).toBe(3);
  });

  it('an output folder that does not exist fails before any request', async () => {
    const before = emulator.requests.length;
    const run = await fetch([...creds, '-o', '/nonexistent-dir/token']);
    expect(run.stderr).toMatch(/folder \/nonexistent-dir does not exist/);
    expect(run.code).toBe(9);
    expect(emulator.requests.length).toBe(before);
  });

  it('prints no stack trace without --verbose', async () => {
    const run = await fetch(['--keystore', pki('device-rsa.crt')]);
    expect(run.code).toBe(4);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('an existing token file is never lost', () => {
  const failures: [string, string[], Fault | undefined][] = [
    ['HTTP 500', [], 'http500'],
    ['a 200 with a non-JWT token', [], 'not-jwt'],
    ['a 200 with an empty body', [], 'no-token'],
    ['an oversized body', [], 'oversized'],
    ['a wrong password', ['--keystore-password-file', pki('key.pass')], undefined],
    ['a rejected client certificate', ['--keystore', pki('stranger-device.p12')], undefined],
  ];
  for (const [name, args, fault] of failures) {
    it(`after ${name}, byte for byte`, async () => {
      const file = join(tempDir(), 'token');
      const original = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbGQifQ.c2lnbmF0dXJl';
      writeFileSync(file, original, { mode: 0o600 });
      if (fault) {
        emulator.fault = fault;
        emulator.faultCount = 1;
      }
      try {
        const keystore = args.includes('--keystore') ? [] : ['--keystore', pki('device-rsa.p12')];
        const run = await fetch([...keystore, ...args, '-o', file]);
        expect(run.code).not.toBe(0);
        expect(readFileSync(file, 'utf8')).toBe(original);
        const { readdirSync } = await import('node:fs');
        expect(readdirSync(join(file, '..'))).toEqual(['token']); // no temp file left behind
      } finally {
        emulator.fault = undefined;
      }
    });
  }
});

describe('secrets stay secret', () => {
  it('--verbose shows the steps, never a password or the token', async () => {
    const run = await fetch(['--keystore', pki('device-rsa.p12'), '--verbose']);
    const token = run.stdout.trim();
    expect(token).toMatch(JWT);
    expect(run.stderr).toMatch(/POST https:\/\/localhost:\d+\/devicecontrol\/deviceAccessToken/);
    expect(run.stderr).not.toContain('changeit');
    expect(run.stderr).not.toContain(token.split('.')[2]!);
    expect(run.stderr).not.toContain('PRIVATE KEY');
  });

  it('a wrong-password error does not echo the password', async () => {
    const run = await fetch(['--keystore', pki('device-rsa.p12'), '--verbose'], { C8YTOKEN_KEYSTORE_PASSWORD: 'hunter2-secret' });
    expect(run.code).toBe(4);
    expect(run.stderr).not.toContain('hunter2-secret');
  });
});
