/** End to end: the built `c8ytoken verify-chain`, locally and with --connect against the local endpoint. */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { runMain } from '../helpers/main.js';
import { pki, RSA_DEVICE } from '../helpers/paths.js';

const env = { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit', LANG: 'C.UTF-8' };

describe('verify-chain', () => {
  it('passes a good keystore with a checklist, exit 0', async () => {
    const run = await runMain(['verify-chain', '--keystore', pki('device-ec256.jks'), '--device-ca', pki('device-root-ca.crt')], { env });
    expect(run.stdout).toMatch(/✔ Private key matches the device certificate/);
    expect(run.stdout).toMatch(/✔ Chain complete up to the device CA/);
    expect(run.stdout).toMatch(/Device user on the platform: device_ec-device-256/);
    expect(run.stdout).toMatch(/sha256\s+[0-9A-F:]{95}/);
    expect(run.stdout).toMatch(/All checks passed/);
    expect(run.code).toBe(0);
  });

  it('falls back to ASCII marks without a UTF-8 locale', async () => {
    const run = await runMain(['verify-chain', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')], { env: { LANG: 'C' } });
    expect(run.stdout).toMatch(/\[ok\] Private key matches/);
    expect(run.stdout).toMatch(/\[warn\] Chain complete and in order\n\s+no device CA given/);
    expect(run.code).toBe(0);
  });

  it('reports a failed check with the fix, exit 1; --json for scripts', async () => {
    const run = await runMain(['verify-chain', '--json', '--cert', pki('bad/pathlen-exceeded.chain.pem'), '--device-ca', pki('device-root-ca.crt')]);
    const report = JSON.parse(run.stdout) as { ok: boolean; checks: { id: string; verdict: string; fix?: string }[] };
    expect(report.ok).toBe(false);
    const failed = report.checks.filter((c) => c.verdict === 'fail');
    expect(failed.map((c) => c.id)).toEqual(['signers']);
    expect(failed[0]!.fix).toMatch(/pathLen/);
    expect(run.code).toBe(1);
  });

  it('labels the X-Ssl-Cert-Chain line with the mode in use', async () => {
    for (const mode of ['auto', 'none', 'full']) {
      const run = await runMain(['verify-chain', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--chain-header', mode], { env });
      expect(run.stdout).toMatch(new RegExp(`X-Ssl-Cert-Chain \\(${mode}\\) carries`));
    }
  });

  it('checks validity at --at', async () => {
    const run = await runMain(['verify-chain', '--cert', pki('device-rsa.chain.pem'), '--at', '2100-01-01']);
    expect(run.stdout).toMatch(/expired on 2099-12-31/);
    expect(run.code).toBe(1);
    const bad = await runMain(['verify-chain', '--cert', pki('device-rsa.chain.pem'), '--at', 'next year']);
    expect(bad.code).toBe(2);
  });

  it('exits 4 when the inputs cannot be read', async () => {
    const missing = await runMain(['verify-chain', '--cert', '/nonexistent/device.pem']);
    expect(missing.code).toBe(4);
    const wrong = await runMain(['verify-chain', '--keystore', pki('device-rsa.p12')], { env: { C8YTOKEN_KEYSTORE_PASSWORD: 'nope' } });
    expect(wrong.stderr).toMatch(/password .* is wrong/);
    expect(wrong.code).toBe(4);
  });
});

describe('verify-chain --connect', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await new Emulator().start();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('reports a trusted server, the TLS version and an accepted certificate, without requesting a token', async () => {
    const before = emulator.issued;
    const run = await runMain(['verify-chain', '--connect', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-rsa.p12')], { env });
    expect(run.stdout).toMatch(/✔ Server certificate trusted by .*truststore\.pem/);
    expect(run.stdout).toMatch(/TLS version: TLSv1\.3/);
    expect(run.stdout).toMatch(/✔ Device certificate accepted/);
    expect(run.code).toBe(0);
    expect(emulator.issued).toBe(before);
  });

  it('reports a rejected device certificate', async () => {
    const run = await runMain(['verify-chain', '--connect', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--keystore', pki('stranger-device.p12')], { env });
    expect(run.stdout).toMatch(/✖ Device certificate rejected/);
    expect(run.code).toBe(1);
  });

  it('says acceptance is unknown when the server asks for a certificate but goes on without one (as the EST port does)', async () => {
    const lenient = await new Emulator({ clientCheck: 'http' }).start();
    try {
      const run = await runMain(['verify-chain', '--connect', '--url', lenient.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-rsa.p12')], { env });
      expect(run.stdout).toMatch(/⚠ Device certificate acceptance unknown: the server also answers without a certificate \(HTTP 404/);
      expect(run.stdout).not.toMatch(/Device certificate accepted/);
      expect(run.code).toBe(0);
    } finally {
      await lenient.stop();
    }
  });

  it('says accepted only with the evidence: the server refuses the same request without a certificate', async () => {
    const run = await runMain(['verify-chain', '--connect', '--json', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-rsa.p12')], { env });
    const h = (JSON.parse(run.stdout) as { handshake: { clientVerdict: string; clientRequired: boolean; httpStatus: number } }).handshake;
    expect(h).toMatchObject({ clientVerdict: 'accepted', clientRequired: true, httpStatus: 404 });
  });

  it('names the local cause of a refusal: an expired certificate', async () => {
    const run = await runMain(
      ['verify-chain', '--connect', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--cert', pki('device-expired.chain.pem'), '--key', pki('device-expired.key')],
      { env },
    );
    expect(run.stdout).toMatch(/✖ Device certificate rejected/);
    expect(run.stdout).toMatch(/the device certificate \(.*device-expired\.chain\.pem\) expired on 2021-12-31T[\d:.]+Z, \d+ day\(s\) ago; that is the likely reason/);
    expect(run.code).toBe(1);
  });

  it('reports an untrusted server', async () => {
    const run = await runMain(['verify-chain', '--connect', '--url', emulator.url, '--keystore', pki('device-rsa.p12')], { env });
    expect(run.stdout).toMatch(/✖ Server certificate NOT trusted by Node's built-in root CAs/);
    expect(run.code).toBe(1);
  });
});

describe('names compared as RFC 5280 7.1 says', () => {
  // fixtures/regenerate-names.sh: the device's issuer is "O=c8ytoken fixtures, CN=c8ytoken Names CA" in
  // UTF8String; each CA has the same key and that name written another way.
  for (const variant of ['printable', 'case', 'spaces'] as const) {
    it(`chains a CA whose subject differs only in ${variant === 'printable' ? 'string type (PrintableString)' : variant === 'case' ? 'letter case' : 'whitespace'}`, async () => {
      const run = await runMain(['verify-chain', '--json', '--cert', pki('names/device.crt'), '--key', pki('names/device.key'), '--device-ca', pki(`names/ca-${variant}.crt`)]);
      const report = JSON.parse(run.stdout) as { ok: boolean; checks: { id: string; verdict: string }[] };
      expect(report.checks.find((c) => c.id === 'path')?.verdict).toBe('pass');
      expect(run.code).toBe(0);
    });
  }
  it('does not chain a CA whose name really differs', async () => {
    const run = await runMain(['verify-chain', '--json', '--cert', pki('names/device.crt'), '--device-ca', pki('names/ca-different.crt')]);
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as { checks: { id: string; verdict: string }[] }).checks.find((c) => c.id === 'path')?.verdict).toBe('fail');
  });
});

describe('a 401 or 403 to the request with the certificate (the platform: 401 "Invalid certificate chain!")', () => {
  let server: Server;
  let url: string;
  let status = 401;
  beforeAll(async () => {
    // Requires a certificate (none: the connection is closed), and refuses the one it gets with an HTTP status, as Cumulocity does.
    server = createServer({ key: readFileSync(pki('server.key')), cert: readFileSync(pki('server.crt')), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const socket = req.socket as TLSSocket;
      if (!socket.getPeerCertificate()?.raw) return void socket.destroy();
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'security/Unauthorized', message: 'Invalid certificate chain!' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://localhost:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const code of [401, 403]) {
    it(`HTTP ${code}: verify-chain --connect says rejected (never accepted); doctor fails the TLS step and does not go on to a token`, async () => {
      status = code;
      const identity = [...RSA_DEVICE];
      const run = await runMain(['verify-chain', '--connect', '--json', '--url', url, ...identity], { env });
      const h = (JSON.parse(run.stdout) as { handshake: { clientVerdict: string; httpStatus: number; refusal: { code: string } } }).handshake;
      expect(h).toMatchObject({ clientVerdict: 'refused', httpStatus: code, refusal: { code: code === 401 ? 'PLATFORM_UNAUTHORIZED' : 'PLATFORM_FORBIDDEN' } });
      expect(run.code).not.toBe(0);
      const human = await runMain(['verify-chain', '--connect', '--url', url, ...identity], { env });
      expect(human.stdout).not.toMatch(/Device certificate accepted/);
      expect(human.stdout.split('TLS handshake with')[1]).toMatch(new RegExp(`✖ Device certificate rejected.*HTTP ${code} "Invalid certificate chain!"`, 's'));
      const doctor = await runMain(['doctor', '--json', '--url', url, ...identity], { env });
      const checks = (JSON.parse(doctor.stdout) as { checks: { id: string; verdict: string }[] }).checks;
      expect(checks.find((c) => c.id === 'tls')?.verdict).toBe('fail');
      expect(checks.find((c) => c.id === 'token')?.verdict).toBe('skip');
    });
  }
});

describe('the local endpoint refusing a certificate with HTTP 401 (clientCheck http)', () => {
  let platform: Emulator;
  beforeAll(async () => {
    platform = await new Emulator({ clientCheck: 'http' }).start();
  });
  afterAll(async () => {
    await platform.stop();
  });

  it('doctor: the TLS step fails with the 401 and the token step is not run, rather than a passed TLS step and a failed token step', async () => {
    const identity = ['--truststore', pki('truststore.pem'), '--cert', pki('stranger-device.chain.pem'), '--key', pki('stranger-device.key')];
    const doctor = await runMain(['doctor', '--json', '--url', platform.url, ...identity], { env });
    const checks = (JSON.parse(doctor.stdout) as { checks: { id: string; verdict: string; details: string[] }[] }).checks;
    const tls = checks.find((c) => c.id === 'tls')!;
    expect(tls.verdict).toBe('fail');
    expect(tls.details.join('\n')).toMatch(/rejected: HTTP 401 "Invalid certificate chain!"/);
    expect(checks.find((c) => c.id === 'token')?.verdict).toBe('skip');
    expect(doctor.code).not.toBe(0);
  });
});
