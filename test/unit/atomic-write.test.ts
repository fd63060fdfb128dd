/**
 * files/atomic.ts: the temporary file is created 0600 and gets its final mode (and owner) only once
 * written, so a key backup meant to be 0640 for its group is never readable by the wrong group meanwhile.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/cli.js';

const opened: { path: string; mode: number | undefined }[] = [];
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: (path: string, flags: string, mode?: number) => {
      opened.push({ path, mode });
      return real.open(path, flags, mode);
    },
  };
});
// The workers share module graphs (isolate: false): load atomic.ts afresh so it sees the wrapped open.
vi.resetModules();
const { writeFileAtomic } = await import('../../src/core/files/atomic.js');

describe('writeFileAtomic', () => {
  it.skipIf(process.platform === 'win32')('creates the temporary file 0600, then gives it the mode asked for (0640)', async () => {
    const dir = tempDir('c8ytoken-atomic-');
    const target = join(dir, 'device.key.bak');
    await writeFileAtomic(target, 'secret', { mode: 0o640, role: 'key', owner: { uid: process.getuid!(), gid: process.getgid!() } });
    expect(opened.map((o) => o.mode)).toEqual([0o600]);
    expect(opened[0]!.path).toMatch(/\.device\.key\.bak\.\d+\.[0-9a-f]+\.tmp$/);
    expect(statSync(target).mode & 0o777).toBe(0o640);
    expect(readFileSync(target, 'utf8')).toBe('secret');
  });
});
