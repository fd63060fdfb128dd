/**
 * Options that would silently do something else than meant: a day-scale window given as a bare number
 * (`--within 30` was 30 seconds), and options that have no effect in the combination given (they warn).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { option } from '../../src/core/config/options.js';
import { readValue } from '../../src/core/config/values.js';
import { parseDuration } from '../../src/core/time/duration.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki } from '../helpers/paths.js';

describe('day-scale durations need a unit', () => {
  it('cert needs-renewal --within 30 is a usage error (exit 2) that shows 30d and 30h', async () => {
    const run = await runMain(['cert', 'needs-renewal', '--cert', pki('device-ec256.crt'), '--within', '30']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--within');
    expect(run.stderr).toContain('"30d"');
    expect(run.stderr).toContain('"30h"');
    expect(run.stderr).toMatch(/bare number would be seconds/);
    expect(run.stdout).toBe('');
  });

  it('with a unit it works as before (the certificate is valid to 2099: not yet, exit 1)', async () => {
    expect((await runMain(['cert', 'needs-renewal', '--cert', pki('device-ec256.crt'), '--within', '30d'])).code).toBe(1);
    expect((await runMain(['cert', 'needs-renewal', '--cert', pki('device-ec256.crt'), '--within', '720h'])).code).toBe(1);
  });

  it('watch --renew-before 30 is refused: exit 2 from a flag, 3 from the environment or the config file', async () => {
    const base = ['watch', '--once', '-o', join(tempDir(), 'token'), '--url', 'https://127.0.0.1:1', '--cert', pki('device-ec256.chain.pem'), '--key', pki('device-ec256.key')];
    const flag = await runMain([...base, '--renew-before', '30']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('"30d"');
    const env = await runMain(base, { env: { C8YTOKEN_RENEW_BEFORE: '30' } });
    expect(env.code).toBe(3);
    expect(env.stderr).toContain('C8YTOKEN_RENEW_BEFORE');
    expect(env.stderr).toContain('"30d"');
    const dir = tempDir();
    writeFileSync(join(dir, '.c8ytokenrc.json'), JSON.stringify({ renewBefore: 30 }));
    const config = await runMain(base, { cwd: dir });
    expect(config.code).toBe(3);
    expect(config.stderr).toContain('renewBefore');
    expect(config.stderr).toContain('"30d"');
  });

  it('where seconds are natural a bare number stays seconds (--timeout 30, --expires-within 300)', () => {
    expect(readValue(option('timeout'), '30')).toEqual({ value: 30_000 });
    expect(readValue(option('expiresWithin'), '300')).toEqual({ value: 300_000 });
    expect(readValue(option('within'), '30')).toMatchObject({ problem: expect.stringMatching(/needs a unit/) as unknown });
    expect(readValue(option('within'), 30)).toMatchObject({ problem: expect.stringMatching(/needs a unit/) as unknown });
    expect(readValue(option('renewBefore'), '1d12h')).toEqual({ value: 36 * 3_600_000 });
    expect(parseDuration('30', { bareSeconds: false })).toBeUndefined();
    expect(parseDuration('30')).toBe(30_000);
  });
});
