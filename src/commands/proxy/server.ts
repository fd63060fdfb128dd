/**
 * `c8ytoken proxy`: a local HTTP endpoint that forwards to the tenant and adds the credential. Node's own
 * HTTP server and client do all the parsing (no request smuggling to invent); bodies and answers are
 * piped with backpressure, so memory does not grow with their size. Bodies up to 1 MiB are kept, so the
 * one retry after a 401 can send them again; larger or unknown-length ones go once, after a cheap token
 * check when the token has not just worked. Nothing a client sends chooses where a request goes.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { C8yError } from '../../core/errors.js';
import type { TokenHolder } from './credential.js';
import { Metrics } from './metrics.js';
import type { HealthDocument } from '../../core/token/health.js';
import { pathForLog, tenantPath } from './paths.js';
import type { Upstream } from './upstream.js';
import { isLoopbackHost } from './listen.js';
import type { ListenAddress } from '../../core/config/listen.js';

/** Bodies up to this size are kept for the retry after a 401. */
export const REPLAY_LIMIT = 1024 * 1024;
/** Request headers larger than this are refused (431) by Node's parser. */
export const MAX_HEADER_BYTES = 16 * 1024;
const INTERNAL_PREFIX = '/_c8ytoken/';

/** Hop-by-hop headers (RFC 9110 7.6.1) and those that name the proxy itself: never forwarded. */
// Expect: Node's server has already answered 100-continue to the client (curl sends it before a large
// upload); asked again upstream it would only add a round trip.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'expect']);

/** One line of the access log. */
export interface AccessEntry {
  time: string;
  method: string;
  /** The path as asked, without query values. */
  path: string;
  status: number;
  /** Answer body bytes sent, request body bytes received. */
  bytes: number;
  bytesIn: number;
  durationMs: number;
  retried: boolean;
  /** Why it never reached the platform, when it did not. */
  refused?: string;
  websocket?: boolean;
}

export interface ServerSettings {
  mode: 'token' | 'mtls';
  allowUi: boolean;
  /** Only plain HTTP on TCP: Host must name loopback (a web page whose DNS points at 127.0.0.1 must not get through). */
  checkHost: boolean;
  requireHeader?: { name: string; value?: string } | undefined;
  upstreamTimeoutMs: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer | undefined } | undefined;
}

export interface ServerIo {
  access(entry: AccessEntry): void;
  health(): HealthDocument;
  now(): number;
  /** Body bytes passed through, either way (the process collects their buffers: memory.ts). */
  streamed?: ((bytes: number) => void) | undefined;
}

/** The JSON error body of an answer made here (never with a token in it). */
function localAnswer(res: ServerResponse, status: number, error: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: `c8ytoken/${error}`, message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** The same, written on a raw socket (an upgrade or CONNECT that never became HTTP on our side). */
function socketAnswer(socket: Duplex, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error: `c8ytoken/${error}`, message });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Request headers to send upstream: hop-by-hop ones out (and those Connection names), upgrade kept for a WebSocket. */
export function forwardHeaders(headers: IncomingHttpHeaders, upgrade = false): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  if (upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = headers.upgrade;
  }
  return out;
}

/** Answer headers to pass back, as raw pairs (case and repeated Set-Cookie kept), without hop-by-hop ones. */
function answerHeaders(raw: readonly string[], keepUpgrade = false): string[] {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'connection') for (const h of raw[i + 1]!.split(',')) named.add(h.trim().toLowerCase());
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (keepUpgrade && (name === 'connection' || name === 'upgrade')) out.push(raw[i]!, raw[i + 1]!);
    else if (!HOP_BY_HOP.has(name) && !named.has(name)) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** An answer's head as written on a raw socket: the status line and the headers given as raw pairs. */
function answerHead(status: number, statusMessage: string | undefined, raw: readonly string[], extra = ''): string {
  const lines = [`HTTP/1.1 ${status} ${statusMessage ?? STATUS_CODES[status] ?? ''}`];
  for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return `${lines.join('\r\n')}\r\n${extra}\r\n`;
}

/**
 * The answer to the client, with backpressure (pipe pauses the answer while the client's socket is full and
 * resumes it at 'drain'). Either side failing ends both: an answer cut upstream cuts the client's (it must
 * not look complete), a client gone mid-answer frees the upstream socket. Not stream/promises' pipeline:
 * its AbortController and the DOMException of its abort at every finish were a tenth of the proxy's CPU
 * per small request (profiled under `npm run bench:auth-proxy`).
 */
function relay(answer: IncomingMessage, res: ServerResponse): void {
  // A client gone while the platform was still answering: its 'close' has fired already, and piping into a
  // destroyed response would hold the upstream socket paused until --timeout.
  if (res.destroyed) return void answer.destroy();
  answer.on('error', () => res.destroy());
  res.on('close', () => {
    if (!answer.readableEnded) answer.destroy();
  });
  answer.pipe(res);
}

/** Reads a body of known small length; rejects when the client goes away or sends more. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) return void req.destroy(new Error('body larger than announced'));
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('client went away'));
    });
  });
}

export class ProxyServer {
  readonly metrics = new Metrics();
  private readonly server: Server;
  private readonly upgraded = new Set<Duplex>();
  private draining = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly upstream: Upstream,
    private readonly tokens: TokenHolder | undefined,
    private readonly s: ServerSettings,
    private readonly io: ServerIo,
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    // Node checks the headers timeout on an interval (30 s by default): often enough to keep to the limit.
    const common = {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: s.headerTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: 5_000,
      noDelay: true,
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, s.headerTimeoutMs / 4)),
    };
    this.server = s.tls
      ? createHttpsServer({ ...common, cert: s.tls.cert, key: s.tls.key, minVersion: 'TLSv1.2', ...(s.tls.ca ? { ca: s.tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
      : createHttpServer(common, handler);
    // A connection idle this long (a stalled body or a reader that stopped) is closed.
    this.server.on('connection', (socket: Socket) => socket.setTimeout(s.idleTimeoutMs, () => socket.destroy()));
    this.server.on('secureConnection', (socket: Socket) => socket.setTimeout(s.idleTimeoutMs, () => socket.destroy()));
    // CONNECT never opens a tunnel anywhere.
    this.server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      this.refusedAccess(req, 'connect', 405);
      socketAnswer(socket, 405, 'refused', 'CONNECT is not served: this proxy forwards only to the tenant.');
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return void socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      socketAnswer(socket, status, 'bad-request', status === 431 ? 'The request headers are too large.' : status === 408 ? 'The request headers took too long.' : 'The request is not valid HTTP/1.1.');
    });
  }

  get address(): ReturnType<Server['address']> {
    return this.server.address();
  }

  /** Starts listening (systemd: on the passed socket `fd`); LISTEN_FAILED when the address cannot be had. */
  listen(address: ListenAddress, fd?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void =>
        reject(new C8yError('LISTEN_FAILED', { value: address.shown, reason: err.message.replace(/^listen \w+: /, ''), ...(err.code ? { nodeCode: err.code } : {}) }, { cause: err }));
      this.server.once('error', onError);
      const done = (): void => {
        this.server.off('error', onError);
        resolve();
      };
      if (address.kind === 'unix') this.server.listen({ path: address.path }, done);
      else if (address.kind === 'systemd') this.server.listen({ fd: fd! }, done);
      else this.server.listen({ host: address.host, port: address.port }, done);
    });
  }

  /** Stops accepting, lets requests in flight finish for at most `ms`, then cuts what is left. */
  async drain(ms: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.metrics.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.server.closeAllConnections();
    for (const s of this.upgraded) s.destroy();
    await closed;
  }

  private enter(): void {
    this.metrics.inFlight += 1;
  }

  private leave(): void {
    this.metrics.inFlight -= 1;
    if (this.metrics.inFlight === 0) this.idle?.();
  }

  /** One access-log entry for a request that started at `started`; the rest of the entry is the caller's. */
  private logAccess(req: IncomingMessage, started: number, entry: Pick<AccessEntry, 'status'> & Partial<AccessEntry>): void {
    this.io.access({
      time: new Date(started).toISOString(),
      method: req.method ?? '',
      path: pathForLog(req.url ?? ''),
      bytes: 0,
      bytesIn: 0,
      durationMs: this.io.now() - started,
      retried: false,
      ...entry,
    });
  }

  private refusedAccess(req: IncomingMessage, reason: string, status: number, started = this.io.now()): void {
    this.metrics.countRefused(reason);
    this.metrics.countRequest(status);
    this.logAccess(req, started, { status, refused: reason });
  }

  /** Checks every request meets before anything else: Host, the required header, the path. A refusal is answered by `refuse`. */
  private admit(req: IncomingMessage, refuse: (status: number, reason: string, message: string) => void): string | undefined {
    if (this.s.checkHost) {
      const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopbackHost(host)) return void refuse(421, 'host', `Host "${host.slice(0, 100)}" is not this proxy: it answers only to localhost, 127.0.0.1 or [::1], and forwards only to the tenant.`);
    }
    const need = this.s.requireHeader;
    if (need) {
      const got = req.headers[need.name.toLowerCase()];
      if (got === undefined || (need.value !== undefined && got !== need.value)) return void refuse(403, 'header', `The header ${need.name} is required (--require-header).`);
    }
    const verdict = tenantPath(req.url ?? '', this.s.allowUi);
    if (!verdict.ok) {
      if (verdict.reason === 'ui')
        return void refuse(403, 'ui', 'apps/... and *.js are the web UI: the platform revokes a device token that fetches them, so they are not forwarded (--allow-ui forwards them).');
      if (verdict.reason === 'form') return void refuse(400, 'destination', 'Only paths are forwarded, to the tenant: an absolute URL or another destination is refused.');
      return void refuse(400, 'encoding', 'The path is not valid percent-encoding.');
    }
    return verdict.path;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = this.io.now();
    if (this.draining) res.setHeader('Connection', 'close');
    if ((req.url ?? '').startsWith(INTERNAL_PREFIX)) return this.internal(req, res);
    const path = this.admit(req, (status, reason, message) => {
      this.refusedAccess(req, reason, status, started);
      localAnswer(res, status, 'refused', message);
    });
    if (path === undefined) return;
    this.enter();
    let bytes = 0;
    let bytesIn = 0;
    let retried = false;
    res.once('close', () => {
      this.leave();
      this.metrics.countRequest(res.statusCode);
      this.metrics.bytesOut += bytes;
      this.metrics.bytesIn += bytesIn;
      this.logAccess(req, started, { status: res.statusCode, bytes, bytesIn, retried });
    });
    try {
      const useToken = this.s.mode === 'token' && req.headers.authorization === undefined;
      const headers = forwardHeaders(req.headers);
      const declared = req.headers['content-length'] === undefined ? (req.headers['transfer-encoding'] ? undefined : 0) : Number(req.headers['content-length']);
      // Kept for the retry: small bodies. Larger or unknown-length ones stream once.
      const body = declared !== undefined && declared <= REPLAY_LIMIT ? (declared === 0 ? Buffer.alloc(0) : await readBody(req, declared)) : undefined;
      bytesIn = body?.length ?? 0;
      if (!this.upstream.ready) return localAnswer(res, 503, 'unavailable', this.unavailableReason());
      let token: string | undefined;
      if (useToken) {
        token = this.tokens!.token();
        if (!token) return localAnswer(res, 503, 'unavailable', this.unavailableReason());
        if (body === undefined && !this.tokens!.knownGood(token)) token = await this.checkedToken(token);
        if (!token) return localAnswer(res, 503, 'unavailable', this.unavailableReason());
      }
      // A streamed body is counted as it goes (a listener added earlier would start the flow before the pipe).
      const send = (t: string | undefined): Promise<IncomingMessage> => {
        if (!body)
          req.on('data', (c: Buffer) => {
            bytesIn += c.length;
            this.io.streamed?.(c.length);
          });
        return this.send(req.method ?? 'GET', path, t ? { ...headers, authorization: `Bearer ${t}` } : headers, body ?? req);
      };
      let answer = await send(token);
      if (useToken && answer.statusCode === 401) {
        const rejected = token!;
        // A kept body goes again with the new token; a streamed one is gone: the 401 stands, and the next request finds a new token.
        const renewed = this.tokens!.refreshAfterRejection(rejected, this.s.upstreamTimeoutMs);
        if (body !== undefined) {
          const fresh = await renewed;
          if (fresh) {
            answer.resume();
            this.metrics.retries += 1;
            retried = true;
            token = fresh;
            answer = await send(fresh);
          }
        }
      }
      if (useToken && token && answer.statusCode !== 401) this.tokens!.markGood(token);
      if (this.draining) res.setHeader('Connection', 'close');
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders(answer.rawHeaders));
      answer.on('data', (c: Buffer) => {
        bytes += c.length;
        this.io.streamed?.(c.length);
      });
      relay(answer, res);
    } catch (err) {
      if (!res.headersSent) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ETIMEDOUT') localAnswer(res, 504, 'upstream-timeout', `The tenant ${this.upstream.origin.host} did not answer in time.`);
        else if (req.destroyed && !req.complete)
          res.destroy(); // the client went away
        else localAnswer(res, 502, 'upstream', `The tenant ${this.upstream.origin.host} could not be reached${code ? ` (${code})` : ''}.`);
      } else res.destroy();
    }
  }

  /** One request upstream; resolves at its answer's headers. `body`: a kept buffer, or the client's stream. */
  private send(method: string, path: string, headers: OutgoingHttpHeaders, body: Buffer | IncomingMessage): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const sent = this.io.now();
      const up = this.upstream.request({ method, path, headers }, this.s.upstreamTimeoutMs);
      up.on('response', (answer) => {
        this.metrics.observeLatency((this.io.now() - sent) / 1000);
        resolve(answer);
      });
      up.on('error', reject);
      // A kept body is sent with the client's own Content-Length (Node's parser held it to exactly that).
      if (Buffer.isBuffer(body)) up.end(body.length ? body : undefined);
      else {
        body.pipe(up);
        body.on('close', () => {
          if (!body.complete) up.destroy();
        });
      }
    });
  }

  /** Before a body that cannot be sent twice: HEAD /tenant/currentTenant with the token; a 401 gets a new one first. */
  private async checkedToken(token: string): Promise<string | undefined> {
    try {
      const answer = await this.send('HEAD', '/tenant/currentTenant', { authorization: `Bearer ${token}`, accept: 'application/json' }, Buffer.alloc(0));
      answer.resume();
      if (answer.statusCode !== 401) {
        this.tokens!.markGood(token);
        return token;
      }
      return await this.tokens!.refreshAfterRejection(token, this.s.upstreamTimeoutMs);
    } catch {
      return token; // the real request will meet (and report) the same network failure
    }
  }

  private unavailableReason(): string {
    const health = this.io.health();
    return `c8ytoken cannot serve yet: ${health.reason ?? 'no credential'}. GET /_c8ytoken/health says more.`;
  }

  private internal(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return localAnswer(res, 405, 'method', 'Only GET and HEAD.');
    const health = this.io.health();
    if (path === '/_c8ytoken/health') {
      const status = health.ok ? 200 : 503;
      const body = JSON.stringify(health);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } else if (path === '/_c8ytoken/metrics') {
      const body = this.metrics.render(health, this.io.now());
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } else localAnswer(res, 404, 'not-found', 'c8ytoken serves /_c8ytoken/health and /_c8ytoken/metrics.');
  }

  /** A WebSocket (or other) upgrade: the same checks and credential, one retry at the handshake after a 401. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = this.io.now();
    socket.on('error', () => socket.destroy());
    const path = this.admit(req, (status, reason, message) => {
      this.refusedAccess(req, reason, status, started);
      socketAnswer(socket, status, 'refused', message);
    });
    if (path === undefined) return;
    const useToken = this.s.mode === 'token' && req.headers.authorization === undefined;
    let token = useToken ? this.tokens!.token() : undefined;
    if ((useToken && !token) || !this.upstream.ready) return socketAnswer(socket, 503, 'unavailable', this.unavailableReason());
    let retried = false;
    const log = (status: number): void => this.logAccess(req, started, { status, retried, websocket: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers = forwardHeaders(req.headers, true);
      if (token) headers.authorization = `Bearer ${token}`;
      const up = this.upstream.request({ method: req.method ?? 'GET', path, headers }, this.s.upstreamTimeoutMs);
      const outcome = await new Promise<{ upgraded: [IncomingMessage, Duplex, Buffer] } | { answer: IncomingMessage } | { error: Error }>((resolve) => {
        up.on('upgrade', (answer, upSocket, upHead) => resolve({ upgraded: [answer, upSocket, upHead] }));
        up.on('response', (answer) => resolve({ answer }));
        up.on('error', (error) => resolve({ error }));
        up.end();
      });
      if ('error' in outcome) {
        log(502);
        return socketAnswer(socket, 502, 'upstream', `The tenant ${this.upstream.origin.host} could not be reached.`);
      }
      if ('answer' in outcome) {
        const { answer } = outcome;
        if (useToken && answer.statusCode === 401 && attempt === 0) {
          answer.resume();
          this.metrics.retries += 1;
          retried = true;
          token = (await this.tokens!.refreshAfterRejection(token!, this.s.upstreamTimeoutMs)) ?? token;
          continue;
        }
        log(answer.statusCode ?? 502);
        socket.write(answerHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders(answer.rawHeaders), 'Connection: close\r\n'));
        return void pipeline(answer, socket).catch(() => socket.destroy());
      }
      const [answer, upSocket, upHead] = outcome.upgraded;
      if (useToken && token) this.tokens!.markGood(token);
      log(101);
      socket.write(answerHead(101, answer.statusMessage, answerHeaders(answer.rawHeaders, true)));
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      this.upgraded.add(socket);
      const end = (): void => {
        this.upgraded.delete(socket);
        socket.destroy();
        upSocket.destroy();
      };
      upSocket.on('error', end);
      socket.on('close', end);
      upSocket.on('close', end);
      upSocket.pipe(socket);
      socket.pipe(upSocket);
      return;
    }
  }
}
