/**
 * Keeping a token file fresh (watch, and exec's token file) for as long as it runs. Refreshes at the half-life (plus
 * jitter) on the platform's clock, retries with capped backoff through outages, reads the credentials
 * again for every refresh, never writes a partial, empty, expired or older token, never asks the platform
 * more often than its answers justify, and reports each step as an event (no printing here).
 */
import { spawn } from 'node:child_process';
import { C8yError, isRetryable, retryAfterOf, ExitCode, type ExitCodeValue } from '../errors.js';
import { credentialFiles, inputFiles, type Settings } from '../config/settings.js';
import { PasswordBook } from '../credentials/passwords.js';
import { checkWritable, readTokenFile, readTrustedTokenFile, writeTokenFile } from './file.js';
import { tokenTimes, type DecodedJwt } from './jwt.js';
import { isoSeconds, isoTime } from '../time/iso.js';
import { backoffDelay, expiredRetryDelay, refreshTime } from './refresh-policy.js';
import { localMsOf, platformNowSeconds, skewText, type ClockOffset } from './clock.js';
import { cachedToken, deviceUserOf, loadIdentityWithProgress, prepareTls, requestToken, requireEndpoint, type FetchedToken, type PreparedTls, type TokenSourceIo } from './source.js';
import { credentialsStamp } from '../credentials/stamp.js';
import { outputTarget } from '../files/target.js';
import { refuseOverlaps } from '../files/overlap.js';
import { tokenMeta, writeMeta } from './meta.js';
import type { ClientIdentity } from '../credentials/identity.js';
import { sleepUntil } from '../time/timer.js';
import { formatDuration } from '../time/duration.js';
import { childEnvironment } from '../config/environment.js';
import { decideProxy } from './proxy.js';
import type { ProxyDecision } from '../platform/proxy/select.js';

export interface KeeperOptions {
  output: string;
  /** The metadata sidecar, updated with every token written. */
  meta?: string | undefined;
  /** argv of a command to run after each new token is in place. */
  exec?: string[] | undefined;
  once: boolean;
  exitOnError: boolean;
  minRetryMs: number;
  maxRetryMs: number;
  /** Delay before trying again after a failure retrying will not fix by itself (credentials, 4xx). */
  slowRetryMs: number;
  /**
   * watch --renew-before: renew the device certificate once it expires within `beforeMs`. The renewal
   * itself (EST, the proof, the files) is the caller's (core/est/device.ts), loaded only when one is due.
   */
  renewal?: { beforeMs: number; renew: Renewer } | undefined;
}

/** What a renewal did, for its event. */
export interface RenewedCertificate {
  notAfter: Date;
  previousNotAfter: Date;
  identity: 'pem' | 'keystore';
  files: string[];
  backups: string[];
  chain: string;
}

/** Renews `identity` with a token just fetched with it; throws the C8yError of a failure (the files then unchanged). */
export type Renewer = (identity: ClientIdentity, tls: PreparedTls, passwords: PasswordBook, token: string) => Promise<RenewedCertificate>;

/** new: a token not seen before; same: the one held; older: one that expires before the one held. */
export type TokenState = 'new' | 'same' | 'older';

export type TokenEvent =
  | { event: 'start'; time: string; file: string; url: string }
  | {
      event: 'token';
      time: string;
      source: 'platform' | 'file';
      state: TokenState;
      written: boolean;
      expiresAt: string | null;
      refreshAfter: string | null;
      refreshAt: string;
      deviceUser: string | null;
    }
  | { event: 'retry'; time: string; error: C8yError; attempt: number; retryAt: string }
  | { event: 'error'; time: string; error: C8yError; retryAt: string | null }
  | { event: 'expired'; time: string; expiredAt: string; file: string }
  | { event: 'warning'; time: string; message: string }
  | { event: 'clock'; time: string; offsetSeconds: number; basis: string; skew: string }
  | {
      event: 'renewed';
      time: string;
      notAfter: string;
      previousNotAfter: string;
      identity: 'pem' | 'keystore';
      files: string[];
      backups: string[];
      chain: string;
    }
  | { event: 'renew-failed'; time: string; error: C8yError; attempt: number; retryAt: string; notAfter: string }
  | { event: 'hook'; time: string; command: string; exitCode: number | null; signal: string | null; durationMs: number; error?: string }
  | { event: 'stop'; time: string; reason: string };

export interface KeeperIo extends TokenSourceIo {
  emit(event: TokenEvent): void;
  /** Random numbers for jitter (Math.random in production; fixed in tests). */
  random(): number;
  /** Registers a callback for "refresh now" (SIGHUP); returns an unregister function. */
  onRefreshRequest?(callback: () => void): () => void;
  /** Called after each refresh, before the wait: the CLI returns memory to the system there. */
  idle?(): void;
  /** How to wait until a moment of `now()` (default: real timers; tests pass a virtual clock's). */
  sleepUntil?: typeof sleepUntil;
  /** Told the token held whenever it changes (the auth proxy serves it from memory). */
  held?(token: DecodedJwt): void;
  /** Told the identity and TLS setup whenever they are read anew (the credential files changed). */
  prepared?(identity: ClientIdentity, tls: PreparedTls): void;
}

const DAY = 86_400_000;
const CERT_EXPIRY_WARNING_DAYS = 30;
/** A floor between two requests, whatever the token says, so nothing can make watch spin. */
const MIN_GAP_MS = 100;
/** The least pause before a renewal is tried again after a refusal retrying will not fix by itself. */
const RENEW_SLOW_RETRY_MS = 3_600_000;

/** Runs until the signal aborts (resolves 0/130/143), or once with `once`; rejects only with --exit-on-error. */
export async function keepTokenFresh(settings: Settings, options: KeeperOptions, io: KeeperIo): Promise<ExitCodeValue> {
  const endpoint = requireEndpoint(settings);
  // Decided once: a bad proxy setting is a configuration error now, not a failure at every refresh.
  const proxy = decideProxy(settings, io.env, endpoint);
  refuseOverlaps([{ path: options.output, option: '-o' }, ...(options.meta ? [{ path: options.meta, option: '--meta' }] : [])], inputFiles(settings));
  checkWritable(options.output);
  if (options.meta) outputTarget(options.meta);
  return new Watcher(options, io, settings, endpoint, proxy).run();
}

class Watcher {
  private current: DecodedJwt | undefined;
  /** The platform's clock against ours, from the last answer that said. */
  private offset: ClockOffset | undefined;
  /** Refreshes in a row that brought no newer token (failures, the same or an older token): drives the backoff. */
  private attempt = 0;
  private expiredReported: number | undefined;
  private certWarningDay = -1;
  private skewReported: string | undefined;
  private wake: (() => void) | undefined;
  /** Identity, trust and TLS context, kept while the credential files are unchanged. */
  private prepared: { stamp: string; identity: ClientIdentity; tls: PreparedTls } | undefined;
  /** The identity the first look loaded to learn the device user (a keystore): the first refresh uses it while its files are unchanged. */
  private firstIdentity: { stamp: string; identity: ClientIdentity } | undefined;
  private hookRunning: Promise<void> | undefined;
  private hookPending = false;
  /** Renewal (--renew-before): failed attempts in a row, and when the next may start. */
  private renewAttempt = 0;
  private renewNotBefore = 0;
  /** --renew-before longer than the certificates live: said once (notAgainUntil). */
  private lifetimeWarned = false;

  constructor(
    private readonly options: KeeperOptions,
    private readonly io: KeeperIo,
    private readonly settings: Settings,
    private readonly endpoint: URL,
    private readonly proxy: ProxyDecision,
  ) {}

  private now(): number {
    return this.io.now();
  }

  private stamp(): string {
    return new Date(this.now()).toISOString();
  }

  async run(): Promise<ExitCodeValue> {
    const { io, options } = this;
    io.emit({ event: 'start', time: this.stamp(), file: options.output, url: this.endpoint.href });
    const unregister = io.onRefreshRequest?.(() => this.wake?.());
    try {
      let next = await this.firstLook();
      // --once with a fresh token already in the file: nothing to do.
      while (!(options.once && this.current)) {
        // The held token's expiry is reported when it happens (platform time), not at the next attempt.
        const expiry = this.unreportedExpiry();
        const until = expiry !== undefined && expiry < next ? expiry : next;
        let woken = false;
        const sleep = (io.sleepUntil ?? sleepUntil)(until, () => this.now(), io.signal);
        this.wake = () => ((woken = true), sleep.wake());
        const slept = await sleep.done;
        this.wake = undefined;
        if (!slept || io.signal?.aborted) break;
        if (until < next && !woken) {
          this.reportExpiry();
          continue;
        }
        const outcome = await this.refresh();
        io.idle?.();
        if (options.once) {
          if (outcome.error) throw outcome.error;
          break;
        }
        next = outcome.nextMs;
      }
    } finally {
      unregister?.();
      await this.hookRunning;
    }
    const reason = String(io.signal?.reason ?? (options.once ? 'once' : 'stopped'));
    io.emit({ event: 'stop', time: this.stamp(), reason });
    if (reason === 'SIGINT') return ExitCode.sigint;
    if (reason === 'SIGTERM') return ExitCode.sigterm;
    return ExitCode.ok;
  }

  /** Reuses a token already in the file when it is for this device and before its half-life; the time of the first refresh. */
  private async firstLook(): Promise<number> {
    // Which device: a failure here shows up, with its message, at the first refresh.
    const stamp = await credentialsStamp(credentialFiles(this.settings));
    const device = await deviceUserOf(this.settings, this.passwords(), this.io).catch(() => undefined);
    if (!device) return this.now();
    // A keystore was opened (its key derivation run, its password perhaps asked for): not twice.
    if (device.identity) this.firstIdentity = { stamp, identity: device.identity };
    const cached = cachedToken(this.options.output, await readTrustedTokenFile(this.options.output), device.deviceUser, this.endpoint.hostname, this.now());
    // A valid token past its half-life is held (never replaced by an older one; its expiry is reported), and refreshed now.
    if (!cached.token) {
      if (cached.held) this.hold(cached.held);
      return this.now();
    }
    this.hold(cached.token);
    const next = refreshTime(tokenTimes(cached.token.claims), { random: this.io.random() }) ?? this.now();
    this.io.emit(this.tokenEvent('file', 'same', false, next));
    return next;
  }

  private hold(token: DecodedJwt): void {
    const changed = this.current?.token !== token.token;
    this.current = token;
    if (changed) this.io.held?.(token);
  }

  private passwords(): PasswordBook {
    // Passwords are resolved afresh for each refresh: a password file may be rotated with the keystore.
    return new PasswordBook(this.settings.passwords, this.io.prompt, this.io.warn);
  }

  /** One refresh: credentials read now, one request, the file replaced when there is something new. */
  private async refresh(): Promise<{ nextMs: number; error?: C8yError }> {
    const { io } = this;
    try {
      const passwords = this.passwords();
      // The files are read again whenever they changed (a renewed certificate, a rotated password file).
      const stamp = await credentialsStamp(credentialFiles(this.settings));
      if (this.prepared?.stamp !== stamp) {
        this.prepared = undefined;
        const identity = this.firstIdentity?.stamp === stamp ? this.firstIdentity.identity : await loadIdentityWithProgress(this.settings, passwords, io);
        this.firstIdentity = undefined;
        this.prepared = { stamp, identity, tls: await prepareTls(this.settings, identity, passwords, io, this.proxy) };
        io.prepared?.(identity, this.prepared.tls);
      }
      const { identity, tls } = this.prepared;
      this.warnCertificateExpiry(identity.chain[0]?.validTo);
      const fetched = await requestToken(this.settings, identity, passwords, io, this.current, tls);
      const outcome = await this.accept(fetched);
      // A renewal runs after the token is safe in the file; its failure never costs a token.
      const renewal = await this.renewIfDue(identity, tls, passwords, fetched.token.token);
      return renewal === undefined ? outcome : { nextMs: Math.min(outcome.nextMs, Math.max(renewal, this.now() + MIN_GAP_MS)) };
    } catch (err) {
      if (io.signal?.aborted) return { nextMs: this.now() };
      const error = err instanceof C8yError ? err : new C8yError('INTERNAL', { detail: String((err as Error)?.message ?? err) }, { cause: err });
      return this.fail(error);
    }
  }

  private async accept(fetched: FetchedToken): Promise<{ nextMs: number }> {
    const { token } = fetched;
    if (fetched.offset) this.offset = fetched.offset;
    this.reportSkew();
    const times = tokenTimes(token.claims);
    const held = this.current ? tokenTimes(this.current.claims) : undefined;
    const platformNow = platformNowSeconds(this.now(), this.offset);
    const state: TokenState =
      this.current?.token === token.token
        ? 'same'
        : held?.expiresAt !== undefined && times.expiresAt !== undefined && times.expiresAt < held.expiresAt && held.expiresAt > platformNow
          ? 'older'
          : 'new';
    // Never put an older token over the one held; the file may have been deleted or replaced since:
    // compare with what is there, not with memory.
    let written = false;
    if (state !== 'older' && (await readTokenFile(this.options.output)) !== token.token) {
      const issuedLocal = times.issuedAt !== undefined ? localMsOf(times.issuedAt, this.offset) : fetched.receivedAt;
      await writeTokenFile(this.options.output, token.token, issuedLocal);
      written = true;
      if (this.options.meta) await writeMeta(this.options.meta, tokenMeta(token, { endpoint: this.endpoint, certificate: this.prepared?.identity.chain[0], offset: this.offset, source: 'platform' }));
    }
    if (state !== 'older') this.hold(token);
    this.expiredReported = undefined;
    const scheduled = refreshTime(tokenTimes(this.current!.claims), { random: this.io.random(), offset: this.offset });
    let next: number;
    if (scheduled === undefined) {
      next = this.now() + this.options.slowRetryMs;
    } else if (state !== 'new' && scheduled <= this.now()) {
      // Past the half-life and nothing newer came: the platform keeps handing out what it has. Back off,
      // growing (with failures: one count), until the held token's expiry; never a busy loop.
      this.attempt += 1;
      next = this.beforeHeldExpiry(this.now() + backoffDelay(this.attempt, { minMs: this.options.minRetryMs, maxMs: this.options.maxRetryMs }, this.io.random()));
      if (state === 'older')
        this.io.emit({
          event: 'warning',
          time: this.stamp(),
          message: `The platform answered with a token older than the one held (it expires ${isoSeconds((times.expiresAt ?? NaN) * 1000)}); keeping the held one, asking again ${isoSeconds(next)}.`,
        });
    } else {
      this.attempt = 0;
      next = Math.max(scheduled, this.now() + MIN_GAP_MS);
    }
    this.io.emit(this.tokenEvent('platform', state, written, next));
    if (written && this.options.exec?.length) this.runHook();
    return { nextMs: next };
  }

  /**
   * A retry time pulled in to a second before the held token's expiry, when the backoff would pass it
   * and there is still room for one more try; otherwise the backoff stands (it never shrinks to a poll).
   */
  private beforeHeldExpiry(nextMs: number): number {
    const exp = this.current ? tokenTimes(this.current.claims).expiresAt : undefined;
    if (exp === undefined) return nextMs;
    const lastTry = localMsOf(exp, this.offset) - 1000;
    return lastTry >= this.now() + this.options.minRetryMs && lastTry < nextMs ? lastTry : nextMs;
  }

  private fail(error: C8yError): { nextMs: number; error: C8yError } {
    const { io, options } = this;
    this.attempt += 1;
    const retryable = isRetryable(error.code);
    if (!retryable && options.exitOnError) throw error;
    let delay = retryable ? backoffDelay(this.attempt, { minMs: options.minRetryMs, maxMs: options.maxRetryMs }, io.random()) : options.slowRetryMs;
    const held = this.current ? tokenTimes(this.current.claims) : undefined;
    const expired = held?.expiresAt !== undefined && localMsOf(held.expiresAt, this.offset) <= this.now();
    // Once the held token has expired, the device has none: try again within a quarter of its lifetime.
    if (expired) delay = expiredRetryDelay(delay, held.lifetimeSeconds, options.minRetryMs);
    // A platform that said when to come back (Retry-After on a 429 or 503) is not asked earlier: not
    // even to save a held token, since asking a rate-limited platform early only prolongs the limit.
    const asked = retryAfterOf(error);
    const nextMs = asked !== undefined && asked * 1000 >= delay ? this.now() + asked * 1000 : this.beforeHeldExpiry(this.now() + delay);
    const retryAt = new Date(nextMs).toISOString();
    if (retryable) io.emit({ event: 'retry', time: this.stamp(), error, attempt: this.attempt, retryAt });
    else io.emit({ event: 'error', time: this.stamp(), error, retryAt: options.once ? null : retryAt });
    if (expired) this.reportExpiry();
    return { nextMs, error };
  }

  /** When (local ms) the held token expires on the platform's clock, if that is still to be reported. */
  private unreportedExpiry(): number | undefined {
    const exp = this.current ? tokenTimes(this.current.claims).expiresAt : undefined;
    return exp === undefined || this.expiredReported === exp ? undefined : localMsOf(exp, this.offset);
  }

  /** The `expired` event, once per held token, when it has expired on the platform's clock. */
  private reportExpiry(): void {
    const exp = this.current ? tokenTimes(this.current.claims).expiresAt : undefined;
    if (exp === undefined || this.expiredReported === exp || localMsOf(exp, this.offset) > this.now()) return;
    this.expiredReported = exp;
    this.io.emit({ event: 'expired', time: this.stamp(), expiredAt: isoTime(exp)!, file: this.options.output });
  }

  /**
   * --renew-before: renews the certificate when it is inside the window (not expired: EST needs a token
   * from it), with the token just fetched. On success the files are new, and the next refresh reads
   * them (their stamp changed). On failure: an event, and another try after a backoff; returns when.
   */
  private async renewIfDue(identity: ClientIdentity, tls: PreparedTls, passwords: PasswordBook, token: string): Promise<number | undefined> {
    const renewal = this.options.renewal;
    const leaf = identity.chain[0];
    if (!renewal || !leaf || this.now() < this.renewNotBefore) return undefined;
    const { renewalVerdict } = await import('../x509/renewal.js');
    const verdict = renewalVerdict(leaf, renewal.beforeMs, this.now());
    if (!verdict.renewNow || verdict.expired) return undefined;
    try {
      const r = await renewal.renew(identity, tls, passwords, token);
      this.renewAttempt = 0;
      this.renewNotBefore = this.notAgainUntil(r.notAfter.getTime(), renewal.beforeMs);
      this.prepared = undefined;
      this.certWarningDay = -1;
      this.io.emit({
        event: 'renewed',
        time: this.stamp(),
        notAfter: r.notAfter.toISOString(),
        previousNotAfter: r.previousNotAfter.toISOString(),
        identity: r.identity,
        files: r.files,
        backups: r.backups,
        chain: r.chain,
      });
      return undefined;
    } catch (err) {
      if (this.io.signal?.aborted) return undefined;
      const error = err instanceof C8yError ? err : new C8yError('INTERNAL', { detail: String((err as Error)?.message ?? err) }, { cause: err });
      this.renewAttempt += 1;
      const delay = isRetryable(error.code)
        ? backoffDelay(this.renewAttempt, { minMs: this.options.minRetryMs, maxMs: this.options.maxRetryMs }, this.io.random())
        : Math.max(this.options.slowRetryMs, RENEW_SLOW_RETRY_MS);
      this.renewNotBefore = this.now() + delay;
      this.io.emit({ event: 'renew-failed', time: this.stamp(), error, attempt: this.renewAttempt, retryAt: new Date(this.renewNotBefore).toISOString(), notAfter: verdict.notAfter.toISOString() });
      return this.renewNotBefore;
    }
  }

  /**
   * After a renewal: a new certificate already inside the window (--renew-before longer than the
   * certificate lives) would be renewed again at the next refresh, and so on at every refresh. Instead
   * it is left until half of its remaining validity has passed (so still renewed well before it
   * expires), and a warning says so once. Returns when renewing may be considered again (0: at once).
   */
  private notAgainUntil(notAfterMs: number, beforeMs: number): number {
    const left = notAfterMs - this.now();
    if (left > beforeMs) return 0;
    const until = this.now() + Math.floor(Math.max(0, left) / 2);
    if (!this.lifetimeWarned) {
      this.lifetimeWarned = true;
      this.io.emit({
        event: 'warning',
        time: this.stamp(),
        message: `--renew-before ${formatDuration(beforeMs)} exceeds the lifetime of the certificates the platform issues: the new one (valid until ${isoSeconds(notAfterMs)}) is inside the window already. Not renewing it again before half its remaining validity has passed (${isoSeconds(until)}); give a --renew-before shorter than the certificate's lifetime.`,
      });
    }
    return until;
  }

  private reportSkew(): void {
    const skew = skewText(this.offset);
    // Reported when it appears and when it changes by a minute or more, not at every refresh.
    const key = skew === undefined ? undefined : String(Math.round(this.offset!.offsetMs / 60_000));
    if (key === this.skewReported) return;
    this.skewReported = key;
    if (skew) this.io.emit({ event: 'clock', time: this.stamp(), offsetSeconds: Math.round(this.offset!.offsetMs / 1000), basis: this.offset!.basis, skew });
  }

  private tokenEvent(source: 'platform' | 'file', state: TokenState, written: boolean, next: number): TokenEvent {
    const c = this.current!;
    const times = tokenTimes(c.claims);
    return {
      event: 'token',
      time: this.stamp(),
      source,
      state,
      written,
      expiresAt: isoTime(times.expiresAt) ?? null,
      refreshAfter: isoTime(times.refreshAfter) ?? null,
      refreshAt: new Date(next).toISOString(),
      deviceUser: typeof c.claims.sub === 'string' ? c.claims.sub : null,
    };
  }

  private warnCertificateExpiry(validTo: string | undefined): void {
    if (!validTo) return;
    const days = Math.floor((Date.parse(validTo) - this.now()) / DAY);
    const today = Math.floor(this.now() / DAY);
    if (days < CERT_EXPIRY_WARNING_DAYS && this.certWarningDay !== today) {
      this.certWarningDay = today;
      this.io.emit({
        event: 'warning',
        time: this.stamp(),
        message: `The device certificate expires in ${days} day(s) (${isoSeconds(validTo)}); after that every refresh fails. Renew it.`,
      });
    }
  }

  /** Runs the hook with argv as given; hooks never overlap (a new token while one runs queues one more run). */
  private runHook(): void {
    if (this.hookRunning) {
      this.hookPending = true;
      return;
    }
    const [command, ...args] = this.options.exec!;
    const started = this.now();
    this.hookRunning = new Promise<void>((resolve) => {
      // The hook's output goes to stderr: stdout may carry NDJSON events. It gets the environment
      // without the password variables, and the token file's path.
      const child = spawn(command!, args, { env: { ...childEnvironment(this.io.env), C8Y_TOKEN_FILE: this.options.output }, stdio: ['ignore', 2, 2], shell: false });
      const done = (exitCode: number | null, signal: string | null, error?: string): void => {
        const event: TokenEvent = { event: 'hook', time: this.stamp(), command: this.options.exec!.join(' '), exitCode, signal, durationMs: this.now() - started };
        if (error) event.error = error;
        this.io.emit(event);
        resolve();
      };
      child.once('error', (err) => done(null, null, err.message));
      child.once('exit', (code, signal) => done(code, signal));
    }).then(() => {
      this.hookRunning = undefined;
      if (this.hookPending) {
        this.hookPending = false;
        this.runHook();
      }
    });
  }
}
