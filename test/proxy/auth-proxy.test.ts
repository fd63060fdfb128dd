/**
 * `c8ytoken proxy` in-process against the local endpoint over real TLS: forwarding, the token added and
 * kept, one shared refresh after a revocation, the replayed body, WebSockets, the refusals, the corporate
 * proxy upstream, health and metrics. The endpoint's REST resources check the Bearer token they minted
 * (test/emulator/rest.ts), so a revoked token is refused as the platform refuses it.
 */
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadSettings, type GivenFlags } from '../../src/core/config/settings.js';
import { Emulator, type EmulatorOptions } from '../emulator/server.js';
import { proxyCommand, type ProxyEvent, type ProxyOptions } from '../../src/commands/proxy/proxy.js';
import { parseListen } from '../../src/core/config/listen.js';
import type { ProxyServer } from '../../src/commands/proxy/server.js';
import { statusCommand } from '../../src/commands/status/status.js';
import type { HealthDocument } from '../../src/core/token/health.js';
import { C8yError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/cli.js';
import { testIo } from '../helpers/io.js';
import { pki } from '../helpers/paths.js';
import { TestProxy } from '../helpers/proxy.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function endpoint(options: EmulatorOptions = {}): Promise<Emulator> {
  // Client certificates checked per request: REST on the tenant's port takes a token without one.
  const e = await new Emulator({ clientCheck: 'http', ...options }).start();
  cleanups.push(() => e.stop());
  return e;
}

interface Running {
  base: string;
  server: ProxyServer;
  events: ProxyEvent[];
  access: Extract<ProxyEvent, { event: 'access' }>[];
  stop(): Promise<number>;
}

async function startProxy(e: Emulator, options: Partial<ProxyOptions> = {}, flags: GivenFlags = {}, signals?: (send: (s: NodeJS.Signals) => void) => void): Promise<Running> {
  const events: ProxyEvent[] = [];
  const controller = new AbortController();
  const io = testIo({ signal: controller.signal });
  const settings = await loadSettings({
    flags: { url: e.url, truststore: pki('truststore.pem'), cert: pki('device-ec256.chain.pem'), key: pki('device-ec256.key'), proxy: 'none', ...flags },
    env: {},
    cwd: tempDir(),
    warn: io.warn,
  });
  let server: ProxyServer | undefined;
  const running = { done: undefined as unknown as Promise<number> };
  const started = new Promise<void>((resolve) => {
    const done = proxyCommand(
      settings,
      {
        listen: parseListen('127.0.0.1:0'),
        upstreamAuth: 'token',
        allowUi: false,
        socketMode: 0o600,
        headerTimeoutMs: 10_000,
        idleTimeoutMs: 60_000,
        drainTimeoutMs: 5_000,
        minRetryMs: 200,
        maxRetryMs: 2_000,
        slowRetryMs: 2_000,
        ...options,
      },
      {
        ...io,
        emit: (ev) => events.push(ev),
        random: () => 0.5,
        ...(signals
          ? {
              takeSignals: (handler: (s: NodeJS.Signals) => void) => {
                signals(handler);
                return () => undefined;
              },
            }
          : {}),
        started: (s) => {
          server = s;
          resolve();
        },
      },
    );
    running.done = done;
    done.catch(() => resolve());
  });
  await started;
  if (!server)
    throw await running.done.then(
      () => new Error('the proxy ended before listening'),
      (err: unknown) => err,
    );
  const a = server.address;
  const base = options.listen?.kind === 'unix' ? 'http://localhost' : `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const stop = async (): Promise<number> => {
    controller.abort('SIGTERM');
    return running.done;
  };
  cleanups.push(async () => void (await stop()));
  return {
    base,
    server,
    events,
    get access() {
      return events.filter((x): x is Extract<ProxyEvent, { event: 'access' }> => x.event === 'access');
    },
    stop,
  };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request with Node's client (no pooling surprises): method, path, headers, body. */
function call(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | string; socketPath?: string } = {}): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, ...(init.socketPath ? { socketPath: init.socketPath } : {}), path, method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

const json = (a: Answer): Record<string, unknown> => JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;
const tokenRequests = (e: Emulator): number => e.requests.filter((r) => r.path === '/devicecontrol/deviceAccessToken').length;
const restRequests = (e: Emulator): string[] => e.requests.filter((r) => r.path !== '/devicecontrol/deviceAccessToken').map((r) => `${r.method} ${r.path}`);

/** A raw HTTP/1.1 request on a fresh connection; the whole answer as text. */
function raw(base: string, text: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(url.port), url.hostname);
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.write(text);
  });
}

describe('forwarding', () => {
  it('forwards method, path, query and headers to the tenant with the token added; /c8y/ is the same path', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    for (const prefix of ['', '/c8y']) {
      const a = await call(p.base, `${prefix}/inventory/managedObjects?pageSize=3&query=name%20eq%20'x'`, {
        headers: { 'X-Custom': 'kept', Connection: 'keep-alive, X-Drop', 'X-Drop': 'named by Connection', 'Proxy-Authorization': 'Basic c2VjcmV0' },
      });
      expect(a.status).toBe(200);
      const got = json(a) as { caller: string; statistics: { pageSize: number }; request: { path: string; headers: Record<string, string> } };
      expect(got.caller).toBe('device_ec-device-256');
      expect(got.statistics.pageSize).toBe(3);
      expect(got.request.path).toBe("/inventory/managedObjects?pageSize=3&query=name%20eq%20'x'");
      expect(got.request.headers['x-custom']).toBe('kept');
      expect(got.request.headers.authorization).toBe('Bearer ***');
      expect(got.request.headers['x-drop']).toBeUndefined();
      expect(got.request.headers['proxy-authorization']).toBeUndefined();
      expect(got.request.headers.host).toBe(new URL(e.url).host);
    }
    // One token for both: the keeper holds it.
    expect(tokenRequests(e)).toBe(1);
    expect(p.access.map((x) => [x.method, x.path, x.status])).toEqual([
      ['GET', '/inventory/managedObjects?pageSize=&query=', 200],
      ['GET', '/c8y/inventory/managedObjects?pageSize=&query=', 200],
    ]);
  });

  it('forwards a request that carries its own Authorization untouched, and does not retry its 401', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    const a = await call(p.base, '/debug/request', { headers: { Authorization: 'Basic dDEyMzQ1L3VzZXI6cGFzcw==' } });
    expect(a.status).toBe(401);
    expect(restRequests(e)).toEqual(['GET /debug/request']);
    expect(p.access[0]!.retried).toBe(false);
  });

  it('keeps no token in any answer, error page or log line', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    const answers = [await call(p.base, '/inventory/managedObjects'), await call(p.base, '/apps/cockpit'), await call(p.base, '/_c8ytoken/health'), await call(p.base, '/_c8ytoken/metrics')];
    const all = answers.map((a) => a.body.toString('utf8')).join('\n') + JSON.stringify(p.events);
    expect(all).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
  });
});

describe('the token: kept fresh, one shared refresh after a 401', () => {
  it('a token revoked in the middle of a stream of requests never reaches the caller as a 401', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      if (i === 10 || i === 25) e.revokeTokens();
      statuses.push((await call(p.base, '/inventory/managedObjects')).status);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(tokenRequests(e)).toBe(3);
    expect(p.access.filter((x) => x.retried)).toHaveLength(2);
  });

  it('200 concurrent requests across a revocation: one token request, not 200, and all succeed', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    expect((await call(p.base, '/tenant/currentTenant')).status).toBe(200);
    e.revokeTokens();
    const before = tokenRequests(e);
    const answers = await Promise.all(Array.from({ length: 200 }, () => call(p.base, '/inventory/managedObjects')));
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    expect(tokenRequests(e) - before).toBe(1);
    const metrics = (await call(p.base, '/_c8ytoken/metrics')).body.toString('utf8');
    // Those sent before the new token came were retried; those after it went with it at once.
    const retries = Number(/^c8ytoken_proxy_retries_total (\d+)$/m.exec(metrics)?.[1]);
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(200);
    expect(metrics).toMatch(/^c8ytoken_proxy_requests_total\{class="2xx"\} 201$/m);
  });

  it('replays a POST body after a 401, byte for byte', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    e.revokeTokens();
    const body = randomBytes(512 * 1024);
    const a = await call(p.base, '/debug/request', { method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream' } });
    expect(a.status).toBe(200);
    expect(json(a)).toMatchObject({ bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    expect(restRequests(e)).toEqual(['POST /debug/request', 'POST /debug/request']);
    expect(p.access[0]).toMatchObject({ method: 'POST', status: 200, retried: true, bytesIn: body.length });
  });

  it('checks the token before a streamed upload of unknown length when it has not just worked', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    e.revokeTokens();
    const body = randomBytes(3 * 1024 * 1024);
    const a = await new Promise<Answer>((resolve, reject) => {
      const url = new URL(p.base);
      const req = request({ host: url.hostname, port: url.port, path: '/upload', method: 'POST', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      // Chunked: no Content-Length, so the body cannot be kept for a retry.
      for (let i = 0; i < body.length; i += 256 * 1024) req.write(body.subarray(i, i + 256 * 1024));
      req.end();
    });
    expect(a.status).toBe(201);
    expect(json(a)).toMatchObject({ bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    expect(restRequests(e)).toEqual(['HEAD /tenant/currentTenant', 'POST /upload']);
  });

  it('answers Expect: 100-continue itself (curl sends it before a large upload) and does not ask it again upstream', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    const body = randomBytes(2 * 1024 * 1024);
    const url = new URL(p.base);
    const a = await new Promise<Answer>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/debug/request', method: 'POST', agent: false, headers: { Expect: '100-continue', 'Content-Length': body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('continue', () => req.end(body));
      req.on('error', reject);
    });
    expect(a.status).toBe(200);
    const got = json(a) as { bytes: number; request: { headers: Record<string, string> } };
    expect(got.bytes).toBe(body.length);
    expect(got.request.headers.expect).toBeUndefined();
  });

  it('tokens of under a second over many lifetimes: no 401 reaches the caller', { timeout: 30_000 }, async () => {
    // 0.6 s tokens (fractional NumericDates, as the soak runs use) for 2.7 s: the 4.5 lifetimes that 2 s tokens
    // took 9 s to show.
    const e = await endpoint({ lifetimeSeconds: 0.6 });
    const p = await startProxy(e);
    const until = Date.now() + 2_700;
    const statuses = new Map<number, number>();
    while (Date.now() < until) {
      const s = (await call(p.base, '/inventory/managedObjects')).status;
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect([...statuses.keys()]).toEqual([200]);
    // Refreshed ahead of time at the half-life: several tokens, none fetched because of a 401.
    expect(e.issued).toBeGreaterThanOrEqual(4);
  });
});

describe('what it refuses, without contacting anything', () => {
  it('the web UI, however the path is spelled; --allow-ui forwards it', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    const paths = [
      '/apps/cockpit/',
      '/c8y/apps/devicemanagement',
      '/APPS/x',
      '//apps/x',
      '/inventory/%2e%2e/apps/x',
      '/inventory/..%2Fapps/x',
      '/apps;jsessionid=1/x',
      '/c8y/a/b/main.JS',
      '/x/app.js?v=1',
      '/c8y//c8y/../apps/',
    ];
    for (const path of paths) {
      const a = await call(p.base, path);
      expect(a.status, path).toBe(403);
      expect(json(a).error).toBe('c8ytoken/refused');
    }
    expect(restRequests(e)).toEqual([]);
    expect((await call(p.base, '/inventory/managedObjects')).status).toBe(200);
    const q = await startProxy(e, { allowUi: true });
    expect((await call(q.base, '/apps/cockpit/')).status).toBe(200);
    expect(restRequests(e)).toEqual(['GET /inventory/managedObjects', 'GET /apps/cockpit/']);
  });

  it('an absolute URL, CONNECT, or a Host naming another host never makes it contact another host', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    const absolute = await raw(p.base, `GET http://example.invalid/inventory/managedObjects HTTP/1.1\r\nHost: example.invalid\r\nConnection: close\r\n\r\n`);
    expect(absolute).toMatch(/^HTTP\/1\.1 (400|421) /);
    const tunnel = await raw(p.base, `CONNECT example.invalid:443 HTTP/1.1\r\nHost: example.invalid:443\r\n\r\n`);
    expect(tunnel).toMatch(/^HTTP\/1\.1 405 /);
    const rebinding = await raw(p.base, `GET /inventory/managedObjects HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
    expect(rebinding).toMatch(/^HTTP\/1\.1 421 /);
    const smuggle = await raw(
      p.base,
      `POST /debug/request HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /apps/x HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    );
    expect(smuggle).toMatch(/^HTTP\/1\.1 400 /);
    expect(restRequests(e)).toEqual([]);
  });

  it('a client that does not finish its headers gets 408 after --header-timeout', async () => {
    const e = await endpoint();
    const p = await startProxy(e, { headerTimeoutMs: 400 });
    const started = Date.now();
    const answer = await raw(p.base, 'GET /inventory/managedObjects HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(3_000);
    const big = await raw(p.base, `GET /inventory/managedObjects HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(restRequests(e)).toEqual([]);
  });

  it('requires the header --require-header names', async () => {
    const e = await endpoint();
    const p = await startProxy(e, { requireHeader: { name: 'X-C8y-Local', value: 'yes' } });
    expect((await call(p.base, '/inventory/managedObjects')).status).toBe(403);
    expect((await call(p.base, '/inventory/managedObjects', { headers: { 'X-C8y-Local': 'no' } })).status).toBe(403);
    expect((await call(p.base, '/inventory/managedObjects', { headers: { 'X-C8y-Local': 'yes' } })).status).toBe(200);
    expect(restRequests(e)).toEqual(['GET /inventory/managedObjects']);
  });

  it('refuses to listen off loopback without TLS and client certificates (usage error)', async () => {
    const e = await endpoint();
    const err = await startProxy(e, { listen: parseListen('0.0.0.0:0') }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(C8yError);
    expect((err as C8yError).code).toBe('USAGE');
    expect((err as C8yError).exitCode).toBe(2);
  });
});

describe('streams and sockets', () => {
  it('streams a large download and a large echoed upload through, byte for byte', { timeout: 60_000 }, async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    const size = 64 * 1024 * 1024;
    const url = new URL(p.base);
    const got = await new Promise<{ bytes: number; first: number; status: number }>((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: `/download?bytes=${size}`, agent: false }, (res) => {
        let bytes = 0;
        let first = -1;
        res.on('data', (c: Buffer) => {
          if (first < 0) first = c[1]!;
          bytes += c.length;
        });
        res.on('end', () => resolve({ bytes, first, status: res.statusCode ?? 0 }));
      })
        .on('error', reject)
        .end();
    });
    expect(got).toEqual({ bytes: size, first: 1, status: 200 });
    const body = randomBytes(8 * 1024 * 1024);
    const echoed = await call(p.base, '/echo', { method: 'POST', body });
    expect(echoed.status).toBe(200);
    expect(echoed.body.equals(body)).toBe(true);
  });

  it('a client gone mid-answer closes the upstream connection; an answer cut upstream is cut for the client, never complete', { timeout: 30_000 }, async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    const url = new URL(p.base);
    const waitFor = async (what: () => boolean): Promise<boolean> => {
      for (let i = 0; i < 150 && !what(); i++) await new Promise((r) => setTimeout(r, 20));
      return what();
    };
    // 1 GB, far more than the sockets' buffers hold: the endpoint is still writing when the client goes.
    const path = `/download?bytes=${1024 ** 3}`;
    let during = 0;
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path, agent: false }, (res) => {
        res.once('data', () => {
          during = e.openConnections;
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined).end();
    });
    expect(await waitFor(() => e.openConnections < during), `connections to the endpoint: ${during} while downloading, ${e.openConnections} after the client went`).toBe(true);

    const outcome = await new Promise<string>((resolve) => {
      request({ host: url.hostname, port: url.port, path, agent: false }, (res) => {
        res.once('data', () => void e.stop());
        res.on('data', () => undefined);
        res.on('end', () => resolve('complete'));
        res.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
        res.on('aborted', () => resolve('aborted'));
      })
        .on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`))
        .end();
    });
    expect(outcome).not.toBe('complete');
  });

  it('a client gone before the platform answered frees the upstream connection at once, not at --timeout', { timeout: 30_000 }, async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    const url = new URL(p.base);
    // The platform takes 800 ms to send its head; the client gives up after 300 ms.
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path: `/download?bytes=${1024 ** 3}&delay=800`, agent: false });
      req.on('error', () => resolve()).end();
      setTimeout(() => req.destroy(), 300);
    });
    expect(e.openConnections).toBe(1);
    // Once the head arrives, the proxy finds its client gone and ends the upstream answer (before the fix it
    // held the socket paused until the proxy's 30 s timeout).
    let open = e.openConnections;
    for (let i = 0; i < 100 && open > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      open = e.openConnections;
    }
    expect(open, 'connections to the endpoint 2 s after the head was sent').toBe(0);
  });

  it('proxies a WebSocket with the token, and retries its handshake once after a revocation', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    e.revokeTokens();
    const ws = new WebSocket(`${p.base.replace('http', 'ws')}/notification2/consumer/?token=x`);
    const echo = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello through c8ytoken'));
      ws.on('message', (data: Buffer) => resolve(data.toString('utf8')));
      ws.on('error', reject);
      ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    ws.close();
    expect(echo).toBe('hello through c8ytoken');
    expect(p.access.at(-1)).toMatchObject({ status: 101, retried: true, websocket: true });
  });

  it('listens on a Unix socket with mode 0600', async () => {
    const e = await endpoint();
    const path = join(tempDir(), 'proxy.sock');
    const p = await startProxy(e, { listen: parseListen(`unix:${path}`) });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const a = await call(p.base, '/inventory/managedObjects', { socketPath: path });
    expect(a.status).toBe(200);
    const doc = await statusCommand({ listen: parseListen(`unix:${path}`), withinMs: 30 * 86_400_000, timeoutMs: 5_000 }, Date.now());
    expect(doc).toMatchObject({ ok: true, service: 'proxy', upstream: { mode: 'token' } });
    expect(await p.stop()).toBe(143);
  });
});

describe('upstream modes', () => {
  it('--upstream-auth mtls: no token anywhere, the device certificate on the connection', async () => {
    const e = await endpoint();
    const p = await startProxy(e, { upstreamAuth: 'mtls' });
    const a = await call(p.base, '/inventory/managedObjects');
    expect(a.status).toBe(200);
    expect(json(a).caller).toBe('mtls');
    expect(tokenRequests(e)).toBe(0);
    expect(e.requests.at(-1)).toMatchObject({ authorization: false, clientCn: 'ec-device-256' });
  });

  it('picks up a replaced device certificate without a restart (SIGHUP reads it now)', async () => {
    const { copyFileSync } = await import('node:fs');
    const e = await endpoint();
    const dir = tempDir();
    const cert = join(dir, 'device.pem');
    const key = join(dir, 'device.key');
    copyFileSync(pki('device-ec256.chain.pem'), cert);
    copyFileSync(pki('device-ec256.key'), key);
    let hangup: ((s: NodeJS.Signals) => void) | undefined;
    const p = await startProxy(e, { upstreamAuth: 'mtls' }, { cert, key }, (send) => (hangup = send));
    expect((await call(p.base, '/inventory/managedObjects')).status).toBe(200);
    expect(e.requests.at(-1)!.clientCn).toBe('ec-device-256');
    copyFileSync(pki('device-rsa.chain.pem'), cert);
    copyFileSync(pki('device-rsa.key'), key);
    hangup!('SIGHUP');
    for (let i = 0; i < 50 && e.requests.at(-1)!.clientCn === 'ec-device-256'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      expect((await call(p.base, '/inventory/managedObjects')).status).toBe(200);
    }
    expect(e.requests.at(-1)!.clientCn).not.toBe('ec-device-256');
    expect(p.events.some((x) => x.event === 'reload')).toBe(true);
  });

  it('through a corporate CONNECT proxy, with tunnels kept and reused', async () => {
    const e = await endpoint();
    const corp = await new TestProxy().start();
    cleanups.push(() => corp.stop());
    const p = await startProxy(e, {}, { proxy: corp.url() });
    for (let i = 0; i < 20; i++) expect((await call(p.base, '/inventory/managedObjects')).status).toBe(200);
    expect(corp.connects.every((c) => c.target === `localhost:${e.port}`)).toBe(true);
    // One tunnel for the token, and the pool's for twenty sequential requests: one, kept alive.
    expect(corp.tunnels).toBeLessThanOrEqual(3);
    expect(corp.relayedText()).not.toContain('inventory');
  });
});

describe('what it tells', () => {
  it('health: 200 with token and certificate, metrics in Prometheus text; status reads the same document', async () => {
    const e = await endpoint();
    const p = await startProxy(e);
    await call(p.base, '/inventory/managedObjects');
    const h = await call(p.base, '/_c8ytoken/health');
    expect(h.status).toBe(200);
    const doc = json(h) as unknown as HealthDocument;
    expect(doc).toMatchObject({
      ok: true,
      service: 'proxy',
      upstream: { mode: 'token', url: `${e.url}/` },
      token: { deviceUser: 'device_ec-device-256' },
      certificate: { needsRenewal: false, expired: false },
    });
    expect(doc.token!.secondsLeft).toBeGreaterThan(3500);
    const m = (await call(p.base, '/_c8ytoken/metrics')).body.toString('utf8');
    expect(m).toMatch(/^# TYPE c8ytoken_proxy_upstream_seconds histogram$/m);
    expect(m).toMatch(/^c8ytoken_token_seconds_left \d+$/m);
    expect(m).toMatch(/^c8ytoken_certificate_seconds_left \d+$/m);
    expect(m).toMatch(/^c8ytoken_proxy_token_refreshes_total 1$/m);
    const port = new URL(p.base).port;
    expect(await statusCommand({ listen: parseListen(`127.0.0.1:${port}`), withinMs: 0, timeoutMs: 5_000 }, Date.now())).toMatchObject({ ok: true, token: { deviceUser: 'device_ec-device-256' } });
  });

  it('health 503 while it has no token (the platform failing), and the requests get 503 without reaching it', async () => {
    const e = await endpoint();
    e.fault = 'http503';
    const p = await startProxy(e);
    const h = await call(p.base, '/_c8ytoken/health');
    expect(h.status).toBe(503);
    expect(json(h)).toMatchObject({ ok: false, reason: 'no token yet', lastError: { code: 'PLATFORM_ERROR' } });
    // Worded for people as every error is (output/messages.ts), not the code and facts of a stack trace.
    const said = (json(h) as unknown as HealthDocument).lastError!.message;
    expect(said).toMatch(/answered HTTP 503: the platform failed/);
    expect(said).not.toMatch(/PLATFORM_ERROR|\{/);
    expect((await call(p.base, '/inventory/managedObjects')).status).toBe(503);
    expect(restRequests(e)).toEqual([]);
  });

  it('status: unreachable is exit 5; a watch sidecar is read', async () => {
    const err = await statusCommand({ listen: parseListen('127.0.0.1:1'), withinMs: 0, timeoutMs: 2_000 }, Date.now()).catch((x: unknown) => x);
    expect((err as C8yError).code).toBe('STATUS_UNREACHABLE');
    expect((err as C8yError).exitCode).toBe(5);
  });
});
