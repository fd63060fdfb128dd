/**
 * A command's options object: every key its spec declares, resolved by the one merge (flags > environment
 * > profile > config > defaults), typed from the option table, so a runner reads `options.format` instead
 * of casting text.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { commandOptions } from '../../src/core/config/merge.js';
import { loadSettings } from '../../src/core/config/settings.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { readsSettings } from '../../src/commands/command.js';
import { keys as fetchKeys } from '../../src/commands/fetch/keys.js';
import { keys as enrollKeys } from '../../src/commands/cert-enroll/keys.js';
import { tempDir } from '../helpers/cli.js';

describe('commandOptions', () => {
  it('types each key from its row: a choice its choices, a duration milliseconds, a switch a boolean, a path resolved against the working directory', async () => {
    const cwd = tempDir('options-');
    writeFileSync(join(cwd, '.c8ytokenrc.json'), JSON.stringify({ url: 'https://t1.example.com', meta: 'meta.json', timeout: '5s' }));
    const flags = { format: 'HEADER', output: 'token', cache: 'cache' };
    const settings = await loadSettings({ flags, env: {}, cwd, warn: () => undefined, keys: fetchKeys });
    const o = commandOptions(fetchKeys, settings, { flags, env: {}, cwd });
    expectTypeOf(o.format).toEqualTypeOf<'token' | 'header' | 'json' | 'env' | undefined>();
    expectTypeOf(o.shell).toEqualTypeOf<'bash' | 'zsh' | 'fish' | 'powershell'>();
    expectTypeOf(o.timeout).toEqualTypeOf<number>();
    expectTypeOf(o.force).toEqualTypeOf<boolean>();
    expectTypeOf(o.output).toEqualTypeOf<string | undefined>();
    expect(o.format).toBe('header');
    expect(o.shell).toBe('bash');
    expect(o.timeout).toBe(5000);
    expect(o.force).toBe(false);
    expect(o.output).toBe(join(cwd, 'token'));
    expect(o.cache).toBe(join(cwd, 'cache'));
    expect(o.meta).toBe(join(cwd, 'meta.json'));
    expect(o.url).toBe('https://t1.example.com');
  });

  it('"-" stays stdout, not a file named -', () => {
    const o = commandOptions(fetchKeys, undefined, { flags: { output: '-' }, env: {}, cwd: tempDir() });
    expect(o.output).toBe('-');
  });

  it('a password option is where the password may come from, never the password read early: the one-time password of cert enroll too', () => {
    const cwd = tempDir();
    const o = commandOptions(enrollKeys, undefined, { flags: { oneTimePasswordFile: 'otp.txt' }, env: { C8YTOKEN_ONE_TIME_PASSWORD: 'x' }, cwd });
    expect(o.oneTimePasswordFile).toMatchObject({ role: 'one-time', flagFile: join(cwd, 'otp.txt'), envName: 'C8YTOKEN_ONE_TIME_PASSWORD', envValue: 'x' });
    expect(o.deviceId).toBeUndefined();
    expect(o.retryEvery).toBe(30_000);
  });

  it('without settings (inspect) the flags, the variables and the defaults still weigh as in the merge', () => {
    const o = commandOptions(enrollKeys, undefined, { flags: {}, env: { C8YTOKEN_DEVICE_ID: 'dev-1' }, cwd: tempDir() });
    expect(o.deviceId).toBe('dev-1');
  });

  it('only commands with an option a config file can give load the settings (inspect and completion never search for one)', () => {
    const loading = COMMANDS.filter((c) => readsSettings(c)).map((c) => c.name);
    expect(loading).toEqual(['fetch', 'watch', 'exec', 'verify-chain', 'cert renew', 'cert needs-renewal', 'cert enroll', 'proxy']);
  });
});
