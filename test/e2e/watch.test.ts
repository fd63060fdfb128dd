/**
 * `c8ytoken watch` as a real process against the local endpoint with token lifetimes of a few seconds:
 * what needs a process (a reader polling the file all along, which must never see a partial, empty or
 * older token; signals; the hook). The schedule, the backoff and the faults are tested on a virtual
 * clock in test/core/keeper.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { bin, pki } from '../helpers/paths.js';

interface Event {
  event: string;
  [key: string]: unknown;
}

interface Running {
  child: ChildProcess;
  events: Event[];
  stderr: () => string;
  file: string;
  dir: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
  /** Problems the file poller saw; must stay empty. */
  readerProblems: string[];
  stopPolling: () => void;
  waitFor: (predicate: (e: Event, all: Event[]) => boolean, timeoutMs?: number) => Promise<Event>;
}

const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

const running: Running[] = [];
const emulators: Emulator[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.stopPolling();
    r.child.kill('SIGKILL');
  }
  for (const e of emulators.splice(0)) await e.stop().catch(() => undefined);
});

async function endpoint(lifetimeSeconds: number, port = 0): Promise<Emulator> {
  const e = await new Emulator({ lifetimeSeconds, port }).start();
  emulators.push(e);
  return e;
}

function startWatch(url: string, extra: string[] = [], credentials?: string[], tokenFile?: string): Running {
  const dir = tempDir('watch-');
  const file = tokenFile ?? join(dir, 'token');
  const creds = credentials ?? ['--keystore', pki('device-rsa.p12')];
  const child = spawn(
    process.execPath,
    [bin, 'watch', '--json', '-o', file, '--url', url, '--truststore', pki('truststore.pem'), '--min-retry', '200ms', '--max-retry', '1s', '--slow-retry', '1s', ...creds, ...extra],
    {
      env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1', C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const events: Event[] = [];
  const waiters: (() => void)[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffer.slice(0, nl)) as Event);
      buffer = buffer.slice(nl + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // 'close', not 'exit': the events still in the pipe are read before the test looks at them.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, atMs: Date.now() })));

  // The reader: what a program using the token file sees.
  const readerProblems: string[] = [];
  let bestExp = 0;
  const poll = setInterval(() => {
    if (!existsSync(file)) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // deleted between the two calls by the test itself
    }
    if (text === '') return void readerProblems.push('empty file');
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(text)) return void readerProblems.push(`partial or not a JWT: ${text.slice(0, 40)}`);
    const exp = Number(claimsOf(text).exp);
    const nowS = Date.now() / 1000;
    if (exp < bestExp && bestExp > nowS) readerProblems.push(`older token (exp ${exp}) replaced a valid one (exp ${bestExp})`);
    bestExp = Math.max(bestExp, exp);
  }, 15);

  const r: Running = {
    child,
    events,
    stderr: () => stderr,
    file,
    dir,
    exited,
    readerProblems,
    stopPolling: () => clearInterval(poll),
    waitFor: (predicate, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out; events: ${JSON.stringify(events.slice(-6))}\nstderr: ${stderr}`)), timeoutMs);
        const check = (): void => {
          const hit = events.find((e) => predicate(e, events));
          if (hit) {
            clearTimeout(deadline);
            resolve(hit);
          } else waiters.push(check);
        };
        check();
      }),
  };
  running.push(r);
  return r;
}

const tokens = (r: Running): Event[] => r.events.filter((e) => e.event === 'token');

async function stillRunningThenStop(r: Running): Promise<void> {
  expect(r.child.exitCode).toBeNull(); // it never exits unless asked
  r.child.kill('SIGTERM');
  const { code } = await r.exited;
  expect(code).toBe(143);
  expect(r.events.at(-1)!.event).toBe('stop');
  r.stopPolling();
  expect(r.readerProblems).toEqual([]);
  expect(r.stderr()).not.toMatch(/eyJ[\w-]{20,}/); // no token in any log line
  expect(JSON.stringify(r.events)).not.toMatch(/eyJ[\w-]{20,}/);
}

describe('watch', () => {
  it('refreshes after each half-life and runs the hook after each new token', async () => {
    const e = await endpoint(2);
    const r = startWatch(e.url, ['--exec', '--', process.execPath, '-e', 'require("fs").appendFileSync(process.env.C8Y_TOKEN_FILE + ".hooks", "x")']);
    await r.waitFor((_, all) => all.filter((x) => x.event === 'token' && x.written).length >= 3);
    await r.waitFor((_, all) => all.filter((x) => x.event === 'hook').length >= 3);
    const [first, second] = tokens(r);
    // never before the half-life of the previous token
    expect(Date.parse(String(second!.time))).toBeGreaterThanOrEqual(Date.parse(String(first!.refreshAt)) - 5);
    expect(r.events.filter((x) => x.event === 'hook').every((h) => h.exitCode === 0)).toBe(true);
    expect(readFileSync(`${r.file}.hooks`, 'utf8').length).toBeGreaterThanOrEqual(3);
    await stillRunningThenStop(r);
  });

  it.skipIf(process.platform === 'win32')('refreshes at once on SIGHUP', async () => {
    const e = await endpoint(600);
    const r = startWatch(e.url);
    await r.waitFor((x) => x.event === 'token');
    const requests = e.requests.length;
    r.child.kill('SIGHUP');
    await r.waitFor((_, all) => all.filter((x) => x.event === 'token').length >= 2, 3000);
    expect(e.requests.length).toBe(requests + 1);
    expect(tokens(r)[1]!.same).toBe(true); // before half-life the platform hands back the same token
    await stillRunningThenStop(r);
  });

  it('stops within a second on SIGTERM during a refresh, leaving the file intact', async () => {
    const e = await endpoint(600);
    const r = startWatch(e.url);
    await r.waitFor((x) => x.event === 'token');
    const before = readFileSync(r.file, 'utf8');
    e.fault = 'hang';
    const requests = e.requests.length;
    r.child.kill('SIGHUP');
    while (e.requests.length === requests) await new Promise((res) => setTimeout(res, 10));
    const sentAt = Date.now();
    r.child.kill('SIGTERM');
    const { code, atMs } = await r.exited;
    expect(code).toBe(143);
    // Stops within a second (the bin's hard limit); the slack is for a loaded CI machine.
    expect(atMs - sentAt).toBeLessThan(2000);
    expect(readFileSync(r.file, 'utf8')).toBe(before);
    r.stopPolling();
    expect(r.readerProblems).toEqual([]);
  });

  it('reuses a fresh token already in the file at start, without a request', async () => {
    const e = await endpoint(600);
    const file = join(tempDir(), 'token');
    // The token put there by a fetch in this process: the watch started after it is the process under test.
    const fetched = await runMain(['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-rsa.p12'), '-o', file], {
      env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' },
    });
    expect(fetched.code).toBe(0);
    const requests = e.requests.length;
    const r = startWatch(e.url, [], undefined, file);
    const first = await r.waitFor((x) => x.event === 'token');
    expect(first).toMatchObject({ source: 'file', written: false });
    expect(Date.parse(String(first.refreshAt))).toBeGreaterThan(Date.now() + 250_000); // at its half-life, 5 min away
    expect(e.requests.length).toBe(requests);
    await stillRunningThenStop(r);
  });
});
