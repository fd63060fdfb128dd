/**
 * The proxy contract through the CLI, in process (runMain): fetch, watch --once and verify-chain --connect
 * through real CONNECT proxies on loopback to the local mTLS endpoint; which proxy is used and why (flag,
 * C8YTOKEN_PROXY, HTTPS_PROXY/https_proxy, ALL_PROXY, config file, NO_PROXY, --proxy none), what each
 * proxy failure prints and exits with, and the proxy password nowhere in stderr or --json output.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { SECRET_VARIABLES, childEnvironment } from '../../src/core/config/environment.js';
import { tempDir, type CliRun } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki } from '../helpers/paths.js';
import { proxyFixture, startProxySet, type InterceptingProxy, type ProxySet, type TestProxy } from '../helpers/proxy.js';

const USER = 'dev ice';
const PASSWORD = 'p@ss:w/rd%secret';
const JWT = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/;
const PEM = ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')];

let emulator: Emulator;
let open: TestProxy;
let authed: TestProxy;
let strict: TestProxy;
let secure: TestProxy;
let mitm: InterceptingProxy;
let closedPort: number;
let proxies: ProxySet;

beforeAll(async () => {
  proxies = await startProxySet({ user: USER, password: PASSWORD });
  ({ emulator, open, authed, strict, secure, mitm, closedPort } = proxies);
});
afterAll(() => proxies.stop());

function fetch(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliRun> {
  return runMain(['fetch', '--url', emulator.url, '--truststore', pki('truststore.pem'), ...PEM, ...args], { env, ...(cwd ? { cwd } : {}) });
}

function expectToken(run: CliRun): void {
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout.trimEnd()).toMatch(JWT);
}

/** Neither stream holds the proxy password, raw or percent-encoded. */
function expectNoSecret(run: CliRun): void {
  for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), 'secret']) {
    expect(run.stderr).not.toContain(secret);
    expect(run.stdout).not.toContain(secret);
  }
}

/** The --json error line's code and details. */
function jsonError(run: CliRun): { code: string; exitCode: number; message: string; hint?: string; details: Record<string, unknown> } {
  return (JSON.parse(run.stderr.trim().split('\n').pop()!) as { error: { code: string; exitCode: number; message: string; hint?: string; details: Record<string, unknown> } }).error;
}

describe('fetch through a proxy: which one and why', () => {
  it('HTTPS_PROXY: the token comes through the tunnel, and -v says which proxy and where it came from', async () => {
    const before = open.tunnels;
    const run = await fetch(['-v'], { HTTPS_PROXY: open.url() });
    expectToken(run);
    expect(open.tunnels).toBe(before + 1);
    expect(run.stderr).toContain(`c8ytoken: proxy http://127.0.0.1:${open.port} (from HTTPS_PROXY); TLS to the platform stays end to end through the CONNECT tunnel`);
    expect(run.stderr).toContain(`through http://127.0.0.1:${open.port}`);
  });

  it('https_proxy and ALL_PROXY are read too; https_proxy wins over ALL_PROXY', async () => {
    const before = open.tunnels;
    const lower = await fetch(['-v'], { https_proxy: open.url(), ALL_PROXY: `http://127.0.0.1:${closedPort}` });
    expectToken(lower);
    expect(lower.stderr).toContain('(from https_proxy)');
    const all = await fetch(['-v'], { ALL_PROXY: open.url() });
    expectToken(all);
    expect(all.stderr).toContain('(from ALL_PROXY)');
    expect(open.tunnels).toBe(before + 2);
  });

  it('precedence: --proxy > C8YTOKEN_PROXY > HTTPS_PROXY > config "proxy"', async () => {
    const dead = `http://127.0.0.1:${closedPort}`;
    const dir = tempDir();
    writeFileSync(join(dir, '.c8ytokenrc.json'), JSON.stringify({ proxy: dead }));
    const flag = await fetch(['-v', '--proxy', open.url()], { C8YTOKEN_PROXY: dead, HTTPS_PROXY: dead }, dir);
    expectToken(flag);
    expect(flag.stderr).toContain('(from --proxy)');
    const own = await fetch(['-v'], { C8YTOKEN_PROXY: open.url(), HTTPS_PROXY: dead }, dir);
    expectToken(own);
    expect(own.stderr).toContain('(from C8YTOKEN_PROXY)');
    const standard = await fetch(['-v'], { HTTPS_PROXY: open.url() }, dir);
    expectToken(standard);
    expect(standard.stderr).toContain('(from HTTPS_PROXY)');
    writeFileSync(join(dir, '.c8ytokenrc.json'), JSON.stringify({ proxy: open.url() }));
    const config = await fetch(['-v'], {}, dir);
    expectToken(config);
    expect(config.stderr).toContain(`(from "proxy" in ${join(dir, '.c8ytokenrc.json')})`);
  });

  it('--proxy none ignores HTTPS_PROXY for this call', async () => {
    const before = open.tunnels;
    const run = await fetch(['-v', '--proxy', 'none'], { HTTPS_PROXY: open.url() });
    expectToken(run);
    expect(open.tunnels).toBe(before);
    expect(run.stderr).toContain('c8ytoken: no proxy: --proxy none');
  });

  it('NO_PROXY exempts the platform host (curl forms: names, leading dot, CIDR), and -v says which entry', async () => {
    const before = open.tunnels;
    const run = await fetch(['-v'], { HTTPS_PROXY: open.url(), NO_PROXY: '.corp.local, 10.0.0.0/8, localhost' });
    expectToken(run);
    expect(open.tunnels).toBe(before);
    expect(run.stderr).toContain(`no proxy: NO_PROXY entry "localhost" exempts the platform host (proxy http://127.0.0.1:${open.port} from HTTPS_PROXY bypassed)`);
  });

  it('-v without any proxy says so', async () => {
    const run = await fetch(['-v']);
    expectToken(run);
    expect(run.stderr).toContain('c8ytoken: no proxy: none set');
  });

  it('an invalid proxy setting is a configuration error (exit 3) naming the variable, password hidden', async () => {
    const run = await fetch([], { HTTPS_PROXY: `socks5://${USER}:${encodeURIComponent(PASSWORD)}@proxy.corp:1080` });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('from HTTPS_PROXY uses socks5://, which is not supported');
    expect(run.stderr).toContain('(error PROXY_INVALID, exit code 3)');
    expectNoSecret(run);
  });
});

describe('proxy credentials', () => {
  it('user and password in the URL (percent-encoded) are sent to the proxy', async () => {
    expectToken(await fetch([], { HTTPS_PROXY: authed.url(USER, PASSWORD) }));
  });

  it('--proxy-password-file, or C8YTOKEN_PROXY_PASSWORD, gives the password for the user in the URL', async () => {
    const file = join(tempDir(), 'proxy.pass');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    expectToken(await fetch(['--proxy', authed.url(USER), '--proxy-password-file', file]));
    expectToken(await fetch(['--proxy', authed.url(USER)], { C8YTOKEN_PROXY_PASSWORD: PASSWORD }));
  });

  it('a proxy password on the command line is refused (exit 2)', async () => {
    const run = await runMain(['fetch', `--proxy-password=${PASSWORD}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--proxy-password-file');
    expect(run.stderr).not.toContain(PASSWORD);
  });

  it('C8YTOKEN_PROXY_PASSWORD is kept from hooks, as the other password variables are', () => {
    expect(SECRET_VARIABLES).toContain('C8YTOKEN_PROXY_PASSWORD');
    expect(childEnvironment({ C8YTOKEN_PROXY_PASSWORD: 'x', HTTPS_PROXY: 'http://p:1' })).toEqual({ HTTPS_PROXY: 'http://p:1' });
  });

  it('a password in C8YTOKEN_PROXY is kept from hooks and exec too: the user and host pass, the password does not', () => {
    expect(childEnvironment({ C8YTOKEN_PROXY: `http://dev:${encodeURIComponent(PASSWORD)}@proxy.corp:3128` })).toEqual({ C8YTOKEN_PROXY: 'http://dev@proxy.corp:3128' });
    expect(childEnvironment({ C8YTOKEN_PROXY: `dev:${encodeURIComponent(PASSWORD)}@proxy.corp:3128` })).toEqual({ C8YTOKEN_PROXY: 'http://dev@proxy.corp:3128' });
    expect(childEnvironment({ C8YTOKEN_PROXY: `http://dev:${PASSWORD}@[bad` })).toEqual({});
    expect(childEnvironment({ C8YTOKEN_PROXY: 'http://proxy.corp:3128' })).toEqual({ C8YTOKEN_PROXY: 'http://proxy.corp:3128' });
  });
});

describe('what each proxy failure prints', () => {
  it('407 without credentials: exit 3, the proxy wants credentials, how to give them', async () => {
    const before = emulator.requests.length;
    const run = await fetch([], { HTTPS_PROXY: authed.url() });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`c8ytoken: The proxy http://127.0.0.1:${authed.port} (from HTTPS_PROXY) wants credentials: it answered CONNECT localhost:${emulator.port} with 407`);
    expect(run.stderr).toContain('--proxy-password-file FILE or C8YTOKEN_PROXY_PASSWORD');
    expect(run.stderr).toContain('(error PROXY_AUTH_REQUIRED, exit code 3)');
    expect(emulator.requests.length).toBe(before);
  });

  it('wrong credentials: exit 3, not accepted, the password never printed (also with --json and -v)', async () => {
    const url = authed.url(USER, `${PASSWORD}-wrong`);
    const run = await fetch(['-v'], { HTTPS_PROXY: url });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`The proxy http://${encodeURIComponent(USER)}:***@127.0.0.1:${authed.port} (from HTTPS_PROXY) did not accept the proxy credentials`);
    expectNoSecret(run);
    const json = await fetch(['--json'], { HTTPS_PROXY: url });
    expect(json.code).toBe(3);
    const err = jsonError(json);
    expect(err).toMatchObject({ code: 'PROXY_AUTH_REQUIRED', exitCode: 3 });
    expect(err.details).toMatchObject({ proxy: `http://${encodeURIComponent(USER)}:***@127.0.0.1:${authed.port}`, proxySource: 'HTTPS_PROXY', proxyStatus: 407, problem: 'rejected' });
    expectNoSecret(json);
  });

  it('a dead proxy: exit 5, the proxy refused the connection, NO_PROXY as the way round', async () => {
    const run = await fetch([], { HTTPS_PROXY: `http://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${closedPort}` });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`The proxy http://${encodeURIComponent(USER)}:***@127.0.0.1:${closedPort} (from HTTPS_PROXY) refused the connection: nothing listens there.`);
    expect(run.stderr).toContain('set NO_PROXY=localhost to connect directly, or --proxy none');
    expect(run.stderr).toContain('(error PROXY_UNREACHABLE, exit code 5)');
    expectNoSecret(run);
  });

  it('CONNECT refused with 403 (port policy): exit 5, the port hint', async () => {
    const run = await fetch(['--proxy', strict.url()]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`refused to open a tunnel to localhost:${emulator.port}: it answered CONNECT localhost:${emulator.port} with 403 Forbidden`);
    expect(run.stderr).toContain(`Proxies often allow CONNECT only to port 443, and the device token endpoint is on port ${emulator.port}`);
    expect(run.stderr).toContain('(error PROXY_REFUSED, exit code 5)');
  });

  it('an https:// proxy: works with --proxy-ca; without it the proxy is untrusted (exit 6) and --proxy-ca is the fix', async () => {
    const before = secure.tunnels;
    expectToken(await fetch(['--proxy', secure.url(), '--proxy-ca', proxyFixture('proxy-ca.crt')]));
    expect(secure.tunnels).toBe(before + 1);
    const run = await fetch(['--proxy', secure.url()]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`The TLS certificate of the proxy https://localhost:${secure.port} (from --proxy) is not trusted by the system's root CAs`);
    expect(run.stderr).toContain("Give the proxy's CA with --proxy-ca FILE");
    expect(run.stderr).toContain('(error PROXY_UNTRUSTED, exit code 6)');
  });

  it('a --proxy-ca that holds no certificate is a local input error (exit 4) naming it', async () => {
    const run = await fetch(['--proxy', secure.url(), '--proxy-ca', pki('device-rsa.key')]);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`The proxy CA file ${pki('device-rsa.key')}`);
  });

  it('a TLS-intercepting proxy: exit 6, mutual TLS cannot pass it, exempt the host', async () => {
    const run = await fetch([], { HTTPS_PROXY: mitm.url });
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('intercepts TLS');
    expect(run.stderr).toContain('Mutual TLS cannot pass a TLS-terminating proxy');
    expect(run.stderr).toContain('Exempt the platform host from the proxy: NO_PROXY=localhost');
    expect(run.stderr).toContain('(error PROXY_TLS_INTERCEPTED, exit code 6)');
  });

  it("the platform's own failure through the proxy stays the platform's, and says it went through the proxy", async () => {
    const run = await runMain(['fetch', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--keystore', pki('stranger-device.p12'), '--proxy', open.url(USER, PASSWORD)], {
      env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' },
    });
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('(error CLIENT_CERT_REJECTED, exit code 6)');
    expect(run.stderr).toContain(`The connection went through the proxy http://${encodeURIComponent(USER)}:***@127.0.0.1:${open.port} (from --proxy).`);
    expectNoSecret(run);
  });
});

describe('watch and verify-chain through a proxy', () => {
  it('watch --once gets and writes the token through the proxy', async () => {
    const file = join(tempDir(), 'token');
    const before = open.tunnels;
    const run = await runMain(['watch', '--once', '-o', file, '--url', emulator.url, '--truststore', pki('truststore.pem'), ...PEM, '-v'], { env: { HTTPS_PROXY: open.url() } });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(JWT);
    expect(open.tunnels).toBe(before + 1);
    expect(run.stderr).toContain('(from HTTPS_PROXY)');
  });

  it('watch with a bad proxy setting stops at once with exit 3', async () => {
    const run = await runMain(['watch', '-o', join(tempDir(), 'token'), '--url', emulator.url, ...PEM, '--proxy', 'ftp://proxy.corp:21']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('(error PROXY_INVALID, exit code 3)');
  });

  it('verify-chain --connect performs the handshake through the proxy', async () => {
    const before = open.tunnels;
    const run = await runMain(['verify-chain', '--connect', '--url', emulator.url, '--truststore', pki('truststore.pem'), ...PEM, '--proxy', open.url()]);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain(`TLS handshake with localhost:${emulator.port} through the proxy http://127.0.0.1:${open.port} (from --proxy)`);
    expect(run.stdout).toContain('Device certificate accepted');
    // With the device certificate, then without one (the evidence that the server requires it): two tunnels.
    expect(open.tunnels).toBe(before + 2);
  });

  it('verify-chain --connect reports the proxy failure as a failed check (exit 1), in words and in --json', async () => {
    const args = ['verify-chain', '--connect', '--url', emulator.url, '--truststore', pki('truststore.pem'), ...PEM];
    const run = await runMain([...args, '--proxy', authed.url(USER, 'wrong-secret')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Proxy: The proxy http://dev%20ice:***@127.0.0.1');
    expect(run.stdout).toContain('did not accept the proxy credentials');
    expectNoSecret(run);
    const json = await runMain([...args, '--json', '--proxy', strict.url()]);
    expect(json.code).toBe(1);
    const handshake = (JSON.parse(json.stdout) as { handshake: { proxyProblem: { code: string; message: string; details: Record<string, unknown> } } }).handshake;
    expect(handshake.proxyProblem).toMatchObject({ code: 'PROXY_REFUSED', details: { proxyStatus: 403 } });
    expect(handshake.proxyProblem.message).toContain('refused to open a tunnel');
  });

  it('verify-chain --connect names a TLS-intercepting proxy', async () => {
    const run = await runMain(['verify-chain', '--connect', '--url', emulator.url, '--truststore', pki('truststore.pem'), ...PEM, '--proxy', mitm.url]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('intercepts TLS');
  });
});

describe('help', () => {
  it('fetch --help lists the proxy options with their variables, and names the standard ones', async () => {
    const run = await runMain(['fetch', '--help']);
    expect(run.code).toBe(0);
    const help = run.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--proxy <url>');
    // The standard variables are the option's variables, in the order they weigh.
    expect(help).toContain('(env C8YTOKEN_PROXY, https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY)');
    expect(help).toContain('--proxy-ca <file>');
    expect(help).toContain('--proxy-password-file <file>');
    expect(help).toContain('(env C8YTOKEN_PROXY_PASSWORD)');
  });
});
