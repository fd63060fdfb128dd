/**
 * watch never loses a token: truncated answers (retryable), unusable tokens (never written), durations
 * no timer can hold, and what a hook gets. The schedule and the backoff (long lifetimes, older and same
 * tokens, long outages) run on a virtual clock in test/core/keeper.test.ts; the timer that waits is
 * tested with fake timers below.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepTokenFresh as watchCommand, type TokenEvent as WatchEvent, type KeeperOptions as WatchOptions } from '../../src/core/token/keeper.js';
import { loadSettings } from '../../src/core/config/settings.js';
import { tempDir } from '../helpers/cli.js';
import { testIo } from '../helpers/io.js';
import { runMain } from '../helpers/main.js';
import { pki, RSA_DEVICE } from '../helpers/paths.js';
import { localEndpoints } from '../helpers/endpoints.js';

const endpoint = localEndpoints();

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

describe('answers that must not become a token file', () => {
  it('a connection cut after the headers is a truncated answer: exit 8, retryable, not a rejected certificate', async () => {
    const e = await endpoint();
    e.fault = 'truncate';
    e.faultCount = 1;
    const run = await runMain(['fetch', '--url', e.url, ...RSA_DEVICE]);
    expect(run.code).toBe(8);
    expect(run.stderr).toMatch(/RESPONSE_TRUNCATED/);
  });

  for (const fault of ['no-exp', 'negative-exp', 'huge-exp'] as const) {
    it(`a 200 whose token has an unusable exp (${fault}) is exit 8 and leaves the token file as it was`, async () => {
      const e = await endpoint();
      const file = join(tempDir(), 'token');
      writeFileSync(file, 'previous-token', { mode: 0o600 });
      e.fault = fault;
      const run = await runMain(['fetch', '--url', e.url, ...RSA_DEVICE, '-o', file, '--force']);
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

describe('the wait between refreshes', () => {
  it('waits 100 days in steps setTimeout can hold (it fires after 1 ms beyond 2^31-1 ms)', async () => {
    const { vi } = await import('vitest');
    const { sleepUntil, MAX_TIMER_MS } = await import('../../src/core/time/timer.js');
    vi.useFakeTimers({ now: 0 });
    try {
      const sleep = sleepUntil(100 * 86_400_000, () => Date.now());
      let done = false;
      void sleep.done.then(() => (done = true));
      await vi.advanceTimersByTimeAsync(1000);
      expect(done).toBe(false); // an overflowing timer would have fired after 1 ms
      await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(100 * 86_400_000);
      expect(done).toBe(true);
      const aborted = new AbortController();
      const cut = sleepUntil(Date.now() + 60_000, () => Date.now(), aborted.signal);
      aborted.abort();
      expect(await cut.done).toBe(false);
      const woken = sleepUntil(Date.now() + 60_000, () => Date.now());
      woken.wake();
      expect(await woken.done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
