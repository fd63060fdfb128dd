/**
 * The token keeper (watch, exec) on a virtual clock shared with the local endpoint: its schedule and
 * backoff through hours of virtual time in milliseconds, over real mutual TLS. Requests are counted
 * per virtual period, so "never floods the platform" is a number, not a feeling.
 */
import { copyFileSync, existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keepTokenFresh, type KeeperIo, type KeeperOptions, type TokenEvent } from '../../src/core/token/keeper.js';
import { loadSettings, type GivenFlags, type Settings } from '../../src/core/config/settings.js';
import { Emulator, type EmulatorOptions } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { testIo } from '../helpers/io.js';
import { runMain } from '../helpers/main.js';
import { pki } from '../helpers/paths.js';
import { virtualClock, type VirtualClock } from '../helpers/virtual-clock.js';

const START = Date.parse('2026-06-01T12:00:00Z');
const MIN = 60_000;
const emulators: Emulator[] = [];
afterEach(async () => {
  for (const e of emulators.splice(0)) await e.stop();
});

interface Kept {
  events: TokenEvent[];
  file: string;
  code: number;
}

/**
 * Runs the keeper on `clock` until `until` (virtual ms) or `maxRequests` requests, whichever comes
 * first; the endpoint shares the clock.
 */
/** `options` may be built from the settings and io the keeper gets (a renewer needs both). */
async function keep(
  e: Emulator,
  clock: VirtualClock,
  until: number,
  given: Partial<KeeperOptions> | ((settings: Settings, io: KeeperIo) => Partial<KeeperOptions>) = {},
  flags: GivenFlags = {},
): Promise<Kept> {
  const events: TokenEvent[] = [];
  const controller = new AbortController();
  clock.at(until, () => controller.abort('SIGTERM'));
  const io: KeeperIo = {
    ...testIo({ now: clock.now, signal: controller.signal }),
    emit: (x: TokenEvent) => {
      events.push(x);
      if (e.requests.length > 200) controller.abort('SIGTERM'); // a flood: stop, the assertions will say so
    },
    random: () => 0.5,
    sleepUntil: clock.sleepUntil,
  };
  const settings = await loadSettings({
    flags: { url: e.url, truststore: pki('truststore.pem'), cert: pki('device-ec256.chain.pem'), key: pki('device-ec256.key'), ...flags },
    env: {},
    cwd: tempDir(),
    warn: io.warn,
  });
  const options = typeof given === 'function' ? given(settings, io) : given;
  const file = options.output ?? join(tempDir(), 'token');
  const code = await keepTokenFresh(settings, { output: file, once: false, exitOnError: false, minRetryMs: 2000, maxRetryMs: 5 * MIN, slowRetryMs: 5 * MIN, ...options }, io);
  return { events, file, code };
}

async function endpoint(clock: VirtualClock, options: EmulatorOptions = {}): Promise<Emulator> {
  const e = await new Emulator({ now: clock.now, ...options }).start();
  emulators.push(e);
  return e;
}

const written = (k: Kept) => k.events.filter((x) => x.event === 'token' && x.written);

describe('the schedule', () => {
  it('refreshes at each half-life, never before: 8 hours of 1-hour tokens is 16 requests', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 3600 });
    const k = await keep(e, clock, START + 8 * 60 * MIN);
    expect(e.requests.length).toBe(16);
    expect(written(k)).toHaveLength(16);
    for (const [i, t] of written(k).entries()) {
      if (i === 0) continue;
      const previous = written(k)[i - 1] as Extract<TokenEvent, { event: 'token' }>;
      expect(Date.parse(t.time)).toBeGreaterThanOrEqual(Date.parse(previous.refreshAfter!));
    }
    expect(k.code).toBe(143);
  });

  it('a token living 100 days: one request every 50 days', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 100 * 86_400 });
    await keep(e, clock, START + 120 * 86_400_000);
    expect(e.requests.length).toBe(3);
  });
});

describe('failures', () => {
  it('a burst of 5xx answers: retried with growing delays, the old token kept', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 3600 });
    clock.at(START + 29 * MIN, () => ((e.fault = 'http503'), (e.faultCount = 3)));
    const k = await keep(e, clock, START + 40 * MIN);
    const retries = k.events.filter((x) => x.event === 'retry');
    expect(retries.map((x) => x.error.code)).toEqual(['PLATFORM_ERROR', 'PLATFORM_ERROR', 'PLATFORM_ERROR']);
    expect(retries.map((x) => x.attempt)).toEqual([1, 2, 3]);
    const gaps = retries.map((x, i) => (i ? Date.parse(x.time) - Date.parse(retries[i - 1]!.time) : 0)).slice(1);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(written(k)).toHaveLength(2);
  });

  it('a 429 with Retry-After: 10 min: the next request waits the ten minutes, not the 2 s backoff', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 3600 });
    e.retryAfter = '600';
    clock.at(START + 29 * MIN, () => ((e.fault = 'http429'), (e.faultCount = 2)));
    const k = await keep(e, clock, START + 60 * MIN);
    const retries = k.events.filter((x) => x.event === 'retry');
    expect(retries.map((x) => x.error.code)).toEqual(['PLATFORM_BUSY', 'PLATFORM_BUSY']);
    expect(retries[0]!.error.facts).toHaveProperty('retryAfterSeconds', 600);
    const times = e.requests.map((r) => r.at);
    // Requests after the first 429 come ten minutes apart (the held token is still valid until 60 min).
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(10 * MIN);
    expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(10 * MIN);
    expect(written(k)).toHaveLength(2);
  });

  it('an outage of 3 hours: a handful of requests, an expired event, and a token again within minutes of the platform’s return', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 3600 });
    clock.at(START + 20 * MIN, () => (e.fault = 'reset'));
    const back = START + 200 * MIN;
    clock.at(back, () => (e.fault = undefined));
    const k = await keep(e, clock, START + 260 * MIN);
    const during = e.requests.length - written(k).length;
    expect(during).toBeLessThan(40); // --max-retry 5m over about 170 minutes, not a busy loop
    expect(k.events.some((x) => x.event === 'expired')).toBe(true);
    const recovered = written(k).find((x) => Date.parse(x.time) >= back)!;
    // The held token expired at 60 min: retries are capped at a quarter of its lifetime.
    expect(Date.parse(recovered.time) - back).toBeLessThanOrEqual(15 * MIN);
  });

  it('reports the expiry when the held token expires, not at the next attempt (30 minutes later here)', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 3600 });
    // Refused from the half-life on: retried at --slow-retry, 30 minutes apart, so no attempt falls on the expiry.
    clock.at(START + 29 * MIN, () => (e.fault = 'http401'));
    const k = await keep(e, clock, START + 150 * MIN, { slowRetryMs: 30 * MIN });
    const first = written(k)[0] as Extract<TokenEvent, { event: 'token' }>;
    const expired = k.events.filter((x) => x.event === 'expired');
    expect(expired).toHaveLength(1);
    expect(expired[0]!.time).toBe(first.expiresAt);
    expect(expired[0]!.expiredAt).toBe(first.expiresAt);
    // No request was made at the expiry itself: the report came from the timer.
    expect(e.requests.some((r) => r.at === Date.parse(first.expiresAt!))).toBe(false);
  });

  it('the same token handed back after its half-life: growing backoff, not a poll', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 3600 });
    e.sticky = true;
    const k = await keep(e, clock, START + 59 * MIN);
    // half-life at 30 min, then backoff 2 s doubling up to 5 min until the expiry at 60 min
    expect(e.requests.length).toBeGreaterThan(3);
    expect(e.requests.length).toBeLessThan(20);
    expect(k.events.filter((x) => x.event === 'token' && x.state === 'same').length).toBeGreaterThan(1);
  });

  it('an older token than the one held: never written, a warning, and backoff', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 3600 });
    clock.at(START + 29 * MIN, () => (e.fault = 'older'));
    const k = await keep(e, clock, START + 44 * MIN);
    expect(written(k)).toHaveLength(1);
    expect(k.events.some((x) => x.event === 'warning' && /older than the one held/.test(x.message))).toBe(true);
    expect(e.requests.length).toBeLessThan(15);
  });
});

describe('a restart with a token past its half-life in the file', () => {
  it('holds it: the platform unreachable, its expiry is reported; an older token never replaces it', async () => {
    const first = virtualClock(START);
    const e1 = await endpoint(first, { lifetimeSeconds: 3600 });
    const file = join(tempDir(), 'token');
    await keep(e1, first, START + MIN, { output: file });
    const token = readFileSync(file, 'utf8');

    // Restarted 40 minutes later (past the half-life, 20 minutes before expiry); the platform down.
    const later = virtualClock(START + 40 * MIN);
    const e2 = await endpoint(later, { lifetimeSeconds: 3600 });
    e2.fault = 'reset';
    const down = await keep(e2, later, START + 70 * MIN, { output: file });
    expect(down.events.some((x) => x.event === 'expired')).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(token);

    // Restarted again at 40 minutes, the platform answering with an older token: the file keeps its own.
    const again = virtualClock(START + 40 * MIN);
    // Tokens of 10 minutes from this endpoint: one issued now expires at 50 minutes, before the held one.
    const e3 = await endpoint(again, { lifetimeSeconds: 600 });
    const older = await keep(e3, again, START + 41 * MIN, { output: file });
    expect(older.events.some((x) => x.event === 'warning' && /older than the one held/.test(x.message))).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(token);
  });
});

describe('files that change under it', () => {
  it('picks up a certificate and key swapped on disk', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 3600 });
    const dir = tempDir('creds-');
    const cert = join(dir, 'device.pem');
    const key = join(dir, 'device.key');
    copyFileSync(pki('device-rsa.chain.pem'), cert);
    copyFileSync(pki('device-rsa.key'), key);
    clock.at(START + 10 * MIN, () => {
      copyFileSync(pki('device-ec256.chain.pem'), cert);
      copyFileSync(pki('device-ec256.key'), key);
    });
    const k = await keep(e, clock, START + 40 * MIN, {}, { cert, key });
    const users = written(k).map((x) => (x.event === 'token' ? x.deviceUser : ''));
    expect(users).toEqual(['device_rsa-device-001', 'device_ec-device-256']);
  });

  it('rewrites a token file deleted meanwhile', async () => {
    const clock = virtualClock(START);
    const e = await endpoint(clock, { lifetimeSeconds: 3600 });
    const file = join(tempDir(), 'token');
    clock.at(START + 10 * MIN, () => unlinkSync(file));
    const k = await keep(e, clock, START + 40 * MIN, { output: file });
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(/^eyJ/);
    expect(written(k).length).toBe(2);
  });
});

describe('watch --renew-before longer than the certificate lives', () => {
  it('a 30-day window on 10-day certificates: renewed at once, then one warning and one renewal per half remaining validity (5 days), not one per refresh', async () => {
    const DAY = 24 * 60 * MIN;
    const clock = virtualClock(START);
    const e = await endpoint(clock, { est: true, lifetimeSeconds: 86_400 });
    e.est!.validityDays = 10;
    const dir = tempDir();
    const [cert, key] = [join(dir, 'device.pem'), join(dir, 'device.key')];
    copyFileSync(pki('device-ec256.chain.pem'), cert);
    copyFileSync(pki('device-ec256.key'), key);
    // The fixture lives to 2099: first a 10-day certificate, issued at START.
    const first = await runMain(['cert', 'renew', '--url', e.url, '--truststore', pki('server-ca.crt'), '--cert', cert, '--key', key, '--allow-shorter'], { now: clock.now });
    expect(first.code, first.stderr).toBe(0);
    const { renewForKeeper } = await import('../../src/core/est/device.js');
    const k = await keep(e, clock, START + 30 * DAY, (settings, io) => ({ renewal: { beforeMs: 30 * DAY, renew: (...a) => renewForKeeper(settings, io, false, ...a) } }), {
      truststore: pki('server-ca.crt'),
      cert,
      key,
    });
    const renewed = k.events.filter((x) => x.event === 'renewed').map((x) => Date.parse(x.time));
    const warnings = k.events.filter((x) => x.event === 'warning' && /--renew-before 30 d exceeds the lifetime of the certificates/.test(x.message));
    expect(warnings).toHaveLength(1);
    expect(k.events.filter((x) => x.event === 'renew-failed')).toEqual([]);
    // Inside the window from the start: renewed at the first refresh; then each new certificate (10 days) waits
    // half its remaining validity, seen at the next refresh (tokens every 12 h): days 0, 5, 10, 15, 20, 25.
    expect(renewed[0]).toBe(START);
    expect(renewed).toHaveLength(6);
    for (const [i, t] of renewed.entries()) if (i > 0) expect(t - renewed[i - 1]!).toBeGreaterThanOrEqual(5 * DAY - 2 * MIN);
    expect(written(k).length).toBeGreaterThanOrEqual(59);
  });
});
