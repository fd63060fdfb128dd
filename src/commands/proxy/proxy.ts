/**
 * `c8ytoken proxy`, the logic: typed options in, a running proxy out; it resolves with the exit code
 * once stopped (SIGTERM: stop accepting, drain for at most --drain-timeout, 143). Logging is the
 * caller's (events); nothing here writes to a terminal.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../../core/config/settings.js';
import { C8yError, ExitCode, type ExitCodeValue } from '../../core/errors.js';
import type { KeeperIo, Renewer, TokenEvent } from '../../core/token/keeper.js';
import { requireEndpoint } from '../../core/token/source.js';
import { decideProxy } from '../../core/token/proxy.js';
import { describeProxy } from '../../core/platform/proxy/select.js';
import { IdentityHolder, TokenHolder, type UpstreamCredentials } from './credential.js';
import { certificateHealth, type HealthDocument } from '../../core/token/health.js';
import { tokenTimes } from '../../core/token/jwt.js';
import type { ListenAddress } from '../../core/config/listen.js';
import { checkExposure, clearStaleSocket, groupId, resolvedAddress, secureSocket, systemdSocket } from './listen.js';
import { ProxyServer, type AccessEntry, type ServerSettings } from './server.js';
import { Upstream } from './upstream.js';
import { describeError } from '../../output/messages.js';

/** The proxy's options, resolved once from flags, environment and config. */
export interface ProxyOptions {
  listen: ListenAddress;
  upstreamAuth: 'token' | 'mtls';
  allowUi: boolean;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  clientCa?: string | undefined;
  socketMode: number;
  socketGroup?: string | undefined;
  requireHeader?: { name: string; value?: string } | undefined;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  drainTimeoutMs: number;
  /** Also keep the token in this file (0600), and its sidecar; default: a private file removed at exit. */
  output?: string | undefined;
  meta?: string | undefined;
  minRetryMs: number;
  maxRetryMs: number;
  slowRetryMs: number;
  /** --renew-before (token mode): the keeper renews the certificate in that window, as watch does. */
  renewal?: { beforeMs: number; renew: Renewer } | undefined;
}

export type ProxyEvent =
  | { event: 'listening'; time: string; address: string; upstream: string; mode: 'token' | 'mtls'; via: string }
  | ({ event: 'access' } & AccessEntry)
  | { event: 'reload'; time: string }
  | { event: 'draining'; time: string; inFlight: number }
  | TokenEvent;

export interface ProxyIo extends Omit<KeeperIo, 'emit'> {
  emit(event: ProxyEvent): void;
  /** Takes SIGINT, SIGTERM and SIGHUP (the proxy drains on the first two, re-reads the identity on the third). */
  takeSignals?(handler: (signal: NodeJS.Signals) => void): () => void;
  /** Body bytes passed through, either way (run.ts collects their buffers as they go: memory.ts). */
  streamed?: (bytes: number) => void;
  /** Called once listening, with the server (tests read its address). */
  started?(server: ProxyServer): void;
}

/** The origin requests go to: the tenant URL's port, else 443 (token) or 8443 (mtls), as cumulocity.md says. */
export function upstreamOrigin(tenant: URL, mode: 'token' | 'mtls'): URL {
  const url = new URL(tenant.origin);
  if (tenant.port === '' && mode === 'mtls') url.port = '8443';
  return url;
}

/** How often mTLS mode looks whether the credential files changed (token mode: at every refresh). */
const IDENTITY_CHECK_MS = 30_000;

export async function proxyCommand(settings: Settings, options: ProxyOptions, io: ProxyIo): Promise<ExitCodeValue> {
  checkExposure(options.listen, { cert: options.tlsCert, key: options.tlsKey, clientCa: options.clientCa });
  const endpoint = requireEndpoint(settings);
  const decision = decideProxy(settings, io.env, endpoint);
  const origin = upstreamOrigin(settings.tenant ?? endpoint, options.upstreamAuth);
  const tls = options.tlsCert
    ? {
        cert: await readFile(options.tlsCert).catch((err: NodeJS.ErrnoException) => fileError(err, options.tlsCert!, 'certificate')),
        key: await readFile(options.tlsKey!).catch((err: NodeJS.ErrnoException) => fileError(err, options.tlsKey!, 'key')),
        ca: options.clientCa ? await readFile(options.clientCa).catch((err: NodeJS.ErrnoException) => fileError(err, options.clientCa!, 'device CA')) : undefined,
      }
    : undefined;
  const gid = options.socketGroup !== undefined ? await groupId(options.socketGroup) : undefined;

  const stop = new AbortController();
  let stopReason = 'start failed';
  const keeperIo: KeeperIo = { ...io, signal: stop.signal, emit: (e) => io.emit(e) };
  const upstream = new Upstream(origin);
  const startedAt = new Date(io.now()).toISOString();
  let creds: UpstreamCredentials;
  let tokens: TokenHolder | undefined;
  let keeper: Promise<ExitCodeValue> | undefined;
  let dir: string | undefined;
  let checker: NodeJS.Timeout | undefined;
  try {
    if (options.upstreamAuth === 'token') {
      tokens = new TokenHolder(keeperIo, () => io.now());
      tokens.onContext = (context, route) => upstream.use(context, route);
      creds = tokens;
      dir = options.output ? undefined : await mkdtemp(join(tmpdir(), 'c8ytoken-proxy-'));
      keeper = tokens.run(settings, {
        output: options.output ?? join(dir!, 'token'),
        meta: options.meta,
        once: false,
        exitOnError: false,
        minRetryMs: options.minRetryMs,
        maxRetryMs: options.maxRetryMs,
        slowRetryMs: options.slowRetryMs,
        renewal: options.renewal,
      });
      // A configuration or file problem ends the proxy before it listens; an outage does not (503 until a token comes).
      await Promise.race([tokens.ready(), keeper.then((code) => Promise.reject(new C8yError('INTERNAL', { detail: `the token keeper ended (${code})` })))]);
      await tokens.ensureContext(settings, decision);
    } else {
      const identity = new IdentityHolder(settings, keeperIo, decision);
      identity.onContext = (context, route) => upstream.use(context, route);
      creds = identity;
      await identity.check();
      checker = setInterval(() => void identity.check().catch(() => undefined), IDENTITY_CHECK_MS);
      checker.unref();
    }

    const withinMs = options.renewal?.beforeMs ?? 30 * 86_400_000;
    const health = (): HealthDocument => healthOf(creds, tokens, origin, options.upstreamAuth, withinMs, io.now(), startedAt, describeProxy(decision));
    const serverSettings: ServerSettings = {
      mode: options.upstreamAuth,
      allowUi: options.allowUi,
      // systemd's socket: decided below, once its address is known (before any connection is read).
      checkHost: !tls && options.listen.kind !== 'unix',
      requireHeader: options.requireHeader,
      upstreamTimeoutMs: settings.timeoutMs,
      headerTimeoutMs: options.headerTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      tls,
    };
    const server = new ProxyServer(upstream, tokens, serverSettings, { access: (entry) => io.emit({ event: 'access', ...entry }), health, now: () => io.now(), streamed: io.streamed });
    if (tokens) {
      const counted = tokens;
      server.metrics.refreshes = () => counted.refreshes;
    }
    let shown: string | undefined;
    if (options.listen.kind === 'unix') {
      await clearStaleSocket(options.listen);
      // Made under umask 0177: nobody else can connect before the mode below is set.
      const old = process.umask(0o177);
      try {
        await server.listen(options.listen);
      } finally {
        process.umask(old);
      }
      await secureSocket(options.listen.path, options.socketMode, gid);
    } else if (options.listen.kind === 'systemd') {
      // The socket unit owns the socket: its SocketMode=, SocketUser= and SocketGroup= apply, and it stays
      // when the proxy ends (systemd queues the next connections and starts the proxy again).
      const fd = systemdSocket(io.env, process.pid);
      await server.listen(options.listen, fd);
      const address = resolvedAddress(server.address, options.listen.shown, fd);
      try {
        checkExposure(address, { cert: options.tlsCert, key: options.tlsKey, clientCa: options.clientCa });
      } catch (err) {
        await server.drain(0);
        throw err;
      }
      serverSettings.checkHost = !tls && address.kind === 'tcp';
      shown = address.shown;
    } else await server.listen(options.listen);
    io.emit({
      event: 'listening',
      time: new Date(io.now()).toISOString(),
      address: shown ?? shownAddress(options.listen, server),
      upstream: origin.href,
      mode: options.upstreamAuth,
      via: describeProxy(decision),
    });
    io.started?.(server);

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const release = io.takeSignals?.((sig) => {
        if (sig === 'SIGHUP') {
          io.emit({ event: 'reload', time: new Date(io.now()).toISOString() });
          return creds.reload();
        }
        release?.();
        resolve(sig);
      });
      io.signal?.addEventListener('abort', () => resolve((io.signal?.reason as NodeJS.Signals) ?? 'SIGTERM'), { once: true });
    });
    io.emit({ event: 'draining', time: new Date(io.now()).toISOString(), inFlight: server.metrics.inFlight });
    await server.drain(options.drainTimeoutMs);
    if (options.listen.kind === 'unix') await rm(options.listen.path, { force: true });
    stopReason = signal;
    return signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
  } finally {
    if (checker) clearInterval(checker);
    // The keeper's stop event says why: the signal, or a start that failed (no signal was sent then).
    stop.abort(stopReason);
    upstream.close();
    await keeper?.catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

function fileError(err: NodeJS.ErrnoException, path: string, role: 'certificate' | 'key' | 'device CA'): never {
  throw new C8yError(err.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', { path, role, ...(err.code ? { nodeCode: err.code } : {}) }, { cause: err });
}

function shownAddress(listen: ListenAddress, server: ProxyServer): string {
  if (listen.kind === 'unix') return listen.shown;
  const a = server.address;
  return a && typeof a === 'object' ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : listen.shown;
}

/** The held token's expiry and half-life, for the health document. */
function tokenState(tokens: TokenHolder, nowMs: number): HealthDocument['token'] {
  const held = tokens.held();
  if (!held) return null;
  const times = tokenTimes(held.claims);
  const iso = (s: number | undefined): string | null => (s === undefined ? null : new Date(s * 1000).toISOString());
  return {
    expiresAt: iso(times.expiresAt),
    refreshAfter: iso(times.refreshAfter),
    secondsLeft: times.expiresAt === undefined ? null : Math.round(times.expiresAt - nowMs / 1000),
    deviceUser: typeof held.claims.sub === 'string' ? held.claims.sub : null,
  };
}

/** The health document now: it can serve while it holds an unexpired token (token) or a usable identity (mtls). */
export function healthOf(
  creds: UpstreamCredentials,
  tokens: TokenHolder | undefined,
  origin: URL,
  mode: 'token' | 'mtls',
  withinMs: number,
  nowMs: number,
  startedAt: string,
  via: string,
): HealthDocument {
  const cert = creds.certificate();
  const certificate = cert ? certificateHealth(new Date(cert.validTo).toISOString(), withinMs, nowMs) : null;
  const token = tokens ? tokenState(tokens, nowMs) : null;
  let reason: string | undefined;
  if (!creds.context()) reason = 'the TLS setup for the tenant is not made yet';
  else if (tokens && !token) reason = 'no token yet';
  else if (token && token.secondsLeft !== null && token.secondsLeft <= 0) reason = 'the token has expired and no new one came';
  else if (certificate?.expired) reason = 'the device certificate has expired';
  const last = creds.lastError;
  const doc: HealthDocument = {
    ok: reason === undefined,
    service: 'proxy',
    upstream: { mode, url: origin.href, proxy: via },
    token,
    certificate,
    lastRefresh: creds.lastRefresh ?? null,
    lastError: last ? { time: last.time, code: last.error.code, message: describeError(last.error).message } : null,
    startedAt,
    pid: process.pid,
  };
  if (reason) doc.reason = reason;
  return doc;
}
