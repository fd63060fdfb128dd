/**
 * Through a real CONNECT proxy on loopback to the local mTLS endpoint, in process (postTokenRequest and
 * probeHandshake, below the CLI): the device certificate reaches the platform through the tunnel, the
 * token crosses the proxy only encrypted, and each proxy failure is classified as the proxy's, with the
 * proxy in its facts and its credentials nowhere in the facts or words. test/cli/proxy.test.ts runs the
 * same cases through the CLI.
 */
import { inspect } from 'node:util';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { readCertificates } from '../../src/core/x509/read.js';
import type { ClientIdentity } from '../../src/core/credentials/identity.js';
import type { Trust } from '../../src/core/credentials/truststore.js';
import { C8yError, exitCodeFor } from '../../src/core/errors.js';
import { postTokenRequest, type RawResponse } from '../../src/core/platform/request.js';
import { probeHandshake } from '../../src/core/platform/handshake.js';
import { tokenEndpoint } from '../../src/core/platform/endpoint.js';
import { createProxyRoute, type ProxyAgentOptions, type ProxyRoute } from '../../src/core/platform/proxy/agent.js';
import { selectProxy } from '../../src/core/platform/proxy/select.js';
import { describeError } from '../../src/output/messages.js';
import { caught } from '../helpers/errors.js';
import { pki } from '../helpers/paths.js';
import { proxyFixture, startProxySet, type InterceptingProxy, type ProxySet, type TestProxy } from '../helpers/proxy.js';

const USER = 'dev ice';
const PASSWORD = 'p@ss:w/rd%secret';
const identity = (name: string): ClientIdentity => ({
  key: createPrivateKey(readFileSync(pki(`${name}.key`))),
  chain: readCertificates(readFileSync(pki(`${name}.chain.pem`)), name, 'certificate'),
  extra: [],
  source: name,
});
const trust: Trust = { cas: readCertificates(readFileSync(pki('truststore.pem')), 'truststore.pem', 'truststore'), source: 'truststore.pem' };
const rsa = identity('device-rsa');
const ec = identity('device-ec256');

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

async function route(proxyUrl: string, options: ProxyAgentOptions = {}, env: NodeJS.ProcessEnv = {}): Promise<ProxyRoute | undefined> {
  return createProxyRoute(selectProxy({ flag: proxyUrl, env, target: new URL(emulator.url) }), options);
}

async function post(proxy: ProxyRoute | undefined, who = rsa, trustIn: Trust = trust): Promise<RawResponse> {
  return postTokenRequest({ endpoint: tokenEndpoint(new URL(emulator.url)), identity: who, trust: trustIn, chainHeader: 'auto', timeoutMs: 10_000, ...(proxy ? { proxy } : {}) });
}

/** No message, hint, facts or cause text of err holds the proxy password (raw or percent-encoded). */
function expectNoSecret(err: C8yError): void {
  const { message, hint } = describeError(err);
  const text = [message, hint ?? '', err.message, JSON.stringify(err.facts), inspect(err.cause)].join('\n');
  for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), 'secret']) expect(text).not.toContain(secret);
}

describe('a token request through a CONNECT proxy', () => {
  it('gets a token, and the platform sees the device certificate that came through the tunnel', async () => {
    const before = { tunnels: open.tunnels, requests: emulator.requests.length };
    const res = await post(await route(open.url()), ec);
    expect(res.status).toBe(200);
    expect(open.tunnels).toBe(before.tunnels + 1);
    expect(open.connects.at(-1)!.target).toBe(`localhost:${emulator.port}`);
    const seen = emulator.requests[before.requests]!;
    expect(seen.clientCn).toBe('ec-device-256');
    // The same handshake as a direct request (what each Node reports of the client's chain differs).
    await post(undefined, ec);
    expect(seen.handshakeChain).toEqual(emulator.requests.at(-1)!.handshakeChain);
    // End to end: the token crossed the proxy, but only inside TLS.
    const token = (JSON.parse(res.body.toString()) as { accessToken: string }).accessToken;
    expect(open.relayedText().length).toBeGreaterThan(token.length);
    expect(open.relayedText()).not.toContain(token.split('.')[1]!);
  });

  it('authenticates to the proxy with the user and password of the URL (percent-decoded)', async () => {
    const res = await post(await route(authed.url(USER, PASSWORD)));
    expect(res.status).toBe(200);
    expect(authed.connects.at(-1)!.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
  });

  it('takes the password from a password file (proxyPassword) with the user in the URL', async () => {
    const res = await post(await route(authed.url(USER), { proxyPassword: PASSWORD }));
    expect(res.status).toBe(200);
  });

  it('missing credentials: 407 is the proxy asking for credentials (exit 3), not the platform answering', async () => {
    const before = emulator.requests.length;
    const err = await caught(post(await route(authed.url())));
    expect(err.code).toBe('PROXY_AUTH_REQUIRED');
    expect(exitCodeFor(err.code)).toBe(3);
    expect(err.facts).toMatchObject({ problem: 'missing', proxy: `http://127.0.0.1:${authed.port}`, proxySource: '--proxy', proxyStatus: 407, proxyCredentials: false });
    expect(emulator.requests.length).toBe(before);
  });

  it('wrong credentials: 407 says they were not accepted, and never shows the password', async () => {
    const err = await caught(post(await route(authed.url(USER, `${PASSWORD}-wrong`))));
    expect(err.code).toBe('PROXY_AUTH_REQUIRED');
    expect(err.facts).toMatchObject({ problem: 'rejected', proxy: `http://${encodeURIComponent(USER)}:***@127.0.0.1:${authed.port}`, proxyCredentials: true });
    expectNoSecret(err);
  });

  it('NO_PROXY bypasses the proxy: no tunnel is opened', async () => {
    const decision = selectProxy({ env: { HTTPS_PROXY: open.url(), NO_PROXY: '.example.com, localhost' }, target: new URL(emulator.url) });
    expect(decision).toMatchObject({ source: 'HTTPS_PROXY', bypass: 'localhost', bypassSource: 'NO_PROXY' });
    const before = open.tunnels;
    const res = await post(await createProxyRoute(decision));
    expect(res.status).toBe(200);
    expect(open.tunnels).toBe(before);
  });

  it('a dead proxy (closed port) is a network failure naming the proxy (exit 5)', async () => {
    const err = await caught(post(await route(`http://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${closedPort}`)));
    expect(err.code).toBe('PROXY_UNREACHABLE');
    expect(exitCodeFor(err.code)).toBe(5);
    expect(err.facts).toMatchObject({ problem: 'refused', proxy: `http://${encodeURIComponent(USER)}:***@127.0.0.1:${closedPort}` });
    expectNoSecret(err);
  });

  it('a proxy host that does not resolve is a proxy DNS failure (exit 5)', async () => {
    const err = await caught(post(await route('http://proxy.invalid:3128')));
    expect(err.code).toBe('PROXY_DNS_FAILED');
    expect(exitCodeFor(err.code)).toBe(5);
    expect(err.facts).toMatchObject({ proxyHost: 'proxy.invalid', stage: 'dns' });
  });

  it('CONNECT refused with 403 (port policy) is exit 5 with the port hint, not the platform refusing', async () => {
    const before = emulator.requests.length;
    const err = await caught(post(await route(strict.url())));
    expect(err.code).toBe('PROXY_REFUSED');
    expect(exitCodeFor(err.code)).toBe(5);
    expect(err.facts).toMatchObject({ problem: 'forbidden', proxyStatus: 403, target: `localhost:${emulator.port}` });
    expect(emulator.requests.length).toBe(before);
  });

  it('an https:// proxy: TLS to the proxy with its CA, then mTLS to the platform inside', async () => {
    const before = { tunnels: secure.tunnels, requests: emulator.requests.length };
    const res = await post(await route(secure.url(), { proxyCa: [readFileSync(proxyFixture('proxy-ca.crt'))] }));
    expect(res.status).toBe(200);
    expect(secure.tunnels).toBe(before.tunnels + 1);
    expect(emulator.requests[before.requests]!.clientCn).toBe('rsa-device-001');
  });

  it('an https:// proxy whose CA is not given is untrusted (exit 6), checked against the system roots', async () => {
    const err = await caught(post(await route(secure.url())));
    expect(err.code).toBe('PROXY_UNTRUSTED');
    expect(exitCodeFor(err.code)).toBe(6);
    expect(err.facts).toMatchObject({ proxyTrust: "the system's root CAs", proxyTls: true });
  });

  it('an https:// URL for a plain-HTTP proxy is a TLS failure with the proxy (exit 6) saying to write http://', async () => {
    const err = await caught(post(await route(open.url().replace('http://', 'https://'))));
    expect(err.code).toBe('PROXY_TLS_FAILED');
    expect(exitCodeFor(err.code)).toBe(6);
    expect(err.facts).toMatchObject({ proxyTls: true, stage: 'proxy' });
  });

  it('an http:// URL for a TLS proxy: the proxy closes without answering CONNECT (exit 5)', async () => {
    const err = await caught(post(await route(`http://127.0.0.1:${secure.port}`)));
    expect(err.code).toBe('PROXY_UNREACHABLE');
    expect(err.facts).toMatchObject({ problem: 'closed', proxyTls: false });
  });

  it('a server certificate the truststore does not trust, through a proxy, names the proxy in a hint', async () => {
    const other: Trust = { cas: readCertificates(readFileSync(pki('device-root-ca.crt')), 'device-root-ca', 'truststore'), source: 'device-root-ca.crt' };
    const err = await caught(post(await route(open.url()), rsa, other));
    expect(err.code).toBe('SERVER_UNTRUSTED');
    expect(err.facts).toMatchObject({ proxy: `http://127.0.0.1:${open.port}`, serverIssuer: expect.stringContaining('c8ytoken Test Server CA') as unknown });
  });

  it('a TLS-intercepting proxy with an untrusted CA is exit 6: mTLS cannot pass it, exempt the host', async () => {
    const err = await caught(post(await route(mitm.url)));
    expect(err.code).toBe('PROXY_TLS_INTERCEPTED');
    expect(exitCodeFor(err.code)).toBe(6);
    expect(err.facts).toMatchObject({ target: `localhost:${emulator.port}`, serverIssuer: expect.stringContaining('c8ytoken Test Intercepting Proxy CA') as unknown });
  });

  it('a TLS-intercepting proxy whose CA is trusted is exit 6 too: the client certificate cannot pass', async () => {
    const trusting: Trust = { ...trust, cas: [...trust.cas!, ...readCertificates(readFileSync(proxyFixture('intercept-ca.crt')), 'intercept-ca', 'truststore')] };
    const before = mitm.intercepted;
    const err = await caught(post(await route(mitm.url), rsa, trusting));
    expect(err.code).toBe('PROXY_TLS_INTERCEPTED');
    expect(exitCodeFor(err.code)).toBe(6);
    // Caught at the response: the proxy answered for the platform, which could not have seen the certificate.
    expect(mitm.intercepted).toBe(before + 1);
  });
});

describe('the platform and the proxy told apart', () => {
  it("the platform's own 403 through the tunnel stays the platform's answer", async () => {
    emulator.fault = 'http403';
    emulator.faultCount = 1;
    const res = await post(await route(open.url()));
    expect(res.status).toBe(403);
    expect(res.body.toString()).toContain('security/Forbidden');
  });

  it('a device certificate the platform rejects through the tunnel is CLIENT_CERT_REJECTED, not the proxy', async () => {
    const err = await caught(post(await route(open.url(USER, PASSWORD)), identity('stranger-device')));
    expect(err.code).toBe('CLIENT_CERT_REJECTED');
    expectNoSecret(err);
  });

  it('a proxy that never answers CONNECT times out naming the proxy, and its connection is closed', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => {
      s.resume(); // reads (and ignores) the CONNECT, so that it sees the client close
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const proxy = await route(`http://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`);
      const err = await caught(postTokenRequest({ endpoint: tokenEndpoint(new URL(emulator.url)), identity: rsa, trust, chainHeader: 'auto', timeoutMs: 300, proxy: proxy! }));
      expect(err.code).toBe('TIMEOUT');
      expect(exitCodeFor(err.code)).toBe(5);
      expect(err.facts).toMatchObject({ stage: 'proxy', target: `localhost:${emulator.port}`, timeoutMs: 300 });
      expectNoSecret(err);
      await expect.poll(() => sockets.size, { timeout: 2000 }).toBe(0);
      const probe = await probeHandshake(new URL(emulator.url), rsa, trust, 300, proxy);
      expect(probe.proxyProblem?.code).toBe('TIMEOUT');
      await expect.poll(() => sockets.size, { timeout: 2000 }).toBe(0);
    } finally {
      silent.close();
    }
  });
});

describe('the verify-chain handshake through a proxy', () => {
  it('tunnels: the server is trusted and accepts the device certificate', async () => {
    const before = open.tunnels;
    const result = await probeHandshake(new URL(emulator.url), rsa, trust, 10_000, await route(open.url()));
    expect(result).toMatchObject({ serverTrusted: true, clientAccepted: true, clientRequired: true, proxy: `http://127.0.0.1:${open.port}` });
    // Two tunnels: with the device certificate, then without one (is it required?), both through the proxy.
    expect(open.tunnels).toBe(before + 2);
  });

  it('tunnels through an https:// proxy too', async () => {
    const result = await probeHandshake(new URL(emulator.url), ec, trust, 10_000, await route(secure.url(), { proxyCa: [readFileSync(proxyFixture('proxy-ca.crt'))] }));
    expect(result).toMatchObject({ serverTrusted: true, clientAccepted: true });
  });

  it('reports the proxy failure instead of throwing', async () => {
    const result = await probeHandshake(new URL(emulator.url), rsa, trust, 10_000, await route(authed.url(USER, 'wrong')));
    expect(result.proxyProblem?.code).toBe('PROXY_AUTH_REQUIRED');
    expect(JSON.stringify(result)).not.toContain('wrong');
    const refused = await probeHandshake(new URL(emulator.url), rsa, trust, 10_000, await route(strict.url()));
    expect(refused.proxyProblem?.code).toBe('PROXY_REFUSED');
  });

  it('says when the proxy intercepts TLS', async () => {
    const result = await probeHandshake(new URL(emulator.url), rsa, trust, 10_000, await route(mitm.url));
    expect(result.proxyProblem?.code).toBe('PROXY_TLS_INTERCEPTED');
    expect(result.clientAccepted).toBe(false);
  });
});
