import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWritable, readTokenFile, writeTokenFile } from '../../src/core/token/file.js';
import { codeOf } from '../helpers/errors.js';
import { tempDir } from '../helpers/cli.js';

describe('token file', () => {
  it('replaces the file atomically with mode 0600 and no newline', async () => {
    const dir = tempDir();
    const file = join(dir, 'token');
    writeFileSync(file, 'old', { mode: 0o644 });
    await writeTokenFile(file, 'a.b.c');
    expect(readFileSync(file, 'utf8')).toBe('a.b.c');
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['token']);
    expect(await readTokenFile(file)).toBe('a.b.c');
    expect(await readTokenFile(join(dir, 'absent'))).toBeUndefined();
  });

  it('refuses an empty token and leaves the old file', async () => {
    const file = join(tempDir(), 'token');
    writeFileSync(file, 'old');
    expect(await codeOf(writeTokenFile(file, ''))).toBe('INTERNAL');
    expect(readFileSync(file, 'utf8')).toBe('old');
  });

  it('reports missing and unwritable folders as exit 9', async () => {
    expect(await codeOf(() => checkWritable('/nonexistent-folder/token'))).toBe('OUTPUT_UNWRITABLE');
    expect(await codeOf(writeTokenFile('/nonexistent-folder/token', 'a.b.c'))).toBe('OUTPUT_UNWRITABLE');
    const dir = tempDir();
    expect(await codeOf(() => checkWritable(dir))).toBe('OUTPUT_UNWRITABLE'); // a folder, not a file
    if (process.platform !== 'win32' && process.getuid?.() !== 0) {
      chmodSync(dir, 0o500);
      expect(await codeOf(() => checkWritable(join(dir, 'token')))).toBe('OUTPUT_UNWRITABLE');
    }
  });
});
