/**
 * Real proxies on loopback for the tests. TestProxy is the `proxy` package (the CONNECT proxy
 * https-proxy-agent's own tests use) with Basic auth, a port policy that answers CONNECT with 403, an
 * https:// variant (TLS to the proxy with the fixture proxy CA), a count of tunnels opened and a copy of
 * the bytes it relayed to the client (to show that the token crossed it only encrypted).
 * InterceptingProxy is a TLS-inspecting proxy (tests only): it answers CONNECT, terminates the client's TLS
 * with a certificate its own CA forged for the host, and forwards the request over a new TLS connection,
 * which cannot carry the device certificate.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Emulator } from '../emulator/server.js';
import { createProxy } from 'proxy';

/** A file of fixtures/proxy (the test proxies' PKI, made by fixtures/regenerate-proxy.sh). */
export const proxyFixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/proxy/${name}`, import.meta.url));

export interface TestProxyOptions {
  /** Require Basic proxy authentication with these credentials (407 otherwise). */
  auth?: { user: string; password: string };
  /** Answer CONNECT to these ports with 403 Forbidden, as a proxy allowing only 443 does. */
  refusePorts?: number[];
  /** Serve the proxy itself over TLS (an https:// proxy), with fixtures/proxy/proxy.crt. */
  tls?: boolean;
}

export interface ConnectRecord {
  target: string;
  /** The Proxy-Authorization header sent, if any. */
  authorization: string | undefined;
}

/** Relayed bytes kept at most, per proxy: enough for a token exchange, bounded whatever a test does. */
const MAX_RELAYED = 256 * 1024;

/** A CONNECT proxy on 127.0.0.1 (https:// variant on localhost). `start()`, use `url`, `stop()`. */
export class TestProxy {
  /** Tunnels opened: CONNECTs that passed authentication and the port policy. */
  tunnels = 0;
  readonly connects: ConnectRecord[] = [];
  /** What the proxy wrote to clients through tunnels (after its 200 answer), capped. */
  readonly relayed: Buffer[] = [];
  private relayedBytes = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: TestProxyOptions = {}) {
    this.server = options.tls ? createHttpsServer({ key: readFileSync(proxyFixture('proxy.key')), cert: readFileSync(proxyFixture('proxy.crt')) }) : createHttpServer();
    createProxy(this.server);
    const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}` : undefined;
    const authorized = (req: IncomingMessage): boolean => expected === undefined || req.headers['proxy-authorization'] === expected;
    (this.server as Server & { authenticate?: (req: IncomingMessage) => boolean }).authenticate = authorized;
    // The package's CONNECT handler, wrapped: policy and counting first, then the real tunnel.
    const tunnel = this.server.listeners('connect')[0] as (req: IncomingMessage, socket: Socket, head: Buffer) => void;
    this.server.removeAllListeners('connect');
    this.server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.connects.push({ target: req.url ?? '', authorization: req.headers['proxy-authorization'] });
      const port = Number((req.url ?? '').split(':').pop());
      if (authorized(req) && options.refusePorts?.includes(port)) {
        const body = `CONNECT to port ${port} is not allowed by policy\n`;
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      if (authorized(req)) {
        this.tunnels += 1;
        this.tap(socket);
      }
      tunnel.call(this.server, req, socket, head);
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('tlsClientError', () => undefined);
  }

  /** Starts listening on a free port. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The proxy URL, optionally with user and password (percent-encoded here). */
  url(user?: string, password?: string): string {
    const auth = user === undefined ? '' : `${encodeURIComponent(user)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@`;
    return `${this.options.tls ? 'https' : 'http'}://${auth}${this.options.tls ? 'localhost' : '127.0.0.1'}:${this.port}`;
  }

  /** Everything relayed to clients, as one string. */
  relayedText(): string {
    return Buffer.concat(this.relayed).toString('latin1');
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private tap(socket: Socket): void {
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    (socket as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
      const chunk = args[0];
      if (this.relayedBytes < MAX_RELAYED && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) {
        const b = Buffer.from(chunk);
        this.relayed.push(b);
        this.relayedBytes += b.length;
      }
      return write(...args);
    };
  }
}

/** A TLS-inspecting proxy on 127.0.0.1: answers CONNECT 200, then plays the server with a forged certificate. */
export class InterceptingProxy {
  /** Requests it decrypted and forwarded. */
  intercepted = 0;
  private readonly front: Server;
  private readonly inside: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.inside = createHttpsServer({ key: readFileSync(proxyFixture('intercept.key')), cert: readFileSync(proxyFixture('intercept.crt')) }, (req, res) => {
      this.intercepted += 1;
      const [host, port] = [this.targetHost, this.targetPort];
      // Its own TLS connection to the platform: it has no device key, so no client certificate goes along.
      const upstream = httpsRequest({ host, port, method: req.method, path: req.url, headers: { ...req.headers, host: `${host}:${port}` }, rejectUnauthorized: false, agent: false }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', (err) => {
        res.writeHead(502, { 'Content-Type': 'text/html' });
        res.end(`<html><body><h1>502 Bad Gateway</h1><p>${err.message}</p></body></html>`);
      });
      req.pipe(upstream);
    });
    this.inside.on('tlsClientError', () => undefined);
    this.front = createHttpServer();
    this.front.on('connect', (req: IncomingMessage, socket: Socket) => {
      const url = req.url ?? '';
      this.targetHost = url.slice(0, url.lastIndexOf(':')).replace(/^\[|\]$/g, '');
      this.targetPort = Number(url.slice(url.lastIndexOf(':') + 1));
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      this.inside.emit('connection', socket);
    });
    this.front.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  private targetHost = '';
  private targetPort = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.front.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.front.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.front.close(() => resolve()));
    this.inside.close();
  }
}

/** The local endpoint and the proxies the proxy tests use against it, with a port where nothing listens. */
export interface ProxySet {
  emulator: Emulator;
  /** No authentication. */
  open: TestProxy;
  /** Basic authentication with the given user and password. */
  authed: TestProxy;
  /** Refuses CONNECT to the endpoint's port (403). */
  strict: TestProxy;
  /** An https:// proxy. */
  secure: TestProxy;
  /** Terminates TLS. */
  mitm: InterceptingProxy;
  /** A port that was just free: nothing listens there. */
  closedPort: number;
  stop(): Promise<void>;
}

/** Starts the endpoint and every kind of proxy at once. */
export async function startProxySet(auth: { user: string; password: string }): Promise<ProxySet> {
  const emulator = await new Emulator().start();
  const [open, authed, strict, secure, mitm] = await Promise.all([
    new TestProxy().start(),
    new TestProxy({ auth }).start(),
    new TestProxy({ refusePorts: [emulator.port] }).start(),
    new TestProxy({ tls: true }).start(),
    new InterceptingProxy().start(),
  ]);
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return {
    emulator,
    open,
    authed,
    strict,
    secure,
    mitm,
    closedPort,
    stop: async () => {
      await Promise.all([emulator.stop(), open.stop(), authed.stop(), strict.stop(), secure.stop(), mitm.stop()]);
    },
  };
}
