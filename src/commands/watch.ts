/**
 * `c8ytoken watch`: keeps a token file fresh for as long as it runs. Refreshes at the half-life (plus
 * jitter), retries with capped backoff through outages, reads the credentials again for every refresh,
 * never writes a partial, empty or expired token, and reports each step as an event (no printing here).
 */
import { spawn } from 'node:child_process';
import { C8yError, isRetryable, ExitCode, type ExitCodeValue } from '../core/errors.js';
import { loadSettings, type ConnectionFlags, type Settings } from '../core/config/settings.js';
import { PasswordBook } from '../core/credentials/passwords.js';
import { checkWritable, readTokenFile, writeTokenFile } from '../core/token/file.js';
import { isoTime, tokenTimes, type DecodedJwt } from '../core/token/jwt.js';
import { backoffDelay, refreshTime } from '../core/token/refresh-policy.js';
import { cachedToken, deviceUserOf, loadIdentityWithProgress, requestToken, requireEndpoint, type CommandIo } from './fetch.js';

export interface WatchOptions {
  connection: ConnectionFlags;
  output: string;
  /** argv of a command to run after each new token is in place. */
  exec?: string[] | undefined;
  once: boolean;
  exitOnError: boolean;
  minRetryMs: number;
  maxRetryMs: number;
  /** Delay before trying again after a failure retrying will not fix by itself (credentials, 4xx). */
  slowRetryMs: number;
}

export type WatchEvent =
  | { event: 'start'; time: string; file: string; url: string }
  | { event: 'token'; time: string; source: 'platform' | 'file'; written: boolean; same: boolean; expiresAt: string | null; refreshAt: string; deviceUser: string | null }
  | { event: 'retry'; time: string; code: string; message: string; attempt: number; retryAt: string }
  | { event: 'error'; time: string; code: string; message: string; hint: string | null; retryAt: string | null }
  | { event: 'expired'; time: string; expiredAt: string; message: string }
  | { event: 'warning'; time: string; message: string }
  | { event: 'hook'; time: string; command: string; exitCode: number | null; signal: string | null; durationMs: number; error?: string }
  | { event: 'stop'; time: string; reason: string };

export interface WatchIo extends CommandIo {
  emit(event: WatchEvent): void;
  /** Random numbers for jitter (Math.random in production). */
  random(): number;
  /** Registers a callback for "refresh now" (SIGHUP); returns an unregister function. */
  onRefreshRequest?(callback: () => void): () => void;
}

const DAY = 86_400_000;
const CERT_EXPIRY_WARNING_DAYS = 30;
/** A floor between two requests, whatever the token says, so nothing can make watch spin. */
const MIN_GAP_MS = 100;

/** Runs until the signal aborts (resolves 0/130/143), or once with `once`; rejects only with --exit-on-error. */
export async function watchCommand(options: WatchOptions, io: WatchIo): Promise<ExitCodeValue> {
  const settings = await loadSettings({ flags: options.connection, env: io.env, cwd: io.cwd });
  for (const w of settings.warnings) io.warn(w);
  const endpoint = requireEndpoint(settings);
  await checkWritable(options.output);
  const watcher = new Watcher(options, io, settings, endpoint);
  return watcher.run();
}

class Watcher {
  private current: DecodedJwt | undefined;
  private attempt = 0;
  private expiredReported: number | undefined;
  private certWarningDay = -1;
  private wake: (() => void) | undefined;
  private hookRunning: Promise<void> | undefined;
  private hookPending = false;

  constructor(
    private readonly options: WatchOptions,
    private readonly io: WatchIo,
    private readonly settings: Settings,
    private readonly endpoint: URL,
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
      let delay = await this.firstLook();
      // --once with a fresh token already in the file: nothing to do.
      for (; !(options.once && this.current); ) {
        if (delay > 0 && !(await this.sleep(delay))) break;
        if (io.signal?.aborted) break;
        const outcome = await this.refresh();
        if (options.once) {
          if (outcome.error) throw outcome.error;
          break;
        }
        delay = outcome.nextMs - this.now();
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

  /** Reuses a token already in the file when it is for this device and before its half-life. */
  private async firstLook(): Promise<number> {
    // Which device: a failure here shows up, with its message, at the first refresh.
    const device = await deviceUserOf(this.settings, this.passwords(), this.io).catch(() => undefined);
    if (!device) return 0;
    const cached = await cachedToken(this.options.output, device.deviceUser, this.endpoint, this.now());
    if (!cached.token) return 0;
    this.current = cached.token;
    const next = refreshTime(tokenTimes(cached.token.claims), { random: this.io.random() }) ?? this.now();
    this.io.emit(this.tokenEvent('file', false, false, next));
    return next - this.now();
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
      const identity = await loadIdentityWithProgress(this.settings, passwords, io);
      this.warnCertificateExpiry(identity.chain[0]?.validTo);
      const { token } = await requestToken(this.settings, this.endpoint, identity, passwords, io);
      return await this.accept(token);
    } catch (err) {
      if (io.signal?.aborted) return { nextMs: this.now() };
      const error = err instanceof C8yError ? err : new C8yError('INTERNAL', String((err as Error)?.message ?? err), { cause: err });
      return this.fail(error);
    }
  }

  private async accept(token: DecodedJwt): Promise<{ nextMs: number }> {
    const times = tokenTimes(token.claims);
    const nowS = this.now() / 1000;
    // Never put an expired token in place, nor one that expires before the one already there.
    if (times.expiresAt !== undefined && times.expiresAt <= nowS) {
      throw new C8yError('NO_TOKEN', `The platform answered with a token that expired at ${isoTime(times.expiresAt)}.`, { hint: 'Check the clock of this device and of the platform.' });
    }
    const currentExp = this.current ? tokenTimes(this.current.claims).expiresAt : undefined;
    const same = this.current?.token === token.token;
    const older = !same && currentExp !== undefined && times.expiresAt !== undefined && times.expiresAt < currentExp && currentExp > nowS;
    // The file may have been deleted or replaced since: compare with what is there, not with memory.
    const onDisk = await readTokenFile(this.options.output).catch(() => undefined);
    let written = false;
    if (!older && onDisk !== token.token) {
      await writeTokenFile(this.options.output, token.token);
      written = true;
    }
    if (!older) this.current = token;
    this.attempt = 0;
    this.expiredReported = undefined;
    const scheduled = refreshTime(tokenTimes(this.current!.claims), { random: this.io.random() });
    // A token without readable times, or the same token handed back early: never ask again at once.
    const floor = this.now() + Math.max(MIN_GAP_MS, this.options.minRetryMs);
    const next = scheduled === undefined ? this.now() + this.options.slowRetryMs : Math.max(scheduled, same ? floor : this.now() + MIN_GAP_MS);
    this.io.emit(this.tokenEvent('platform', written, same, next));
    if (written && this.options.exec?.length) this.runHook();
    return { nextMs: next };
  }

  private fail(error: C8yError): { nextMs: number; error: C8yError } {
    const { io, options } = this;
    this.attempt += 1;
    const retryable = isRetryable(error.code);
    if (!retryable && options.exitOnError) throw error;
    const delay = retryable
      ? backoffDelay(this.attempt, { minMs: options.minRetryMs, maxMs: options.maxRetryMs }, io.random())
      : options.slowRetryMs;
    let nextMs = this.now() + delay;
    // While the current token is valid, there is no point retrying past its expiry.
    const exp = this.current ? tokenTimes(this.current.claims).expiresAt : undefined;
    if (exp !== undefined && exp * 1000 > this.now()) nextMs = Math.min(nextMs, Math.max(exp * 1000 - 1000, this.now() + options.minRetryMs));
    const retryAt = new Date(nextMs).toISOString();
    if (retryable) io.emit({ event: 'retry', time: this.stamp(), code: error.code, message: error.message, attempt: this.attempt, retryAt });
    else io.emit({ event: 'error', time: this.stamp(), code: error.code, message: error.message, hint: error.hint ?? null, retryAt: options.once ? null : retryAt });
    if (exp !== undefined && exp * 1000 <= this.now() && this.expiredReported !== exp) {
      this.expiredReported = exp;
      io.emit({ event: 'expired', time: this.stamp(), expiredAt: isoTime(exp)!, message: `The token in ${options.output} expired at ${isoTime(exp)} and no new one could be fetched; retrying.` });
    }
    return { nextMs, error };
  }

  private tokenEvent(source: 'platform' | 'file', written: boolean, same: boolean, next: number): WatchEvent {
    const c = this.current!;
    const times = tokenTimes(c.claims);
    return {
      event: 'token',
      time: this.stamp(),
      source,
      written,
      same,
      expiresAt: isoTime(times.expiresAt) ?? null,
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
      this.io.emit({ event: 'warning', time: this.stamp(), message: `The device certificate expires in ${days} day(s) (${validTo}); after that every refresh fails. Renew it.` });
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
      // The hook's output goes to stderr: stdout may carry NDJSON events.
      const child = spawn(command!, args, { env: { ...this.io.env, C8Y_TOKEN_FILE: this.options.output }, stdio: ['ignore', 2, 2], shell: false });
      const done = (exitCode: number | null, signal: string | null, error?: string): void => {
        const event: WatchEvent = { event: 'hook', time: this.stamp(), command: this.options.exec!.join(' '), exitCode, signal, durationMs: this.now() - started };
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

  /** Waits `ms`, or less when woken (SIGHUP) or aborted; false when aborted. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.io.signal;
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.wake = undefined;
        resolve(value);
      };
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(true), Math.max(0, ms));
      signal?.addEventListener('abort', onAbort);
      this.wake = () => finish(true);
    });
  }
}

