/**
 * Operations: doctor (every step provoked to fail once), exec (environment, token file, exit codes), the
 * metadata sidecar, the half-life in every summary, and the pictures (timeline, chain tree). In process
 * against the local endpoint; exec's signal forwarding has a spawned test in test/e2e/exec.test.ts.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/server.js';
import { renderInspect } from '../../src/commands/inspect/output.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki, RSA_DEVICE } from '../helpers/paths.js';
import { localEndpoints } from '../helpers/endpoints.js';

const endpoint = localEndpoints();
const creds = (e: Emulator) => ['--url', e.url, ...RSA_DEVICE];

interface DoctorJson {
  ok: boolean;
  checks: { id: string; title: string; verdict: string; details: string[]; fix: string | null }[];
}
async function doctor(args: string[], options: Parameters<typeof runMain>[1] = {}): Promise<{ code: number | null; report: DoctorJson }> {
  const run = await runMain(['doctor', '--json', ...args], options);
  return { code: run.code, report: JSON.parse(run.stdout) as DoctorJson };
}
const verdict = (r: DoctorJson, id: string) => r.checks.find((c) => c.id === id)?.verdict;

describe('doctor', () => {
  it('walks the whole path: every step passes for a good setup, exit 0', async () => {
    const e = await endpoint();
    const { code, report } = await doctor([...creds(e), '--device-ca', pki('device-root-ca.crt')]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    for (const id of ['config', 'files', 'identity', 'chain.path', 'chain.validity', 'trust', 'dns', 'tcp', 'tls', 'token', 'clock']) expect(verdict(report, id), id).toBe('pass');
    expect(report.checks.find((c) => c.id === 'token')?.details.join()).toMatch(/new token possible from/);
  });

  const failures: [string, () => Promise<{ args: string[]; env?: Record<string, string>; cwd?: string }>, string, RegExp][] = [
    [
      'config',
      async () => {
        const cwd = tempDir();
        writeFileSync(join(cwd, '.c8ytokenrc.json'), '{"url": ');
        return { args: [], cwd };
      },
      'config',
      /cannot be parsed/,
    ],
    ['a missing file', async () => ({ args: ['--url', 'https://127.0.0.1:9', '--cert', pki('nope.pem'), '--key', pki('device-rsa.key')] }), 'files', /does not exist/],
    [
      'a wrong keystore password',
      async () => ({ args: ['--url', 'https://127.0.0.1:9', '--keystore', pki('device-rsa.p12')], env: { C8YTOKEN_KEYSTORE_PASSWORD: 'wrong' } }),
      'identity',
      /password .* is wrong/,
    ],
    [
      'a chain without its intermediate',
      async () => ({ args: ['--url', 'https://127.0.0.1:9', '--cert', pki('bad/missing-intermediate.chain.pem'), '--key', pki('device-rsa.key'), '--device-ca', pki('device-root-ca.crt')] }),
      'chain.path',
      /no path/,
    ],
    ['an unreadable truststore', async () => ({ args: ['--url', 'https://127.0.0.1:9', ...creds2(), '--truststore', pki('device-rsa.key')] }), 'trust', /holds no certificate|not a readable|neither/],
    ['an unusable proxy setting', async () => ({ args: ['--url', 'https://127.0.0.1:9', ...creds2(), '--proxy', 'ftp://proxy.example:21'] }), 'proxy', /proxy/i],
    ['no DNS', async () => ({ args: ['--url', 'https://no-such-tenant.c8ytoken-test.invalid', ...creds2()] }), 'dns', /cannot be resolved/],
    ['a closed port', async () => ({ args: ['--url', 'https://127.0.0.1:9', ...creds2()] }), 'tcp', /refused the connection/],
    ['an untrusted server', async () => ({ args: ['--url', (await endpoint()).url, ...creds2()] }), 'tls', /NOT trusted/],
    [
      'a rejected device certificate',
      async () => ({ args: ['--url', (await endpoint()).url, '--truststore', pki('truststore.pem'), '--cert', pki('stranger-device.chain.pem'), '--key', pki('stranger-device.key')] }),
      'tls',
      /rejected/,
    ],
    [
      'a token refused by the platform',
      async () => {
        const e = await endpoint();
        e.fault = 'http401';
        return { args: creds(e) };
      },
      'token',
      /HTTP 401/,
    ],
    ['a clock two hours off', async () => ({ args: creds(await endpoint({ lifetimeSeconds: 3600, now: () => Date.now() + 2 * 3_600_000 })) }), 'clock', /2 h behind the platform's/],
  ];
  function creds2(): string[] {
    return ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')];
  }
  for (const [name, setup, step, says] of failures) {
    it(`fails the ${step} step for ${name}, says why and what to do, skips what depends on it, exit 1`, async () => {
      const { args, env, cwd } = await setup();
      const { code, report } = await doctor(args, { ...(env ? { env } : {}), ...(cwd ? { cwd } : {}) });
      expect(code).toBe(1);
      const check = report.checks.find((c) => c.id === step)!;
      expect(check.verdict).toBe('fail');
      expect(check.details.join('\n')).toMatch(says);
      expect(check.fix).toBeTruthy();
      const after = report.checks.slice(report.checks.indexOf(check) + 1);
      if (['config', 'proxy', 'dns', 'tcp', 'tls'].includes(step)) expect(after.every((c) => c.verdict === 'skip' && /skipped: /.test(c.details[0]!))).toBe(true);
      // Each step once: a failed step is not listed again as skipped.
      expect(new Set(report.checks.map((c) => c.id)).size).toBe(report.checks.length);
    });
  }

  it('a proxy that is down fails the TCP step as the proxy’s failure, naming the setting and the bypass', async () => {
    const e = await endpoint();
    const { code, report } = await doctor(creds(e), { env: { HTTPS_PROXY: 'http://127.0.0.1:9' } });
    expect(code).toBe(1);
    const tcp = report.checks.find((c) => c.id === 'tcp')!;
    expect(tcp.title).toBe('TCP: port 9 of the proxy');
    expect(tcp.details.join(' ')).toMatch(/The proxy http:\/\/127\.0\.0\.1:9 \(from HTTPS_PROXY\) refused the connection/);
    expect(tcp.fix).toMatch(/NO_PROXY=localhost|--proxy none/);
    expect(e.requests).toHaveLength(0);
  });

  it('a bad flag is a usage error (exit 2), as for every command, not a failed step', async () => {
    const run = await runMain(['doctor', '--timeout', '0', '--url', 'https://t1.example']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/--timeout must be a duration like "30s", "5m" or "1h30m", not "0"\./);
  });

  it('warns (does not fail) for a clock a few minutes off', async () => {
    const e = await endpoint({ now: () => Date.now() - 5 * 60_000 });
    const { code, report } = await doctor(creds(e));
    expect(code).toBe(0);
    expect(verdict(report, 'clock')).toBe('warn');
    expect(report.checks.find((c) => c.id === 'clock')?.details[0]).toMatch(/5 min ahead of the platform's/);
  });

  it('prints a checklist with marks, ASCII without a UTF-8 locale', async () => {
    const e = await endpoint();
    const run = await runMain(['doctor', ...creds(e)], { env: { LANG: 'C' } });
    expect(run.stdout).toMatch(/\[ok\] TLS handshake/);
    expect(run.stdout).toMatch(/Nothing failed/);
  });
});

describe('exec', () => {
  const dump = (out: string) => [
    process.execPath,
    '-e',
    `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ env: process.env, mode: require('fs').statSync(process.env.C8Y_TOKEN_FILE).mode & 0o777, token: require('fs').readFileSync(process.env.C8Y_TOKEN_FILE, 'utf8') })); process.exit(3)`,
  ];

  it('runs the command with the session variables and a 0600 token file, removes the file after, and exits with its code', async () => {
    const e = await endpoint();
    const out = join(tempDir(), 'seen.json');
    const run = await runMain(['exec', ...creds(e), '--', ...dump(out)], { env: { C8YTOKEN_KEYSTORE_PASSWORD: 'secret-1', C8YTOKEN_KEY_PASSWORD: 'secret-2' } });
    expect(run.code).toBe(3);
    const seen = JSON.parse(readFileSync(out, 'utf8')) as { env: Record<string, string>; mode: number; token: string };
    expect(seen.env.C8Y_TOKEN).toMatch(/^eyJ/);
    expect(seen.env.C8Y_TOKEN).toBe(seen.token);
    expect(seen.env.C8Y_HEADER_AUTHORIZATION).toBe(`Bearer ${seen.token}`);
    expect(seen.env.C8Y_HOST).toBe(e.url);
    expect(seen.env.C8Y_TENANT).toBe('t12345');
    expect(seen.env.C8Y_USER).toBe('device_rsa-device-001');
    if (process.platform !== 'win32') expect(seen.mode).toBe(0o600);
    expect(seen.env.C8YTOKEN_KEYSTORE_PASSWORD).toBeUndefined();
    expect(seen.env.C8YTOKEN_KEY_PASSWORD).toBeUndefined();
    expect(existsSync(seen.env.C8Y_TOKEN_FILE!)).toBe(false);
  });

  it('keeps the file -o names', async () => {
    const e = await endpoint();
    const file = join(tempDir(), 'token');
    const run = await runMain(['exec', ...creds(e), '-o', file, '--', process.execPath, '-e', '0']);
    expect(run.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^eyJ/);
  });

  it('when no token can be had, exits with the token’s code and does not start the command', async () => {
    const marker = join(tempDir(), 'started');
    const run = await runMain([
      'exec',
      '--url',
      'https://127.0.0.1:9',
      ...['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')],
      '--',
      process.execPath,
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
    ]);
    expect(run.code).toBe(5);
    expect(existsSync(marker)).toBe(false);
  });

  it('a command that cannot be started is exit 127, said once', async () => {
    const e = await endpoint();
    const run = await runMain(['exec', ...creds(e), '--', 'c8ytoken-no-such-command']);
    expect(run.code).toBe(127);
    expect(run.stderr).toMatch(/cannot run c8ytoken-no-such-command/);
  });
});

describe('the metadata sidecar', () => {
  it('fetch -o --meta writes the times, device, tenant, certificate and clock, 0600, never the token', async () => {
    const e = await endpoint();
    const dir = tempDir();
    const run = await runMain(['fetch', ...creds(e), '-o', join(dir, 'token'), '--meta', join(dir, 'meta.json')]);
    expect(run.code).toBe(0);
    const text = readFileSync(join(dir, 'meta.json'), 'utf8');
    const meta = JSON.parse(text) as Record<string, unknown>;
    for (const k of ['issuedAt', 'expiresAt', 'refreshAfter', 'certificateNotAfter']) expect(meta[k]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(meta).toMatchObject({ deviceUser: 'device_rsa-device-001', tenant: 't12345', source: 'platform', clockOffsetSeconds: 0 });
    expect(meta.certificateSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(text).not.toContain(readFileSync(join(dir, 'token'), 'utf8'));
    if (process.platform !== 'win32') expect(statSync(join(dir, 'meta.json')).mode & 0o777).toBe(0o600);
    const again = await runMain(['fetch', ...creds(e), '-o', join(dir, 'token'), '--meta', join(dir, 'meta.json')]);
    expect(again.stderr).toMatch(/Reused/);
    expect(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'))).toMatchObject({ source: 'cache', certificateSha256: meta.certificateSha256 });
  });

  it('the config key "meta" gives it too', async () => {
    const e = await endpoint();
    const dir = tempDir();
    writeFileSync(join(dir, '.c8ytokenrc.json'), JSON.stringify({ meta: 'sidecar.json' }));
    expect((await runMain(['fetch', ...creds(e), '-o', join(dir, 'token')], { cwd: dir })).code).toBe(0);
    expect(existsSync(join(dir, 'sidecar.json'))).toBe(true);
  });
});

describe('the half-life and the pictures', () => {
  it('fetch says when a new token is possible', async () => {
    const e = await endpoint();
    expect((await runMain(['fetch', ...creds(e)])).stderr).toMatch(/New token possible from \S+ \(in (29|30) min\)/);
  });

  it('inspect draws the token’s life on a terminal: issue, half-life, expiry, now', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Date.now();
    const iat = Math.floor(now / 1000) - 1200;
    const token = `${b64({ alg: 'RS256' })}.${b64({ iat, exp: iat + 3600, sub: 'device_x' })}.c2ln`;
    const { inspectCommand } = await import('../../src/commands/inspect/inspect.js');
    const result = await inspectCommand({ input: token, check: false }, { stdin: () => process.stdin, stdinIsTTY: true, cwd: process.cwd(), now: () => now });
    const drawn = renderInspect(result, { color: false, showSecrets: false, now, timeline: { unicode: true } });
    expect(drawn).toMatch(/├─+▲─+┼─+┤/);
    expect(drawn).toMatch(/issued +half-life \d\d:\d\d +expiry/);
    const plain = renderInspect(result, { color: false, showSecrets: false, now });
    expect(plain).not.toMatch(/├/); // no picture without a terminal
  });

  it('verify-chain draws the chain as a tree on a terminal', async () => {
    const { verifyChainCommand } = await import('../../src/commands/verify-chain/verify-chain.js');
    const { loadSettings } = await import('../../src/core/config/settings.js');
    const { renderVerify } = await import('../../src/commands/verify-chain/output.js');
    const settings = await loadSettings({ flags: { cert: pki('device-rsa.chain.pem'), deviceCa: pki('device-root-ca.crt') }, env: {}, cwd: tempDir(), warn: () => undefined });
    const result = await verifyChainCommand(settings, { connect: false }, { env: {}, cwd: tempDir(), warn: () => undefined, progress: () => undefined, now: Date.now });
    const text = renderVerify(result, { color: false, unicode: true, tree: true });
    expect(text).toMatch(/c8ytoken Device Root CA \(device CA\)\n\s+└─✔ c8ytoken Device Intermediate CA \(intermediate\)\n\s+└─✔ rsa-device-001 \(device\)/);
  });
});

describe('messages say what was seen', () => {
  /** A TCP server on 127.0.0.1 that does `onConnection` with each socket; closed after the test. */
  async function tcpServer(onConnection: (s: Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      onConnection(s);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }
  const device = [...RSA_DEVICE];

  it("a timeout's hint names the URL's port, not 8443", async () => {
    const silent = await tcpServer(() => undefined);
    try {
      const run = await runMain(['fetch', '--url', `https://localhost:${silent.port}`, '--timeout', '500ms', ...device]);
      expect(run.code).toBe(5);
      expect(run.stderr).toContain(`Check the network path to port ${silent.port}, or raise --timeout.`);
      expect(run.stderr).not.toContain('8443');
    } finally {
      await silent.close();
    }
  });

  it("a failed handshake's hint names the URL's port, not 8443", async () => {
    const plain = await tcpServer((s) => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    try {
      const run = await runMain(['fetch', '--url', `https://localhost:${plain.port}`, ...device]);
      expect(run.code).toBe(6);
      expect(run.stderr).toContain(`Check that port ${plain.port} of https://localhost:${plain.port} is the tenant's mTLS token endpoint`);
    } finally {
      await plain.close();
    }
  });

  it("no double full stop after the platform's own message", async () => {
    const e = await endpoint();
    e.fault = 'http404';
    const run = await runMain(['fetch', ...creds(e)]);
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('The platform said: Not Found: This feature is disabled, please contact system administrator.');
    expect(run.stderr).not.toMatch(/\.\./);
  });

  it('an expired certificate refused in the handshake: the expiry first, as an ISO 8601 time', async () => {
    const e = await endpoint();
    const run = await runMain(['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--cert', pki('device-expired.chain.pem'), '--key', pki('device-expired.key')]);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/expired on 2021-12-31T23:59:59Z, \d+ day\(s\) ago; that is the likely reason/);
  });

  it('a certificate without its intermediate: the missing issuer is named first, as a possible cause, then what the server did', async () => {
    const e = await endpoint();
    const run = await runMain(['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--cert', pki('bad/missing-intermediate.chain.pem'), '--key', pki('device-rsa.key')]);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(
      /missing-intermediate\.chain\.pem holds the device certificate alone, and its issuer \(CN=c8ytoken Device Intermediate CA, O=c8ytoken fixtures\) is not in it: if the server does not trust that issuer itself, an intermediate is missing\. Otherwise: the server did not accept the device certificate\./,
    );
  });

  it('a refusal of a good certificate names no local cause', async () => {
    const e = await endpoint();
    e.fault = 'http401';
    const run = await runMain(['fetch', ...creds(e)]);
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('answered HTTP 401: a certificate is revoked or the chain is not valid for this tenant.');
    expect(run.stderr).not.toMatch(/likely reason|Otherwise/);
  });

  it('the help of the EST commands says port 443, and that enroll WRITES --cert and --key', async () => {
    const enroll = await runMain(['cert', 'enroll', '--help']);
    const text = enroll.stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(/--url <url> tenant URL: the certificate request \(EST\) goes to port 443/);
    expect(text).toMatch(/--cert <file> the PEM device certificate enroll WRITES/);
    expect(text).toMatch(/--key <file> the PEM private key enroll WRITES/);
    const renew = await runMain(['cert', 'renew', '--help']);
    expect(renew.stdout.replace(/\s+/g, ' ')).toMatch(/--url <url> tenant URL: the certificate request \(EST\) goes to port 443 \(or --est-url\) and the token request to port 8443/);
  });
});
