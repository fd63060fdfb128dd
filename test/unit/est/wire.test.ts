/**
 * What goes over the wire to an EST server, and what comes back, against servers nobody here wrote the
 * reading side of: the exact bytes of a request read by OpenSSL (`openssl base64 -d`, the BIO libest
 * decodes with, and `openssl req -verify`); Node https servers that answer 201, 204 and 202 with
 * Retry-After, that ask for or demand a client certificate; and a TLS-intercepting proxy that must
 * receive no credential.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../src/core/credentials/identity.js';
import { estBaseUrl, estRequestBody, simpleEnroll, simpleReenroll } from '../../../src/core/est/client.js';
import { buildCsr, generateDeviceKey } from '../../../src/core/est/csr.js';
import { commonNameOf, deviceIdOf } from '../../../src/core/est/names.js';
import { enrollWhenRegistered, reenrollWhenIssued } from '../../../src/core/est/poll.js';
import { exitCodeFor } from '../../../src/core/errors.js';
import { deviceSecureContext } from '../../../src/core/platform/tls.js';
import { createProxyRoute } from '../../../src/core/platform/proxy/agent.js';
import { selectProxy } from '../../../src/core/platform/proxy/select.js';
import { readCertificates } from '../../../src/core/x509/read.js';
import { Emulator } from '../../emulator/server.js';
import { certsOnlyDer, readEstBody } from '../../emulator/est.js';
import { tempDir } from '../../helpers/cli.js';
import { caught, wordsOf } from '../../helpers/errors.js';
import { passwordsOf, serverCa, tokenFor } from '../../helpers/est.js';
import { pki } from '../../helpers/paths.js';
import { InterceptingProxy, proxyFixture } from '../../helpers/proxy.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const noOpenssl = 'skipped: openssl is not installed';
const ecKey = createPrivateKey(readFileSync(pki('device-est.key')));
const leaf = new X509Certificate(readFileSync(pki('device-est.crt')));
const pkcs7 = (): Buffer => Buffer.from(`${certsOnlyDer([leaf.raw]).toString('base64')}\r\n`);

/** The exact body, decoded by OpenSSL's base64 BIO and verified by `openssl req -verify`: the DER it read. */
function opensslReads(body: Buffer): Buffer {
  const dir = tempDir();
  const bodyFile = join(dir, 'body.b64');
  writeFileSync(bodyFile, body);
  const decoded = spawnSync('openssl', ['base64', '-d', '-in', bodyFile]);
  expect(decoded.status).toBe(0);
  const der = decoded.stdout;
  writeFileSync(join(dir, 'req.der'), der);
  const verify = spawnSync('openssl', ['req', '-verify', '-noout', '-inform', 'DER', '-in', join(dir, 'req.der')], { encoding: 'utf8' });
  expect(`${verify.stdout}${verify.stderr}`).toMatch(/verify OK/);
  expect(verify.status).toBe(0);
  return der;
}

describe('the request body as OpenSSL reads it (the exact bytes sent)', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await new Emulator({ est: true }).start();
  });
  afterAll(() => emulator.stop());

  it.skipIf(!hasOpenssl)(`simpleenroll: 64-character lines ended by CRLF; openssl base64 -d gives back the request, which openssl req -verify accepts ${hasOpenssl ? '' : noOpenssl}`, async () => {
    emulator.registerEnrollment('wire-device', 'otp-1');
    const { key } = await generateDeviceKey();
    const csrDer = buildCsr(key, commonNameOf('wire-device', 'the test CN'));
    await simpleEnroll({ tenantUrl: estBaseUrl(new URL(emulator.url)), deviceId: deviceIdOf('wire-device'), oneTimePassword: 'otp-1', csrDer, trustCas: serverCa, timeoutMs: 5000 });
    const sent = emulator.est!.requests.at(-1)!;
    expect(sent.status).toBe(200);
    const lines = sent.body.toString('latin1').split('\r\n');
    expect(lines.pop()).toBe(''); // the last line is ended too
    expect(lines.slice(0, -1).every((l) => l.length === 64)).toBe(true);
    expect(lines.at(-1)!.length).toBeLessThanOrEqual(64);
    expect(opensslReads(sent.body).equals(csrDer)).toBe(true);
  });

  it.skipIf(!hasOpenssl)(`simplereenroll: the same form, RSA key ${hasOpenssl ? '' : noOpenssl}`, async () => {
    const token = await tokenFor(emulator, pki('device-rsa.chain.pem'), pki('device-rsa.key'));
    const csrDer = buildCsr(createPrivateKey(readFileSync(pki('device-rsa.key'))), commonNameOf('rsa-device-001', 'the test CN'));
    await simpleReenroll({ tenantUrl: estBaseUrl(new URL(emulator.url)), token, csrDer, trustCas: serverCa, timeoutMs: 5000 });
    const sent = emulator.est!.requests.at(-1)!;
    expect(sent.status).toBe(200);
    expect(opensslReads(sent.body).equals(csrDer)).toBe(true);
  });

  it.skipIf(!hasOpenssl)(`the old form, one base64 line without its end, is what OpenSSL's BIO reads nothing of ${hasOpenssl ? '' : noOpenssl}`, () => {
    const der = buildCsr(ecKey, commonNameOf('est-device-001', 'the test CN'));
    const file = join(tempDir(), 'one-line.b64');
    writeFileSync(file, der.toString('base64'));
    expect(spawnSync('openssl', ['base64', '-d', '-in', file]).stdout.length).toBe(0);
    expect(opensslReads(estRequestBody(der)).equals(der)).toBe(true);
  });
});

describe('the local endpoint reads the body as strictly as libest', () => {
  const der = buildCsr(ecKey, commonNameOf('est-device-001', 'the test CN'));
  const b64 = der.toString('base64');
  it('accepts 64- and 76-character lines ended by CRLF or LF', () => {
    expect(readEstBody(estRequestBody(der))).toEqual(der);
    expect(readEstBody(Buffer.from(`${(b64.match(/.{1,76}/g) ?? []).join('\n')}\n`))).toEqual(der);
  });
  it('refuses one line without its end, lines over 76 characters, PEM armour, raw DER, bad padding', () => {
    expect(readEstBody(Buffer.from(b64))).toMatch(/one base64 line without a line end/);
    expect(readEstBody(Buffer.from(`${b64}\r\n`))).toMatch(/longer than 76/);
    expect(readEstBody(Buffer.from(`-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n`))).toMatch(/not base64/);
    expect(readEstBody(der)).toMatch(/not base64/);
    expect(readEstBody(Buffer.from(`${b64.slice(0, 60)}\n${b64.slice(61, 100)}\n`))).toMatch(/not well-formed/);
  });
});

/** A Node https server on 127.0.0.1 with the fixture server certificate, answering each EST request from a script. */
interface Seen {
  path: string;
  authorization: string | undefined;
  body: Buffer;
  /** The CN of the client certificate presented in the handshake, if any. */
  clientCn: string | undefined;
}
type Answer = { status: number; headers?: Record<string, string>; body?: Buffer | string };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function estServer(answers: Answer[], tls: { requestCert?: boolean; rejectUnauthorized?: boolean; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<{ url: URL; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(
    {
      key: readFileSync(pki('server.key')),
      cert: readFileSync(pki('server.crt')),
      ca: [readFileSync(pki('device-root-ca.crt'))],
      requestCert: tls.requestCert ?? false,
      rejectUnauthorized: tls.rejectUnauthorized ?? false,
      ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        seen.push({ path: req.url ?? '', authorization: req.headers.authorization, body: Buffer.concat(chunks), clientCn: peer?.subject?.CN as string | undefined });
        const answer = answers.shift() ?? { status: 500 };
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      });
    },
  );
  server.on('tlsClientError', () => undefined);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: new URL(`https://localhost:${(server.address() as AddressInfo).port}/`), seen };
}

const enrollAt = (url: URL, extra: { signal?: AbortSignal } = {}) => ({
  tenantUrl: url,
  deviceId: deviceIdOf('dev-1'),
  oneTimePassword: 'otp-Secret',
  csrDer: buildCsr(ecKey, commonNameOf('dev-1', 'the test CN')),
  trustCas: serverCa,
  timeoutMs: 5000,
  ...extra,
});
const reenrollAt = (url: URL, timeoutMs = 5000) => ({ tenantUrl: url, token: 'eyJ.eyJ.sig', csrDer: buildCsr(ecKey, commonNameOf('est-device-001', 'the test CN')), trustCas: serverCa, timeoutMs });
const P7 = { 'Content-Type': 'application/pkcs7-mime; smime-type=certs-only', 'Content-Transfer-Encoding': 'base64' };

describe('answers: 200 and 201 carry the certificate; other 2xx do not; 202 is pending', () => {
  it('201 Created (as Cumulocity documents it) is read', async () => {
    const { url } = await estServer([{ status: 201, headers: P7, body: pkcs7() }]);
    expect((await simpleEnroll(enrollAt(url))).certificates[0]!.subject).toBe(leaf.subject);
  });

  it('204 No Content, and a 206 with a certificate, are not EST answers: EST_BAD_RESPONSE, exit 8', async () => {
    const { url } = await estServer([{ status: 204 }, { status: 206, headers: P7, body: pkcs7() }]);
    for (const status of [204, 206]) {
      const err = await caught(simpleEnroll(enrollAt(url)));
      expect(err.code).toBe('EST_BAD_RESPONSE');
      expect(exitCodeFor(err.code)).toBe(8);
      expect(wordsOf(err).message).toContain(`HTTP ${status} is not an EST answer`);
    }
  });

  it('a 202 with a body is still pending (a note, never the certificate); Retry-After as an HTTP date is read against the Date header', async () => {
    const date = new Date('2030-01-01T00:00:00Z');
    const { url } = await estServer([{ status: 202, headers: { 'Retry-After': new Date(date.getTime() + 90_000).toUTCString(), Date: date.toUTCString() }, body: 'queued for approval' }]);
    const err = await caught(simpleEnroll(enrollAt(url)));
    expect(err.code).toBe('EST_PENDING');
    expect(err.facts).toHaveProperty('retryAfterSeconds', 90);
  });
});

describe('Retry-After wins over our own pause, bounded by --max-wait (enroll) or --timeout (renew)', () => {
  it('enroll: a 202 with Retry-After: 3 waits 3 s (not --retry-every), then gets the certificate for the same request', async () => {
    const { url, seen } = await estServer([
      { status: 202, headers: { 'Retry-After': '3' } },
      { status: 200, headers: P7, body: pkcs7() },
    ]);
    const waits: number[] = [];
    const answer = await enrollWhenRegistered(enrollAt(url), { retryEveryMs: 30_000, maxWaitMs: 60_000, sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([3000]);
    expect(answer.certificates).toHaveLength(1);
    expect(seen[1]!.body.equals(seen[0]!.body)).toBe(true);
  });

  it('enroll: a Retry-After beyond --max-wait stops at once with EST_PENDING (exit 8) naming when to come back', async () => {
    const { url, seen } = await estServer([{ status: 202, headers: { 'Retry-After': '7200' } }]);
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const err = await caught(enrollWhenRegistered(enrollAt(url), { retryEveryMs: 1000, maxWaitMs: 600_000, now: () => clock, sleep: async (ms) => void (clock += ms) }));
    expect(err.code).toBe('EST_PENDING');
    expect(exitCodeFor(err.code)).toBe(8);
    expect(err.facts).toMatchObject({ retryAfterSeconds: 7200, retryAt: '2030-01-01T02:00:00.000Z', waitOption: '--max-wait' });
    expect(wordsOf(err).hint).toMatch(/Run again after 2030-01-01T02:00:00Z.*raise --max-wait/);
    expect(seen).toHaveLength(1);
  });

  it('enroll: a 503 with Retry-After is waited for as asked too', async () => {
    const { url } = await estServer([
      { status: 503, headers: { 'Retry-After': '5' } },
      { status: 200, headers: P7, body: pkcs7() },
    ]);
    const waits: number[] = [];
    await enrollWhenRegistered(enrollAt(url), { retryEveryMs: 30_000, maxWaitMs: 60_000, sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([5000]);
  });

  it('enroll: the wait ends when the signal aborts (SIGINT), with nothing more sent', async () => {
    const { url, seen } = await estServer([{ status: 202, headers: { 'Retry-After': '60' } }]);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const started = Date.now();
    const err = await caught(enrollWhenRegistered(enrollAt(url, { signal: abort.signal }), { retryEveryMs: 1000, maxWaitMs: 600_000 }));
    expect(err.code).toBe('INTERRUPTED');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(seen).toHaveLength(1);
  });

  it('renew: a 202 whose Retry-After fits in --timeout is followed (real 1 s wait); one that does not is EST_PENDING at once', async () => {
    const { url, seen } = await estServer([
      { status: 202, headers: { 'Retry-After': '1' } },
      { status: 200, headers: P7, body: pkcs7() },
      { status: 202, headers: { 'Retry-After': '120' } },
    ]);
    const started = Date.now();
    expect((await reenrollWhenIssued(reenrollAt(url))).certificates).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(seen).toHaveLength(2);
    const err = await caught(reenrollWhenIssued(reenrollAt(url, 30_000)));
    expect(err.code).toBe('EST_PENDING');
    expect(err.facts).toMatchObject({ retryAfterSeconds: 120, waitOption: '--timeout' });
    expect(seen).toHaveLength(3);
  });

  it('renew: a 202 without Retry-After is EST_PENDING at once (nothing to go by)', async () => {
    const { url } = await estServer([{ status: 202 }]);
    const err = await caught(reenrollWhenIssued(reenrollAt(url)));
    expect(err.code).toBe('EST_PENDING');
    expect(wordsOf(err).hint).toMatch(/did not say when/);
  });
});

describe('the client certificate (RFC 7030 3.3.2)', () => {
  const identity = () => loadIdentity({ cert: pki('device-est.chain.pem'), key: pki('device-est.key') }, passwordsOf(), { warn: () => undefined });

  it('renew offers the device certificate when the server asks, alongside the Bearer token', async () => {
    const { url, seen } = await estServer([{ status: 200, headers: P7, body: pkcs7() }], { requestCert: true });
    const id = await identity();
    await simpleReenroll({ ...reenrollAt(url), client: { context: deviceSecureContext(id, { cas: serverCa, source: 'server-ca.crt' }), identity: id } });
    expect(seen[0]).toMatchObject({ clientCn: 'est-device-001', authorization: 'Bearer eyJ.eyJ.sig' });
  });

  it('renew to a server that demands a certificate from its CA: the device certificate passes the handshake', async () => {
    const { url, seen } = await estServer([{ status: 200, headers: P7, body: pkcs7() }], { requestCert: true, rejectUnauthorized: true });
    const id = await identity();
    await simpleReenroll({ ...reenrollAt(url), client: { context: deviceSecureContext(id, { cas: serverCa, source: 'server-ca.crt' }), identity: id } });
    expect(seen[0]!.clientCn).toBe('est-device-001');
  });

  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`enroll at a port that demands a client certificate (${maxVersion}): EST_CLIENT_CERT_REQUIRED, exit 3, EST is on port 443; no password sent`, async () => {
      const { url, seen } = await estServer([], { requestCert: true, rejectUnauthorized: true, maxVersion });
      const err = await caught(simpleEnroll(enrollAt(url)));
      expect(err.code).toBe('EST_CLIENT_CERT_REQUIRED');
      expect(exitCodeFor(err.code)).toBe(3);
      expect(wordsOf(err).hint).toMatch(/port 443.*--url https:\/\/localhost without a port/);
      expect(seen).toHaveLength(0);
    });
  }
});

describe('enroll through a TLS-intercepting proxy', () => {
  let emulator: Emulator;
  let mitm: InterceptingProxy;
  beforeAll(async () => {
    [emulator, mitm] = await Promise.all([new Emulator({ est: true }).start(), new InterceptingProxy().start()]);
  });
  afterAll(() => Promise.all([emulator.stop(), mitm.stop()]));

  it('whose CA is trusted: PROXY_TLS_INTERCEPTED (exit 6) before the one-time password is sent; the proxy forwarded nothing', async () => {
    emulator.registerEnrollment('mitm-device', 'otp-Secret');
    const trustCas = [...serverCa, ...readCertificates(readFileSync(proxyFixture('intercept-ca.crt')), 'intercept-ca', 'truststore')];
    const proxy = await createProxyRoute(selectProxy({ flag: mitm.url, env: {}, target: new URL(emulator.url) }));
    const before = { intercepted: mitm.intercepted, est: emulator.est!.requests.length };
    const err = await caught(
      simpleEnroll({ ...enrollAt(estBaseUrl(new URL(emulator.url))), deviceId: deviceIdOf('mitm-device'), csrDer: buildCsr(ecKey, commonNameOf('mitm-device', 'the test CN')), trustCas, proxy }),
    );
    expect(err.code).toBe('PROXY_TLS_INTERCEPTED');
    expect(exitCodeFor(err.code)).toBe(6);
    expect(err.facts.operation).toBe('simpleenroll');
    expect(mitm.intercepted).toBe(before.intercepted);
    expect(emulator.est!.requests.length).toBe(before.est);
  });

  it('the same enrollment through a plain CONNECT tunnel works (the platform port asks for a certificate)', async () => {
    const { TestProxy } = await import('../../helpers/proxy.js');
    const open = await new TestProxy().start();
    try {
      emulator.registerEnrollment('tunnel-device', 'otp-Secret');
      const proxy = await createProxyRoute(selectProxy({ flag: open.url(), env: {}, target: new URL(emulator.url) }));
      const answer = await simpleEnroll({
        ...enrollAt(estBaseUrl(new URL(emulator.url))),
        deviceId: deviceIdOf('tunnel-device'),
        csrDer: buildCsr(ecKey, commonNameOf('tunnel-device', 'the test CN')),
        proxy,
      });
      expect(answer.certificates).toHaveLength(1);
      expect(open.tunnels).toBe(1);
    } finally {
      await open.stop();
    }
  });
});
