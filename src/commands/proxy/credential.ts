/**
 * The proxy's credentials. Token mode: watch's keeper (core/token/keeper.ts: half-life schedule, jitter,
 * backoff, clock offset, credentials read again when their files change, --renew-before) runs in this
 * process and tells the token it holds; a 401 from the platform asks it for a refresh now, one refresh
 * shared by every request that saw the same token rejected (single flight). mTLS mode: the identity and
 * its TLS context, read again when the files change (checked every few seconds and at SIGHUP).
 */
import type { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { credentialFiles, type Settings } from '../../core/config/settings.js';
import { C8yError, isRetryable, type ExitCodeValue } from '../../core/errors.js';
import { keepTokenFresh, type KeeperIo, type KeeperOptions, type TokenEvent } from '../../core/token/keeper.js';
import type { DecodedJwt } from '../../core/token/jwt.js';
import { PasswordBook } from '../../core/credentials/passwords.js';
import { credentialsStamp } from '../../core/credentials/stamp.js';
import { loadIdentityWithProgress, loadTrustWithProgress, prepareTls, type PreparedTls } from '../../core/token/source.js';
import { proxyRoute } from '../../core/token/proxy.js';
import type { ProxyRoute } from '../../core/platform/proxy/agent.js';
import type { Trust } from '../../core/credentials/truststore.js';
import type { ProxyDecision } from '../../core/platform/proxy/select.js';

/** What the upstream side needs: the TLS context of its connections (changes with the files). */
export interface UpstreamCredentials {
  /** The context for connections to the platform: trust only (token mode) or the device identity (mtls). */
  context(): SecureContext | undefined;
  /** Called with the new context (and the corporate proxy's route) when the files changed. */
  onContext?: (context: SecureContext, route: ProxyRoute | undefined) => void;
  certificate(): X509Certificate | undefined;
  lastError: { time: string; error: C8yError } | undefined;
  lastRefresh: string | undefined;
  /** SIGHUP: read the identity again now (token mode: and refresh the token). */
  reload(): void;
}

/** A context that trusts the platform as the keeper's does, without presenting a certificate (port 443 asks for none). */
function trustContext(trust: Trust): SecureContext {
  return createSecureContext({ ...(trust.cas ? { ca: trust.cas.map((c) => c.toString()) } : {}), minVersion: 'TLSv1.2' });
}

/** Outcome of one keeper step, as the single flight waits for it. */
type Outcome = { token: string } | { error: C8yError } | { same: true };

export class TokenHolder implements UpstreamCredentials {
  private current: DecodedJwt | undefined;
  private ctx: SecureContext | undefined;
  private cert: X509Certificate | undefined;
  private goodToken: string | undefined;
  private goodAt = 0;
  private wakeKeeper: (() => void) | undefined;
  private readonly waiters: ((o: Outcome) => void)[] = [];
  private flight: Promise<string | undefined> | undefined;
  onContext?: (context: SecureContext, route: ProxyRoute | undefined) => void;
  lastError: { time: string; error: C8yError } | undefined;
  lastRefresh: string | undefined;
  /** Tokens received from the platform (not counting the same one again). */
  refreshes = 0;

  constructor(
    private readonly io: KeeperIo,
    private readonly now: () => number,
    /** How long a token that just worked is trusted without a check before a streamed upload. */
    private readonly goodForMs = 5_000,
  ) {}

  /** Runs the keeper until io.signal aborts; resolves with its exit code. */
  run(settings: Settings, options: KeeperOptions): Promise<ExitCodeValue> {
    return keepTokenFresh(settings, options, {
      ...this.io,
      emit: (event) => this.observe(event),
      held: (token) => {
        this.current = token;
        this.io.held?.(token);
      },
      prepared: (identity, tls) => {
        this.cert = identity.chain[0];
        this.ctx = trustContext(tls.trust);
        this.onContext?.(this.ctx, tls.proxy);
      },
      onRefreshRequest: (callback) => {
        this.wakeKeeper = callback;
        return () => (this.wakeKeeper = undefined);
      },
    });
  }

  private observe(event: TokenEvent): void {
    if (event.event === 'token' && event.source === 'platform') {
      this.lastRefresh = event.time;
      if (event.state === 'new') this.refreshes += 1;
      this.settle(event.state === 'new' && this.current ? { token: this.current.token } : { same: true });
    } else if (event.event === 'token' && this.current) {
      this.settle({ token: this.current.token });
    } else if (event.event === 'error' || event.event === 'retry') {
      this.lastError = { time: event.time, error: event.error };
      this.settle({ error: event.error });
    }
    this.io.emit(event);
  }

  private settle(outcome: Outcome): void {
    for (const w of this.waiters.splice(0)) w(outcome);
  }

  /** The next outcome of the keeper (a token, the same token, a failure), or undefined after `ms`. */
  private nextOutcome(ms: number): Promise<Outcome | undefined> {
    return new Promise((resolve) => {
      // Unreferenced: a wait never keeps a stopping process alive.
      const timer = setTimeout(() => resolve(undefined), ms).unref();
      this.waiters.push((o) => {
        clearTimeout(timer);
        resolve(o);
      });
    });
  }

  /** The first token, or the first failure retrying will not fix (then thrown: the proxy does not start). */
  async ready(): Promise<void> {
    while (!this.current) {
      const o = await this.nextOutcome(3_600_000);
      if (o && 'error' in o && !isRetryable(o.error.code)) throw o.error;
      if (o && 'error' in o) return; // a network failure: serve 503 until a token comes
    }
  }

  /** The upstream context when the keeper has not made one (its first token came from the -o file). */
  async ensureContext(settings: Settings, decision: ProxyDecision): Promise<void> {
    if (this.ctx) return;
    const trust = await loadTrustWithProgress(settings, new PasswordBook(settings.passwords, this.io.prompt, this.io.warn), this.io);
    this.ctx = trustContext(trust);
    this.onContext?.(this.ctx, await proxyRoute(settings, decision, this.io));
  }

  /** The token to send, when one is held. */
  token(): string | undefined {
    return this.current?.token;
  }

  held(): DecodedJwt | undefined {
    return this.current;
  }

  context(): SecureContext | undefined {
    return this.ctx;
  }

  certificate(): X509Certificate | undefined {
    return this.cert;
  }

  /** The platform accepted `token` (anything but a 401 answered it). */
  markGood(token: string): void {
    this.goodToken = token;
    this.goodAt = this.now();
  }

  /** Whether `token` worked moments ago: a streamed upload may go without checking it first. */
  knownGood(token: string): boolean {
    return this.goodToken === token && this.now() - this.goodAt < this.goodForMs;
  }

  /**
   * After the platform answered 401 to `rejected`: a token that is not it. One refresh for all callers
   * (single flight); a caller whose rejected token was already replaced gets the new one at once.
   * Undefined when the platform gave no other token (the 401 then stands).
   */
  refreshAfterRejection(rejected: string, timeoutMs: number): Promise<string | undefined> {
    if (this.goodToken === rejected) this.goodToken = undefined;
    if (this.current && this.current.token !== rejected) return Promise.resolve(this.current.token);
    this.flight ??= this.refreshNow(rejected, timeoutMs).finally(() => (this.flight = undefined));
    return this.flight;
  }

  private async refreshNow(rejected: string, timeoutMs: number): Promise<string | undefined> {
    // Two rounds: a wake that arrives while the keeper is already asking is folded into that request,
    // whose answer may predate the revocation; then one more, asked after it.
    for (let round = 0; round < 2; round++) {
      const next = this.nextOutcome(timeoutMs);
      this.wakeKeeper?.();
      const o = await next;
      if (!o || 'error' in o) return undefined;
      if (this.current && this.current.token !== rejected) return this.current.token;
    }
    return undefined;
  }

  reload(): void {
    this.wakeKeeper?.();
  }
}

/** mTLS mode: no token; the identity's context, read again when its files change. */
export class IdentityHolder implements UpstreamCredentials {
  private ctx: SecureContext | undefined;
  private cert: X509Certificate | undefined;
  private stamp: string | undefined;
  private checking: Promise<void> | undefined;
  onContext?: (context: SecureContext, route: ProxyRoute | undefined) => void;
  lastError: { time: string; error: C8yError } | undefined;
  lastRefresh: string | undefined;

  constructor(
    private readonly settings: Settings,
    private readonly io: KeeperIo,
    private readonly decision: ProxyDecision,
  ) {}

  /** Reads the identity when its files changed since the last read (the first call always); a failure keeps the old one and is thrown. */
  check(force = false): Promise<void> {
    this.checking ??= this.load(force).finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async load(force: boolean): Promise<void> {
    const stamp = await credentialsStamp(credentialFiles(this.settings));
    if (!force && stamp === this.stamp) return;
    try {
      const passwords = new PasswordBook(this.settings.passwords, this.io.prompt, this.io.warn);
      const identity = await loadIdentityWithProgress(this.settings, passwords, this.io);
      const tls: PreparedTls = await prepareTls(this.settings, identity, passwords, this.io, this.decision);
      this.stamp = stamp;
      this.cert = identity.chain[0];
      this.ctx = tls.context;
      this.lastRefresh = new Date(this.io.now()).toISOString();
      this.onContext?.(this.ctx, tls.proxy);
    } catch (err) {
      const error = err instanceof C8yError ? err : new C8yError('INTERNAL', { detail: String((err as Error)?.message ?? err) }, { cause: err });
      this.lastError = { time: new Date(this.io.now()).toISOString(), error };
      throw error;
    }
  }

  context(): SecureContext | undefined {
    return this.ctx;
  }

  certificate(): X509Certificate | undefined {
    return this.cert;
  }

  reload(): void {
    this.check(true).catch(() => undefined);
  }
}
