/**
 * fetch -o FILE reads FILE once: the same read answers "is there a token to reuse", "is the platform's
 * token the same one" and "does the file hold a longer-lived token than the answer". The built CLI runs
 * with a preload that counts every open of the file (test/helpers/count-opens.cjs).
 */
import { spawn } from 'node:child_process';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { bin, pki } from '../helpers/paths.js';

const preload = new URL('../helpers/count-opens.cjs', import.meta.url).pathname;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator().start();
});
afterAll(() => emulator.stop());

/** Runs fetch -o FILE; its exit code, its stderr and how often FILE was opened. */
function fetch(file: string, ...more: string[]): Promise<{ code: number | null; stderr: string; opens: number }> {
  const args = ['fetch', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '-o', file, '--verbose', ...more];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', preload, bin, ...args], { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', C8YTOKEN_TEST_COUNT_OPENS: file } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr, opens: Number(/OPENS (\d+)/.exec(stderr)?.[1]) }));
  });
}

describe('the token file of fetch -o', () => {
  it('is read once whether its token is reused, stale (the platform is asked) or ignored (--force); a missing file is not opened', async () => {
    const file = join(tempDir(), 'token');
    const first = await fetch(file);
    expect(first.code, first.stderr).toBe(0);
    expect(first.opens).toBe(0);
    const reused = await fetch(file);
    expect(reused.stderr).toMatch(/reusing the token/);
    expect(reused.opens).toBe(1);
    // Past its half-life by the file's time: not reused, so the platform is asked.
    utimesSync(file, new Date(0), new Date(0));
    const stale = await fetch(file);
    expect(stale.stderr).toMatch(/was not reused/);
    expect(stale.stderr).toMatch(/POST /);
    expect(stale.opens).toBe(1);
    const forced = await fetch(file, '--force');
    expect(forced.stderr).toMatch(/POST /);
    expect(forced.opens).toBe(1);
  });
});
