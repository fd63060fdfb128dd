/**
 * SIGINT and SIGTERM end the process with 130 / 143 within a second, even in the middle of a long key
 * derivation (it yields to the event loop, so the handlers run): the real process, the real bin.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as hostile from '../../fixtures/hostile.mjs';
import { LIMITS } from '../../src/core/limits.js';
import { tempDir } from '../helpers/cli.js';
import { bin } from '../helpers/paths.js';

/**
 * Runs the bin with --verbose, sends `signal` `afterMs` after its first verbose line (the command is
 * running then), resolves to the exit code and the time from the signal to the exit.
 */
function interrupt(args: string[], signal: NodeJS.Signals, afterMs: number): Promise<{ code: number | null; ms: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, '--verbose', ...args], { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' } });
    let stderr = '';
    let sent = 0;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (sent === 0 && stderr.includes('c8ytoken: config:')) {
        sent = -1;
        setTimeout(() => {
          sent = Date.now();
          child.kill(signal);
        }, afterMs);
      }
    });
    child.on('close', (code) => resolve({ code, ms: Date.now() - sent, stderr }));
  });
}

describe.skipIf(process.platform === 'win32')('signals during long work', () => {
  // A MAC just under the per-count limit: about a second of key derivation on this kind of machine.
  const slow = join(tempDir(), 'slow.p12');
  writeFileSync(slow, hostile.p12WithMacIterations(LIMITS.kdfIterations - 10_000));

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} in the middle of a PKCS#12 key derivation ends the process with ${code}`, async () => {
      const run = await interrupt(['fetch', '--url', 'https://127.0.0.1:9', '--keystore', slow], signal, 100);
      expect(run.code).toBe(code);
      expect(run.ms).toBeLessThan(1000);
    });
  }
});
