/**
 * A few REST resources of the platform, for the auth proxy's tests and bench: each checks the caller as the
 * platform does (a valid, unrevoked Bearer token it minted, or, with no Authorization, a client certificate
 * the TLS layer verified: the direct mTLS path), then answers. Big bodies are streamed both ways with
 * backpressure, so a test can push a gigabyte through without either side holding it.
 *
 * GET|HEAD /tenant/currentTenant   the tenant (the proxy's cheap token check)
 * GET /inventory/managedObjects    a page of objects, and the request as received (method, path, headers)
 * ANY /debug/request               the request as received, with the body's length and SHA-256
 * GET /download?bytes=N            N bytes (Content-Length; ?chunked drops it; ?delay=MS waits before the head)
 * POST|PUT /upload                 reads the body; answers its length and SHA-256
 * POST /echo                       the body back, as it arrives
 * GET /apps/..., *.js              the UI: a device token that fetches it is revoked (as thin-edge saw)
 * WebSocket /notification2/...     echoes every message
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';

export interface RestHost {
  /** The claims of a token this endpoint minted, not expired and not revoked. */
  validToken(token: string): Record<string, unknown> | undefined;
  /** Revokes one token (the UI paths do that to a device token). */
  revoke(token: string): void;
  tenant: string;
}

const UNAUTHORIZED = { error: 'security/Unauthorized', message: 'Full authentication is required to access this resource', info: 'https://cumulocity.com/guides/reference/rest-implementation' };

/** Whether `path` (with its query) is one of the REST resources here. */
export function isRestPath(path: string): boolean {
  const p = path.split('?')[0]!;
  return /^\/(tenant|inventory|debug|download|upload|echo|apps|notification2)(\/|$)/.test(p) || p.endsWith('.js');
}

/** Who is calling: the device user of a valid token, 'mtls' for a verified client certificate, or undefined. */
function caller(req: IncomingMessage, host: RestHost): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer (\S+)$/.exec(auth);
    const claims = m ? host.validToken(m[1]!) : undefined;
    return claims ? String(claims.sub) : undefined;
  }
  const socket = req.socket as TLSSocket;
  return socket.authorized ? 'mtls' : undefined;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The request as received, without the credential's value. */
function received(req: IncomingMessage): { method: string; path: string; headers: Record<string, string | string[] | undefined> } {
  const headers = { ...req.headers };
  if (headers.authorization) headers.authorization = headers.authorization.split(' ')[0] + ' ***';
  return { method: req.method ?? '', path: req.url ?? '', headers };
}

/** Answers a REST request (isRestPath); the body is read only once the caller is known. */
export function handleRest(req: IncomingMessage, res: ServerResponse, host: RestHost): void {
  const url = new URL(req.url ?? '/', 'https://endpoint');
  const path = url.pathname;
  const who = caller(req, host);
  if (!who) {
    // Answered at once, as the platform does; the rest of a body is read and dropped so the connection survives.
    req.resume();
    return json(res, 401, UNAUTHORIZED);
  }
  if (path.startsWith('/apps/') || path === '/apps' || path.endsWith('.js')) {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (m) host.revoke(m[1]!);
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/html' });
    return void res.end('<html><body>Cumulocity</body></html>');
  }
  if (path === '/tenant/currentTenant' && (req.method === 'GET' || req.method === 'HEAD')) {
    req.resume();
    return json(res, 200, { name: host.tenant, domainName: 'localhost', allowCreateTenants: false });
  }
  if (path === '/inventory/managedObjects' && req.method === 'GET') {
    req.resume();
    return json(res, 200, {
      managedObjects: [{ id: '1', name: 'device' }],
      statistics: { pageSize: Number(url.searchParams.get('pageSize') ?? 5), currentPage: 1 },
      caller: who,
      request: received(req),
    });
  }
  if (path === '/debug/request') {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.on('end', () => json(res, 200, { caller: who, request: received(req), bytes, sha256: hash.digest('hex') }));
    return;
  }
  if (path === '/download' && req.method === 'GET') {
    req.resume();
    const start = (): void => download(res, Number(url.searchParams.get('bytes') ?? 0), url.searchParams.has('chunked'));
    const delay = Number(url.searchParams.get('delay') ?? 0);
    return void (delay > 0 ? setTimeout(start, delay) : start());
  }
  if (path === '/upload' && (req.method === 'POST' || req.method === 'PUT')) {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.on('end', () => json(res, 201, { bytes, sha256: hash.digest('hex') }));
    return;
  }
  if (path === '/echo' && req.method === 'POST') {
    res.writeHead(200, { 'Content-Type': String(req.headers['content-type'] ?? 'application/octet-stream') });
    req.pipe(res);
    return;
  }
  req.resume();
  json(res, 404, { error: 'general/notFound', message: `Nothing at ${req.method} ${path}` });
}

/** A pattern of bytes (a counter, so a test can check order), written as fast as the reader takes them. */
function download(res: ServerResponse, total: number, chunked: boolean): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...(chunked ? {} : { 'Content-Length': total }) });
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = i & 0xff;
  let sent = 0;
  const push = (): void => {
    while (sent < total) {
      const n = Math.min(block.length, total - sent);
      sent += n;
      if (!res.write(n === block.length ? block : block.subarray(0, n))) return void res.once('drain', push);
    }
    res.end();
  };
  res.on('close', () => (sent = total));
  push();
}

/** The WebSocket side: upgrades on /notification2/ are checked like any request, then every message is echoed. */
export class WebSocketEcho {
  private readonly wss = new WebSocketServer({ noServer: true });

  constructor(private readonly host: RestHost) {
    this.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0]!;
    if (!path.startsWith('/notification2/')) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    if (!caller(req, this.host)) {
      const body = JSON.stringify(UNAUTHORIZED);
      return void socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }
}
