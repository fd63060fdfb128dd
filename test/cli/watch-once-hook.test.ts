/**
 * `watch --once --exec -- HOOK` against the local endpoint: a failed hook fails the run with the hook's
 * exit code (as `exec` gives its command's), so a cron job or systemd timer sees it; the token stays
 * written. A hook that succeeds, or a run that needed no new token, exits 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { RSA_DEVICE } from '../helpers/paths.js';

const posix = process.platform !== 'win32';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator().start();
});
afterAll(async () => {
  await emulator.stop();
});

function watchOnce(token: string, hook: string[]) {
  return runMain(['watch', '--once', '--json', '-o', token, '--url', emulator.url, ...RSA_DEVICE, '--exec', '--', ...hook]);
}

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(!posix)('watch --once with a hook', () => {
  it("a hook that fails makes the run fail with the hook's exit code; the token is in the file", async () => {
    const token = join(tempDir(), 'token');
    const run = await watchOnce(token, ['sh', '-c', 'exit 3']);
    expect(run.code).toBe(3);
    expect(readFileSync(token, 'utf8')).toMatch(/^eyJ/);
    expect(events(run.stdout).find((e) => e.event === 'hook')).toMatchObject({ exitCode: 3 });
  });

  it('a hook ended by a signal: 128+N; a hook that cannot be started: 127', async () => {
    expect((await watchOnce(join(tempDir(), 'token'), ['sh', '-c', 'kill -TERM $$'])).code).toBe(143);
    const missing = await watchOnce(join(tempDir(), 'token'), [join(tempDir(), 'no-such-hook')]);
    expect(missing.code).toBe(127);
    expect(events(missing.stdout).find((e) => e.event === 'hook')).toHaveProperty('error');
  });

  it('a hook that succeeds: exit 0; a second run with the token still fresh runs no hook and exits 0', async () => {
    const dir = tempDir();
    const token = join(dir, 'token');
    const marker = join(dir, 'ran');
    expect((await watchOnce(token, ['sh', '-c', `touch "${marker}"`])).code).toBe(0);
    expect(existsSync(marker)).toBe(true);
    const again = await watchOnce(token, ['sh', '-c', 'exit 9']);
    expect(again.code).toBe(0);
    expect(events(again.stdout).some((e) => e.event === 'hook')).toBe(false);
  });
});
