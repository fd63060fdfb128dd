/**
 * watch never floods the platform and never loses a token: long lifetimes (timer overflow), older and
 * same tokens (growing backoff), outages longer than the lifetime (back within a quarter of it),
 * truncated answers (retryable), unusable tokens (never written). Runs watch in this process against
 * the local endpoint with short lifetimes, real time, counting requests.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchCommand, type WatchEvent, type WatchOptions } from '../../src/commands/watch.js';
import { loadSettings } from '../../src/core/config/settings.js';
import { Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { testIo } from '../helpers/io.js';
import { runMain } from '../helpers/main.js';
import { pki } from '../helpers/paths.js';

const emulators: Emulator[] = [];
afterEach(async () => {
  for (const e of emulators.splice(0)) await e.stop();
});

async function endpoint(options: EmulatorOptions = {}): Promise<Emulator> {
  const e = await new Emulator(options).start();
  emulators.push(e);
  return e;
}

interface Watching {
  events: WatchEvent[];
  file: string;
  stop(): Promise<number>;
}

/** Starts watch in this process; `stop` aborts it and resolves to its exit code. */
async function watch(url: string, options: Partial<WatchOptions> = {}, env: NodeJS.ProcessEnv = {}): Promise<Watching> {
  const events: WatchEvent[] = [];
  const file = options.output ?? join(tempDir(), 'token');
  const controller = new AbortController();
  const io = { ...testIo({ env, signal: controller.signal }), emit: (e: WatchEvent) => void events.push(e), random: () => 0.5 };
  const settings = await loadSettings({ flags: { url, truststore: pki('truststore.pem'), cert: pki('device-ec256.chain.pem'), key: pki('device-ec256.key') }, env: {}, cwd: tempDir(), warn: io.warn });
  const done = watchCommand(settings, { output: file, once: false, exitOnError: false, minRetryMs: 100, maxRetryMs: 2000, slowRetryMs: 2000, ...options }, io);
  return {
    events,
    file,
    stop: async () => {
      controller.abort('SIGTERM');
      return done;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watch never floods the platform', () => {
  it('a token living 100 days: one request, the next one 50 days later (no timer overflow)', async () => {
    const e = await endpoint({ lifetimeSeconds: 100 * 86_400 });
    const w = await watch(e.url);
    await sleep(1500);
    expect(await w.stop()).toBe(143);
    expect(e.requests.length).toBe(1);
    const token = w.events.find((x) => x.event === 'token');
    expect(token && 'refreshAt' in token ? Date.parse(token.refreshAt) - Date.now() : 0).toBeGreaterThan(49 * 86_400_000);
  });

  it('an older token than the one held: kept out of the file, asked again with a growing delay', async () => {
    const e = await endpoint({ lifetimeSeconds: 4 });
    const w = await watch(e.url);
    await sleep(300);
    const held = readFileSync(w.file, 'utf8');
    e.fault = 'older';
    await sleep(4500); // past the half-life (2 s) while every answer is older
    expect(await w.stop()).toBe(143);
    const older = e.requests.length - 1;
    // With --min-retry 100ms: half-life, then +~0.1, 0.2, 0.4, 0.8 s ... a handful, never ~9 a second.
    expect(older).toBeGreaterThanOrEqual(2);
    expect(older).toBeLessThanOrEqual(7);
    expect(readFileSync(w.file, 'utf8')).toBe(held);
    expect(w.events.some((x) => x.event === 'warning' && /older than the one held/.test(x.message))).toBe(true);
  });

  it('after an outage longer than the lifetime, a token is back within a quarter of the lifetime of the endpoint’s return', async () => {
    const e = await endpoint({ lifetimeSeconds: 2 });
    const port = e.port;
    const w = await watch(e.url, { minRetryMs: 200, maxRetryMs: 60_000 });
    await sleep(300);
    await e.stop();
    emulators.splice(emulators.indexOf(e), 1);
    await sleep(3500); // the held token expired at ~2 s; the backoff has grown meanwhile
    const back = await endpoint({ lifetimeSeconds: 2, port });
    const returned = Date.now();
    for (let i = 0; i < 40 && back.requests.length === 0; i++) await sleep(50);
    const waited = Date.now() - returned;
    expect(await w.stop()).toBe(143);
    expect(back.requests.length).toBeGreaterThanOrEqual(1);
    expect(waited).toBeLessThan(1500); // a quarter of 2 s, plus scheduling; the backoff alone would be seconds
    expect(w.events.some((x) => x.event === 'expired')).toBe(true);
  });
});

describe('answers that must not become a token file', () => {
  it('a connection cut after the headers is a truncated answer: exit 8, retryable, not a rejected certificate', async () => {
    const e = await endpoint();
    e.fault = 'truncate';
    e.faultCount = 1;
    const run = await runMain(['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')]);
    expect(run.code).toBe(8);
    expect(run.stderr).toMatch(/RESPONSE_TRUNCATED/);
  });

  for (const fault of ['no-exp', 'negative-exp', 'huge-exp'] as const) {
    it(`a 200 whose token has an unusable exp (${fault}) is exit 8 and leaves the token file as it was`, async () => {
      const e = await endpoint();
      const file = join(tempDir(), 'token');
      writeFileSync(file, 'previous-token', { mode: 0o600 });
      e.fault = fault;
      const run = await runMain(['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '-o', file, '--force']);
      expect(run.code).toBe(8);
      expect(run.stderr).toMatch(/without a usable token/);
      expect(readFileSync(file, 'utf8')).toBe('previous-token');
    });
  }

  it('durations beyond what a timer can hold are refused as usage errors', async () => {
    for (const args of [
      ['watch', '-o', 'x', '--max-retry', '30d'],
      ['fetch', '--timeout', '25d'],
    ]) {
      const run = await runMain([...args, '--url', 'https://127.0.0.1:9', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/must be at most/);
    }
  });
});

describe('the hook', () => {
  it('gets C8Y_TOKEN_FILE and the environment without c8ytoken’s password variables', async () => {
    const e = await endpoint();
    const out = join(tempDir(), 'env.json');
    const secrets = { C8YTOKEN_KEYSTORE_PASSWORD: 'ks-secret', C8YTOKEN_KEY_PASSWORD: 'key-secret', C8YTOKEN_TRUSTSTORE_PASSWORD: 'ts-secret', KEEP_ME: 'yes' };
    const w = await watch(e.url, { exec: [process.execPath, '-e', 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.env))', out] }, { ...secrets, PATH: process.env.PATH });
    for (let i = 0; i < 60 && !existsSync(out); i++) await sleep(50);
    await w.stop();
    const env = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
    expect(env.C8Y_TOKEN_FILE).toBe(w.file);
    expect(env.KEEP_ME).toBe('yes');
    for (const name of Object.keys(secrets).filter((n) => n !== 'KEEP_ME')) expect(env[name]).toBeUndefined();
  });
});
