/**
 * A local Cumulocity-like device token endpoint, for the tests and `npm run demo`: mutual TLS with
 * `requestCert` against the fixture device CA, `POST /devicecontrol/deviceAccessToken`, RS256 tokens with
 * the claims of a real device token, the same token again before half-life, and faults on request.
 * With `est`, the same port also serves certificate renewal and enrollment (./est.ts).
 * It listens on loopback only.
 *
 * One port for both: the platform serves tokens on 8443 and EST on 443, but a URL that names a port (as
 * every test's does) sends both to that port. EST's enroll has no client certificate, so with `est` the
 * TLS layer asks for a certificate without requiring one, and the token endpoint checks it per request:
 * an untrusted or missing certificate gets the connection reset right after the handshake, which is how
 * the platform's refusal looks to a client under TLS 1.3 (cumulocity.md). Without `est` (the default),
 * untrusted certificates still fail in the handshake itself, so the tests of that path (TLS 1.2 alert,
 * TLS 1.3 reset) keep testing the real thing.
 */
import { createPrivateKey, createPublicKey, createSign, createVerify, randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { EstService } from './est.js';
import { takeFault } from './faults.js';
import { handleRest, isRestPath, WebSocketEcho } from './rest.js';
export { EST_FAULTS, type EstFault } from './est.js';

/** The chain header's name, spelled here rather than imported: the endpoint shares no code with the client. */
const CHAIN_HEADER = 'x-ssl-cert-chain';

/**
 * The PEM certificates of an `X-Ssl-Cert-Chain` value, restored as a server restores them: the spaces that
 * stood for newlines become newlines again (the two inside each BEGIN and END line stay). This is the
 * server's own reading, not the client's code, so that a client that gets the one-line form wrong fails
 * here; each block is then parsed by OpenSSL (X509Certificate), and one that does not parse is a 400.
 */
export function chainHeaderPems(value: string): string[] {
  const text = value.replace(/ /g, '\n').replace(/-----(BEGIN|END)\nCERTIFICATE-----/g, '-----$1 CERTIFICATE-----');
  return text.match(/-----BEGIN CERTIFICATE-----\n[\s\S]*?\n-----END CERTIFICATE-----/g) ?? [];
}

/** What the endpoint can be told to do instead of answering well. */
export type Fault =
  | 'http400'
  | 'http401'
  | 'http403'
  | 'http404'
  | 'http422'
  | 'http429'
  | 'http500'
  | 'http503'
  | 'html400'
  | 'not-json'
  | 'no-token'
  | 'not-jwt'
  | 'oversized'
  | 'hang'
  | 'reset'
  | 'redirect'
  /** Headers and part of the body, then the connection is cut. */
  | 'truncate'
  /** A token that expires before the one handed out last. */
  | 'older'
  /** Tokens whose exp cannot be used. */
  | 'no-exp'
  | 'negative-exp'
  | 'huge-exp'
  /** A tenant claim that tries to end PowerShell's quotes, and a claim with terminal escape sequences. */
  | 'hostile-claims'
  /** A tenant claim with control characters (no shell may get it). */
  | 'control-claims'
  /** A device user (sub) with a colour escape, BEL and carriage return (no terminal or journal may get them). */
  | 'control-sub'
  /** Claims nested 10,000 deep. */
  | 'deep-claims'
  /** A 401 whose message is 600 KiB with escape sequences. */
  | 'huge-error';

export const FAULTS: readonly Fault[] = [
  'http400',
  'http401',
  'http403',
  'http404',
  'http422',
  'http429',
  'http500',
  'http503',
  'html400',
  'not-json',
  'no-token',
  'not-jwt',
  'oversized',
  'hang',
  'reset',
  'redirect',
  'truncate',
  'older',
  'no-exp',
  'negative-exp',
  'huge-exp',
  'hostile-claims',
  'control-claims',
  'control-sub',
  'deep-claims',
  'huge-error',
];

export interface EmulatorOptions {
  port?: number;
  host?: string;
  tenant?: string;
  lifetimeSeconds?: number;
  /** Which server certificate to present: one for localhost, or one for another name. */
  serverCert?: 'localhost' | 'wronghost';
  /** Cap the TLS version, e.g. to see how a client-certificate refusal looks under TLS 1.2. */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /**
   * 'handshake' (default): untrusted client certificates fail the TLS handshake; 'http': they get a 401.
   * With `est`, 'handshake' becomes a reset right after the handshake (see the top of this file).
   */
  clientCheck?: 'handshake' | 'http';
  /** Also serve EST (simpleenroll, simplereenroll) on the same port, signing with the fixture EST CA. */
  est?: boolean;
  /** The clock in milliseconds, for token times. */
  now?: () => number;
  fixturesDir?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  accept: string | undefined;
  authorization: boolean;
  contentLength: number;
  clientCn: string | undefined;
  /** Subjects' CNs of the certificates presented in the TLS handshake, leaf first. */
  handshakeChain: string[];
  /** Number of certificates in X-Ssl-Cert-Chain, or undefined when absent. */
  chainHeaderCount: number | undefined;
  tlsVersion: string | null;
  /** When it arrived, on the endpoint's clock (ms). */
  at: number;
}

interface Issued {
  token: string;
  iat: number;
  exp: number;
}

const ERROR_BODIES: Record<string, { status: number; error: string; message: string }> = {
  http400: { status: 400, error: 'Device Certificates/Bad Request', message: 'Cannot parse X509 certificate. : Incomplete data' },
  http401: { status: 401, error: 'security/Unauthorized', message: 'Invalid certificate chain!' },
  http403: { status: 403, error: 'security/Forbidden', message: 'Access is denied' },
  http404: { status: 404, error: 'Not Found', message: 'This feature is disabled, please contact system administrator.' },
  http422: { status: 422, error: 'Invalid Data', message: 'Cannot process certificate data.' },
  http429: { status: 429, error: 'Too Many Requests', message: 'Rate limit exceeded' },
  http500: { status: 500, error: 'general/internalError', message: 'Internal server error' },
  http503: { status: 503, error: 'general/serviceUnavailable', message: 'Service temporarily unavailable' },
};

/** Faults that answer 200 with a damaged token (the others replace the answer). */
const TOKEN_FAULTS = new Set<Fault>(['older', 'no-exp', 'negative-exp', 'huge-exp', 'hostile-claims', 'control-claims', 'control-sub', 'deep-claims']);

const fixtures = (dir: string, name: string): Buffer => readFileSync(new URL(name, dir));
/** fixtures/pki of the checkout: two folders up from test/emulator, one up from the bundle in dist/. */
const DEFAULT_FIXTURES =
  ['../../fixtures/pki/', '../fixtures/pki/'].map((rel) => new URL(rel, import.meta.url)).find((u) => existsSync(u))?.href ?? new URL('../../fixtures/pki/', import.meta.url).href;

/** The local endpoint. `start()` it, point the client at `url`, `stop()` it. */
export class Emulator {
  readonly requests: RecordedRequest[] = [];
  /** The next answers' fault; `faultCount` limits how many requests get it (then it clears). */
  fault: Fault | undefined;
  faultCount = Infinity;
  lifetimeSeconds: number;
  /** Tokens minted (not counting the same token handed out again). */
  issued = 0;
  /** Hand out the previous token again until it expires, even after its half-life (an "early same token"). */
  sticky = false;
  /** A Retry-After header (seconds, or an HTTP date) on the 429 and 503 faults, as a platform under load sends. */
  retryAfter: string | undefined;
  private readonly server: Server;
  private readonly signingKey: KeyObject;
  private readonly tokens = new Map<string, Issued>();
  private readonly sockets = new Set<Socket>();
  /** What each connection's client presented in its handshake, read the moment the handshake completed. */
  private readonly presented = new WeakMap<TLSSocket, DetailedPeerCertificate>();
  private readonly options: EmulatorOptions;
  /** The EST side, when started with `est`. */
  readonly est: EstService | undefined;
  /** Tokens revoked before their expiry (revokeTokens, or a device token that fetched the UI). */
  private readonly revoked = new Set<string>();
  /** Every token minted and not yet expired, so that all of them can be revoked at once. */
  private readonly live = new Map<string, number>();
  private readonly verifyKey: KeyObject;
  private readonly webSockets: WebSocketEcho;

  constructor(options: EmulatorOptions = {}) {
    this.options = options;
    this.lifetimeSeconds = options.lifetimeSeconds ?? 3600;
    const dir = options.fixturesDir ?? DEFAULT_FIXTURES;
    this.signingKey = createPrivateKey(fixtures(dir, 'token-signing.key'));
    this.verifyKey = createPublicKey(this.signingKey);
    const restHost = {
      validToken: (t: string) => (this.revoked.has(t) ? undefined : this.verifyToken(t, this.verifyKey)),
      revoke: (t: string) => this.revokeTokens(t),
      tenant: options.tenant ?? 't12345',
    };
    this.webSockets = new WebSocketEcho(restHost);
    const serverName = options.serverCert === 'wronghost' ? 'server-wronghost' : 'server';
    // With EST on the port, client certificates are checked per request (enroll has none).
    const check = options.est ? 'request' : (options.clientCheck ?? 'handshake');
    if (options.est) {
      const verifyKey = this.verifyKey;
      this.est = new EstService({
        caKey: createPrivateKey(fixtures(dir, 'est-ca.key')),
        caCert: new X509Certificate(fixtures(dir, 'est-ca.crt')),
        verifyToken: (token) => this.verifyToken(token, verifyKey),
        now: () => this.now(),
      });
    }
    this.server = createServer(
      {
        key: fixtures(dir, `${serverName}.key`),
        cert: fixtures(dir, `${serverName}.crt`),
        // With EST, the CA that signs renewed certificates is trusted as the platform trusts its own CA:
        // a renewed certificate works alone, without the chain of the certificate it replaced.
        ca: [fixtures(dir, 'device-root-ca.crt'), ...(options.est ? [fixtures(dir, 'est-ca.crt')] : [])],
        requestCert: true,
        rejectUnauthorized: check === 'handshake',
        ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
      },
      (req, res) => (isRestPath(req.url ?? '') ? this.handleRest(req, res, restHost) : this.handle(req, res)),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.record(req, socket as TLSSocket);
      this.webSockets.handleUpgrade(req, socket, head);
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // The certificates the client sent must be read before Node reads them itself. Node 24's TLS server
    // calls getPeerX509Certificate() as each handshake completes (to refuse a resumed TLS 1.3 session
    // without a client certificate), and that call consumes OpenSSL's list of the certificates the peer
    // sent (X509Certificate::New takes them off the list it is given): getPeerCertificate(true) in a
    // request handler then shows the leaf alone, although the client did send its intermediate (Node 20
    // does the same after any getPeerX509Certificate() call). The keylog event hands over each socket
    // during its handshake; a 'secure' listener put before Node's own then records the chain unconsumed.
    this.server.on('keylog', (_line: Buffer, socket: TLSSocket) => this.recordPresentedChain(socket));
    // Handshake refusals are expected here; they must not crash the server.
    this.server.on('tlsClientError', () => undefined);
  }

  /** Starts listening (port 0: any free port); resolves when ready. */
  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The tenant URL to give the client (host localhost, so the server certificate's name matches). */
  get url(): string {
    return `https://localhost:${this.port}`;
  }

  /** Connections open to it now (a test sees a client close one). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Stops listening and cuts open connections. */
  async stop(): Promise<void> {
    this.webSockets.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Revokes a token before its expiry, or every token minted so far ("Revoke tokens" in the UI, a session
   * limit): REST answers 401 to them, and the next token request mints a new one.
   */
  revokeTokens(token?: string): void {
    const now = this.now() / 1000;
    for (const [t, exp] of this.live) if (exp <= now) this.live.delete(t);
    for (const t of token === undefined ? this.live.keys() : [token]) this.revoked.add(t);
    for (const [cn, issued] of this.tokens) if (this.revoked.has(issued.token)) this.tokens.delete(cn);
  }

  private handleRest(req: IncomingMessage, res: ServerResponse, host: Parameters<typeof handleRest>[2]): void {
    this.record(req, req.socket as TLSSocket);
    handleRest(req, res, host);
  }

  /** Forgets issued tokens, so the next request mints a new one. */
  forgetTokens(): void {
    this.tokens.clear();
  }

  private recordPresentedChain(socket: TLSSocket): void {
    if (this.presented.has(socket)) return;
    this.presented.set(socket, {} as DetailedPeerCertificate);
    socket.prependOnceListener('secure', () => this.presented.set(socket, socket.getPeerCertificate(true)));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as TLSSocket;
    const { record, chainHeaderCerts } = this.record(req, socket);
    if (this.est && record.path.startsWith('/.well-known/est/')) {
      // A CSR is about a KiB; anything far larger is not one.
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      req.on('end', () => (size > 64 * 1024 ? this.json(res, 413, { error: 'general/tooLarge', message: 'Request too large' }) : this.answerEst(req, res, Buffer.concat(chunks))));
      return;
    }
    req.resume();
    req.on('end', () => this.answer(req, res, socket, record, chainHeaderCerts));
  }

  /** Records what a request presented (handshake chain, chain header) in `requests`. */
  private record(req: IncomingMessage, socket: TLSSocket): { record: RecordedRequest; chainHeaderCerts: string[] | undefined } {
    const recorded = this.presented.get(socket);
    const peer = recorded?.subject ? recorded : socket.getPeerCertificate(true);
    const handshakeChain: string[] = [];
    for (let c = peer, i = 0; c && c.subject && i < 10; i++) {
      handshakeChain.push(String(c.subject.CN));
      if (!c.issuerCertificate || c.issuerCertificate === c) break;
      c = c.issuerCertificate;
    }
    const chainHeader = req.headers[CHAIN_HEADER];
    const chainHeaderCerts = typeof chainHeader === 'string' ? chainHeaderPems(chainHeader) : undefined;
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      accept: req.headers.accept,
      authorization: req.headers.authorization !== undefined,
      contentLength: Number(req.headers['content-length'] ?? 0),
      clientCn: peer?.subject?.CN ? String(peer.subject.CN) : undefined,
      handshakeChain,
      chainHeaderCount: chainHeaderCerts?.length,
      tlsVersion: socket.getProtocol(),
      at: this.now(),
    };
    this.requests.push(record);
    return { record, chainHeaderCerts };
  }

  /** The EST side's answer; a failure of its own (a bug) is a 500, never an unanswered request. */
  private answerEst(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    this.est!.handle(req, res, body).catch(() => {
      if (!res.headersSent) this.json(res, 500, { error: 'general/internalError', message: 'The EST endpoint failed' });
    });
  }

  /** Registers a device for EST enrollment with its one-time password (needs `est`); the first pendingPolls attempts get 401. */
  registerEnrollment(deviceId: string, oneTimePassword: string, options: { pendingPolls?: number } = {}): void {
    if (!this.est) throw new Error('registerEnrollment needs an Emulator started with { est: true }');
    this.est.registerEnrollment(deviceId, oneTimePassword, options);
  }

  /** The claims of a token this emulator minted and that has not expired; undefined otherwise. */
  private verifyToken(token: string, key: KeyObject): Record<string, unknown> | undefined {
    const [header, claims, signature] = token.split('.');
    if (!header || !claims || signature === undefined) return undefined;
    const ok = createVerify('RSA-SHA256').update(`${header}.${claims}`).verify(key, Buffer.from(signature, 'base64url'));
    if (!ok) return undefined;
    try {
      const parsed = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>;
      return typeof parsed.exp === 'number' && parsed.exp * 1000 > this.now() ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * With a clock of its own (a virtual one, months in milliseconds), a device certificate OpenSSL refused
   * only because of the machine's time (its signatures were verified before the dates) is judged on that clock.
   */
  private validOnOwnClock(socket: TLSSocket): boolean {
    if (!this.options.now) return false;
    const reason = socket.authorizationError as unknown;
    const code = reason instanceof Error ? (reason as NodeJS.ErrnoException).code : String(reason);
    if (code !== 'CERT_NOT_YET_VALID' && code !== 'CERT_HAS_EXPIRED') return false;
    const leaf = socket.getPeerX509Certificate();
    const now = this.now();
    return leaf !== undefined && Date.parse(leaf.validFrom) <= now && now <= Date.parse(leaf.validTo);
  }

  private answer(req: IncomingMessage, res: ServerResponse, socket: TLSSocket, record: RecordedRequest, chainHeaderCerts: string[] | undefined): void {
    if (req.method !== 'POST' || record.path !== '/devicecontrol/deviceAccessToken') {
      // As the platform: a certificate it cannot verify is refused whatever the path (clientCheck 'http').
      if (!this.options.est && this.options.clientCheck === 'http' && !socket.authorized && socket.getPeerCertificate()?.raw) {
        return this.json(res, 401, { error: 'security/Unauthorized', message: 'Invalid certificate chain!' });
      }
      return this.json(res, 404, { error: 'general/notFound', message: `Nothing at ${req.method} ${record.path}` });
    }
    const fault = takeFault(this);
    if (fault && !TOKEN_FAULTS.has(fault)) return this.misbehave(fault, res, socket);
    if (!socket.authorized && !this.validOnOwnClock(socket)) {
      // EST on the port: the handshake let every certificate in; refuse here as the platform does under TLS 1.3.
      if (this.options.est && (this.options.clientCheck ?? 'handshake') === 'handshake') {
        socket.destroy();
        return;
      }
      return this.json(res, 401, { error: 'security/Unauthorized', message: 'Invalid certificate chain!' });
    }
    if (chainHeaderCerts) {
      try {
        for (const pem of chainHeaderCerts) new X509Certificate(pem);
      } catch {
        return this.json(res, 400, { error: 'Device Certificates/Bad Request', message: 'Cannot parse X509 certificate. : Incomplete data' });
      }
    }
    const cn = record.clientCn ?? 'unknown';
    const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '');
    // Whole seconds as the platform uses; sub-second lifetimes (soak runs) need fractional NumericDates.
    const nowSeconds = Number.isInteger(this.lifetimeSeconds) ? Math.floor(this.now() / 1000) : this.now() / 1000;
    const previous = this.tokens.get(cn);
    if (fault) return this.json(res, 200, { accessToken: this.faultyToken(fault, cn, host, nowSeconds, previous).token, idToken: null });
    // Half-life rule: before iat + (exp - iat) / 2 the platform hands out the same token again.
    const reuseUntil = previous ? (this.sticky ? previous.exp : previous.iat + (previous.exp - previous.iat) / 2) : 0;
    if (previous && nowSeconds < reuseUntil) {
      return this.json(res, 200, { accessToken: previous.token, idToken: null }, 'application/vnd.com.nsn.cumulocity.managedobject+json; charset=UTF-8; ver=0.9');
    }
    const issued = this.mint(cn, host, nowSeconds);
    this.tokens.set(cn, issued);
    this.json(res, 200, { accessToken: issued.token, idToken: null }, 'application/vnd.com.nsn.cumulocity.managedobject+json; charset=UTF-8; ver=0.9');
  }

  private misbehave(fault: Fault, res: ServerResponse, socket: TLSSocket): void {
    const body = ERROR_BODIES[fault];
    if (body)
      return this.json(
        res,
        body.status,
        { error: body.error, message: body.message, info: 'https://cumulocity.com/guides/reference/rest-implementation' },
        'application/vnd.com.nsn.cumulocity.error+json',
      );
    switch (fault) {
      case 'html400':
        res.writeHead(400, { 'Content-Type': 'text/html' });
        res.end(
          '<html>\r\n<head><title>400 The SSL certificate error</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The SSL certificate error</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
        );
        return;
      case 'not-json':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('<html><body>Service maintenance</body></html>');
        return;
      case 'no-token':
        return this.json(res, 200, { idToken: null });
      case 'not-jwt':
        return this.json(res, 200, { accessToken: 'not-a-jwt', idToken: null });
      case 'oversized': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const push = (): void => {
          while (sent < 4 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', push);
          }
          res.end('{}');
        };
        push();
        return;
      }
      case 'hang':
        return; // never answer
      case 'reset':
        socket.destroy();
        return;
      case 'redirect':
        res.writeHead(302, { Location: 'https://example.invalid/devicecontrol/deviceAccessToken' });
        res.end();
        return;
      case 'truncate':
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '2000' });
        res.write('{"accessToken": "eyJhbGciOiJSUzI1NiJ9.');
        setTimeout(() => socket.destroy(), 20);
        return;
      case 'huge-error':
        return this.json(res, 401, { error: 'security/Unauthorized\u001b[2J', message: `\u001b]0;owned\u0007${'x'.repeat(600 * 1024)}`, info: 'https://cumulocity.com' });
      default:
        return;
    }
  }

  /** A 200 token answer with something wrong in the token (the token faults). */
  private faultyToken(fault: Fault, cn: string, host: string, now: number, previous: Issued | undefined): Issued {
    switch (fault) {
      case 'older': {
        // Still valid, but expiring before the token handed out last.
        const exp = (previous?.exp ?? now + this.lifetimeSeconds) - Math.max(1, this.lifetimeSeconds / 4);
        return this.mint(cn, host, exp - this.lifetimeSeconds, { exp });
      }
      case 'no-exp':
        return this.mint(cn, host, now, { exp: undefined });
      case 'negative-exp':
        return this.mint(cn, host, now, { exp: -5 });
      case 'huge-exp':
        return this.mint(cn, host, now, { exp: 1e15 });
      case 'hostile-claims':
        return this.mint(cn, host, now, { ten: "t1\u2018; Remove-Item -Recurse ~ #'", note: '\u001b]0;owned\u0007\u001b[2J' });
      case 'control-claims':
        return this.mint(cn, host, now, { ten: 't1\u001b[2J\n' });
      case 'control-sub':
        return this.mint(cn, host, now, { sub: `device_${cn}\u001b[31m\u0007\r` });
      case 'deep-claims':
        // Written as text: JSON.stringify itself would overflow the stack on 10,000 levels.
        return this.mint(cn, host, now, {}, `,"nested":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`);
      default:
        return this.mint(cn, host, now);
    }
  }

  private json(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
    // The Date header comes from the endpoint's clock (a parameter), as the platform's from its own.
    res.sendDate = false;
    const retry = this.retryAfter !== undefined && (status === 429 || status === 503) ? { 'Retry-After': this.retryAfter } : {};
    res.writeHead(status, { 'Content-Type': contentType, Date: new Date(this.now()).toUTCString(), ...retry });
    res.end(JSON.stringify(body));
  }

  /** A signed token; `extraJson` is appended to the claims object as raw JSON text (`,"k":v`). */
  private mint(cn: string, host: string, iat: number, overrides: Record<string, unknown> = {}, extraJson = ''): Issued {
    const exp = iat + this.lifetimeSeconds;
    const header = { alg: 'RS256' };
    const claims = {
      jti: randomUUID(),
      iss: host,
      aud: host,
      sub: `device_${cn}`,
      tci: 'device_token_config',
      iat,
      nbf: iat,
      exp,
      tfa: false,
      ten: this.options.tenant ?? 't12345',
      xsrfToken: randomBytes(15).toString('base64url'),
      ...overrides,
    };
    const encode = (text: string): string => Buffer.from(text).toString('base64url');
    const input = `${encode(JSON.stringify(header))}.${encode(JSON.stringify(claims).replace(/}$/, `${extraJson}}`))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(this.signingKey).toString('base64url');
    this.issued += 1;
    this.live.set(`${input}.${signature}`, typeof claims.exp === 'number' ? claims.exp : exp);
    return { token: `${input}.${signature}`, iat, exp: typeof claims.exp === 'number' ? claims.exp : exp };
  }
}
