/** exec as a real process: signals reach the command, and the command's end (exit code or signal) is ours. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { bin, RSA_DEVICE } from '../helpers/paths.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator().start();
});
afterAll(async () => {
  await emulator.stop();
});

function exec(script: string, dir: string, signal?: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    const args = [bin, 'exec', '--url', emulator.url, ...RSA_DEVICE, '--', process.execPath, '-e', script];
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, stdio: 'ignore' });
    if (signal) {
      const ready = join(dir, 'ready');
      const poll = setInterval(() => {
        if (existsSync(ready)) {
          clearInterval(poll);
          child.kill(signal);
        }
      }, 20);
    }
    child.on('close', (code) => resolve(code));
  });
}

describe.skipIf(process.platform === 'win32')('exec with a real process', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`passes ${signal} to the command and exits with the command's code`, async () => {
      const dir = tempDir();
      const script = `const fs = require('fs'); process.on('${signal}', () => { fs.writeFileSync(${JSON.stringify(join(dir, 'got'))}, '${signal}'); process.exit(7); }); fs.writeFileSync(${JSON.stringify(join(dir, 'ready'))}, ''); setTimeout(() => process.exit(1), 20000);`;
      expect(await exec(script, dir, signal)).toBe(7);
      expect(readFileSync(join(dir, 'got'), 'utf8')).toBe(signal);
    });
  }

  it('a command killed by a signal gives 128 + its number', async () => {
    expect(await exec("process.kill(process.pid, 'SIGKILL')", tempDir())).toBe(137);
  });
});
