/**
 * Options that would silently do something else than meant: a day-scale window given as a bare number
 * (`--within 30` was 30 seconds), and options that have no effect in the combination given (they warn).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { completionModel } from '../../src/commands/completion/script.js';
import { renderManPage, roff } from '../../src/cli/man.js';
import { NO_EFFECT, option } from '../../src/core/config/options.js';
import { Emulator } from '../emulator/server.js';
import { readValue } from '../../src/core/config/values.js';
import { parseDuration } from '../../src/core/time/duration.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki, RSA_DEVICE } from '../helpers/paths.js';

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

describe('options without effect in the combination given warn', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await new Emulator().start();
  });
  afterAll(async () => {
    await emulator.stop();
  });
  const fetch = (...args: string[]) => runMain(['fetch', '--url', emulator.url, ...RSA_DEVICE, ...args]);
  const token = async (): Promise<string> => (await fetch()).stdout.trim();

  it('inspect --expires-within without --check warns, and with --check does not', async () => {
    const jwt = await token();
    const alone = await runMain(['inspect', '--expires-within', '5m', jwt]);
    expect(alone.code).toBe(0);
    expect(alone.stderr).toContain('warning: --expires-within has no effect without --check');
    const checked = await runMain(['inspect', '--check', '--expires-within', '5m', jwt]);
    expect(checked.stderr).not.toContain('warning');
    // -q silences warnings, as everywhere.
    expect((await runMain(['inspect', '-q', '--expires-within', '5m', jwt])).stderr).toBe('');
  });

  it('fetch --shell without --format env warns (the token is printed as asked); with it, no warning', async () => {
    const plain = await fetch('--shell', 'fish');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^eyJ/);
    expect(plain.stderr).toContain('warning: --shell has no effect without --format env');
    const env = await fetch('--format', 'ENV', '--shell', 'fish');
    expect(env.stdout).toMatch(/^set -gx C8Y_TOKEN /m);
    expect(env.stderr).not.toContain('warning');
  });

  it('fetch --force without -o or --cache warns; watch --once with retry options warns', async () => {
    expect((await fetch('--force')).stderr).toContain('warning: --force has no effect without --output or --cache');
    expect((await fetch('--force', '--cache', join(tempDir(), 'cache'))).stderr).not.toContain('warning');
    const dir = tempDir();
    const watch = await runMain(['watch', '--once', '--min-retry', '1s', '--exit-on-error', '-o', join(dir, 'token'), '--url', emulator.url, ...RSA_DEVICE]);
    expect(watch.code).toBe(0);
    expect(watch.stderr).toContain('warning: --min-retry has no effect with --once (it makes one attempt and exits with its error)');
    expect(watch.stderr).toContain('warning: --exit-on-error has no effect with --once');
  });

  it('--device-ca is listed only where it is read (verify-chain, doctor): help, completion and man page; elsewhere accepted with a warning', async () => {
    const readers = COMMANDS.filter((c) => c.options.includes('deviceCa')).map((c) => c.name);
    expect(readers).toEqual(expect.arrayContaining(['fetch', 'verify-chain', 'doctor']));
    const model = completionModel(COMMANDS, '0.0.0');
    const completionOf = (path: string): string[] => {
      const walk = (node: typeof model.root): string[] | undefined => (node.path === path ? node.options.flatMap((o) => o.names) : node.commands.map(walk).find((x) => x !== undefined));
      return walk(model.root)!;
    };
    const man = renderManPage({ commands: COMMANDS, version: '0.0.0' });
    const manSection = (name: string): string => man.split('\n.SS ').find((s) => s.startsWith(`\\fBc8ytoken ${roff(name)}\\fR`)) ?? '';
    for (const name of readers) {
      const help = await runMain([...name.split(' '), '--help']);
      const listed = ['verify-chain', 'doctor'].includes(name);
      expect(help.stdout.includes('--device-ca'), `${name} --help`).toBe(listed);
      expect(completionOf(name).includes('--device-ca'), `${name} completion`).toBe(listed);
      expect(manSection(name), `${name} man section`).not.toBe('');
      expect(manSection(name).includes('device\\-ca'), `${name} man page`).toBe(listed);
    }
    const fetched = await fetch('--device-ca', pki('device-root-ca.crt'));
    expect(fetched.code).toBe(0);
    expect(fetched.stderr).toContain('warning: --device-ca has no effect on fetch (only verify-chain and doctor read it)');
    const verified = await runMain(['verify-chain', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--device-ca', pki('device-root-ca.crt')]);
    expect(verified.stderr).not.toContain('warning');
  });

  it('every rule names options of the table', () => {
    for (const rule of NO_EFFECT) {
      expect(option(rule.option), rule.option).toBeDefined();
      for (const n of rule.needs ?? []) expect(option(n.key), n.key).toBeDefined();
      if (rule.not) expect(option(rule.not.key).kind).toBe('switch');
      for (const c of rule.commands ?? []) expect(COMMANDS.map((x) => x.name)).toContain(c);
    }
  });
});
