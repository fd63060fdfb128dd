import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/core/config/settings.js';
import { givenPassword, PasswordBook, type PasswordSources } from '../../src/core/credentials/passwords.js';
import { caught, codeOf } from '../helpers/errors.js';
import { tempDir } from '../helpers/cli.js';

function project(files: Record<string, string>): string {
  const dir = tempDir('settings-');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** Warnings of the last load. */
let warnings: string[] = [];
const load = (dir: string, flags = {}, env: NodeJS.ProcessEnv = {}, cwd = dir) => {
  warnings = [];
  return loadSettings({ flags, env, cwd, searchFrom: cwd, warn: (m) => warnings.push(m) });
};

describe('loadSettings', () => {
  it('applies defaults when nothing is configured', async () => {
    const s = await load(tempDir());
    expect(s.endpoint).toBeUndefined();
    expect(s.chainHeader).toBe('auto');
    expect(s.timeoutMs).toBe(30_000);
  });

  it('a profile named like an Object property (constructor, __proto__, toString) is only a profile when the file has one', async () => {
    const none = tempDir();
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(await codeOf(load(none, { profile: name }))).toBe('CONFIG_INVALID');
    }
    // Written as text: in an object literal "__proto__" would set the prototype instead of a key.
    const dir = project({ '.c8ytokenrc.json': '{"profiles": {"__proto__": {"url": "https://proto.example.com"}, "constructor": {"url": "https://ctor.example.com"}}}' });
    expect((await load(dir, { profile: '__proto__' })).endpoint?.hostname).toBe('proto.example.com');
    expect((await load(dir, { profile: 'constructor' })).endpoint?.hostname).toBe('ctor.example.com');
    expect(await codeOf(load(dir, { profile: 'toString' }))).toBe('CONFIG_INVALID');
  });

  it('merges flags > environment > profile > top level', async () => {
    const dir = project({
      '.c8ytokenrc.yaml': [
        'url: https://top.example.com',
        'cert: certs/top.pem',
        'chainHeader: none',
        'timeout: 10s',
        'profiles:',
        '  staging:',
        '    url: https://staging.example.com',
        '    timeout: 20s',
      ].join('\n'),
    });
    const top = await load(dir);
    expect(top.endpoint?.href).toBe('https://top.example.com:8443/devicecontrol/deviceAccessToken');
    expect(top.cert).toBe(join(dir, 'certs/top.pem'));
    expect(top.chainHeader).toBe('none');
    expect(top.timeoutMs).toBe(10_000);

    const profiled = await load(dir, { profile: 'staging' });
    expect(profiled.endpoint?.hostname).toBe('staging.example.com');
    expect(profiled.timeoutMs).toBe(20_000);
    expect(profiled.chainHeader).toBe('none'); // from the top level, not overridden

    const env = await load(dir, { profile: 'staging' }, { C8Y_HOST: 'https://env.example.com', C8YTOKEN_TIMEOUT: '5s' });
    expect(env.endpoint?.hostname).toBe('env.example.com');
    expect(env.timeoutMs).toBe(5_000);

    const flags = await load(dir, { profile: 'staging', url: 'flag.example.com:9443', timeout: '1m' }, { C8Y_HOST: 'https://env.example.com' });
    expect(flags.endpoint?.href).toBe('https://flag.example.com:9443/devicecontrol/deviceAccessToken');
    expect(flags.timeoutMs).toBe(60_000);
  });

  it('reads the URL from C8YTOKEN_URL, then C8Y_HOST, C8Y_BASEURL, C8Y_URL, skipping empty ones', async () => {
    const dir = tempDir();
    expect((await load(dir, {}, { C8Y_URL: 'https://c.example', C8Y_BASEURL: 'https://b.example' })).endpoint?.hostname).toBe('b.example');
    expect((await load(dir, {}, { C8Y_HOST: '', C8Y_URL: 'https://c.example' })).endpoint?.hostname).toBe('c.example');
    expect((await load(dir, {}, { C8Y_HOST: 'https://a.example', C8YTOKEN_URL: 'https://own.example' })).endpoint?.hostname).toBe('own.example');
  });

  it('resolves config paths against the config file, flag paths against the working directory', async () => {
    const dir = project({ 'conf/c8y.json': JSON.stringify({ keystore: { path: 'device.p12', alias: 'dev' }, truststore: 'trust.jks' }) });
    const s = await load(dir, { config: 'conf/c8y.json', deviceCa: 'ca.pem' });
    expect(s.keystore).toEqual({ path: join(dir, 'conf/device.p12'), alias: 'dev' });
    expect(s.truststore).toBe(join(dir, 'conf/trust.jks'));
    expect(s.deviceCa).toBe(join(dir, 'ca.pem'));
    expect(s.configPath).toBe(join(dir, 'conf/c8y.json'));
  });

  it('finds the config file in a parent folder', async () => {
    const dir = project({ '.c8ytokenrc': '{"url": "https://parent.example"}', 'sub/deeper/.keep': '' });
    const s = await load(dir, {}, {}, join(dir, 'sub/deeper'));
    expect(s.endpoint?.hostname).toBe('parent.example');
  });

  it('reads the c8ytoken key of package.json, and ignores a package.json without one', async () => {
    const withKey = project({ 'package.json': JSON.stringify({ name: 'x', c8ytoken: { url: 'https://pkg.example' } }) });
    expect((await load(withKey)).endpoint?.hostname).toBe('pkg.example');
    const without = project({ 'package.json': JSON.stringify({ name: 'c8ytoken' }) });
    expect((await load(without)).configPath).toBeUndefined();
  });

  it.skipIf(process.platform === 'win32' || process.platform === 'darwin')('falls back to the user config folder', async () => {
    const xdg = tempDir('xdg-');
    mkdirSync(join(xdg, 'c8ytoken'));
    writeFileSync(join(xdg, 'c8ytoken', 'config.yaml'), 'url: https://global.example\n');
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = xdg; // cosmiconfig reads the process environment for this folder
    try {
      const s = await load(tempDir(), {}, { XDG_CONFIG_HOME: xdg });
      expect(s.endpoint?.hostname).toBe('global.example');
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  it('reports every problem of a config file at once, with key paths', async () => {
    const dir = project({
      '.c8ytokenrc.json': JSON.stringify({ url: 42, chainHeader: 'sometimes', timeout: 'soon', keystore: { type: 'pem' }, profiles: { a: { cert: [] } }, colour: 'red' }),
    });
    const err = await caught(load(dir), 'CONFIG_INVALID');
    const paths = (err.facts.problems ?? []).map((p) => p.path);
    for (const path of ['url', 'chainHeader', 'timeout', 'keystore.type', 'profiles.a.cert']) expect(paths).toContain(path);
    expect(err.exitCode).toBe(3);
  });

  it('warns about unknown keys without failing', async () => {
    const dir = project({ '.c8ytokenrc.json': JSON.stringify({ url: 'https://x.example', colour: 'red', keystore: { pth: 'x' } }) });
    await load(dir);
    expect(warnings.join('\n')).toMatch(/"colour" is not a known setting/);
    expect(warnings.join('\n')).toMatch(/"keystore.pth" is not a known setting/);
  });

  it('reports unreadable files, syntax errors, unknown profiles and JavaScript configs', async () => {
    expect(await codeOf(load(tempDir(), { config: 'nope.json' }))).toBe('CONFIG_UNREADABLE');
    expect(await codeOf(load(project({ '.c8ytokenrc.json': '{"url": ' })))).toBe('CONFIG_UNREADABLE');
    expect(await codeOf(load(project({ '.c8ytokenrc.json': '{}' }), { profile: 'prod' }))).toBe('CONFIG_INVALID');
    expect(await codeOf(load(project({ 'c.js': 'module.exports = {}' }), { config: 'c.js' }))).toBe('CONFIG_INVALID');
  });

  it('rejects bad values from flags as usage and from the environment as configuration', async () => {
    expect(await codeOf(load(tempDir(), { timeout: 'later' }))).toBe('USAGE');
    expect(await codeOf(load(tempDir(), {}, { C8YTOKEN_CHAIN_HEADER: 'sometimes' }))).toBe('CONFIG_INVALID');
    expect(await codeOf(load(tempDir(), { url: 'http://insecure.example' }))).toBe('BAD_URL');
  });
});

describe('password resolution', () => {
  const base: PasswordSources = { role: 'keystore', envName: 'C8YTOKEN_KEYSTORE_PASSWORD' };
  const none = (): void => undefined;

  it('takes the flag file over the environment over the config file', async () => {
    const dir = project({ 'pw.txt': 'from-file\n', 'cfg.txt': 'from-config-file' });
    expect(await givenPassword({ ...base, flagFile: join(dir, 'pw.txt'), envValue: 'env' }, none)).toBe('from-file');
    expect(await givenPassword({ ...base, envValue: 'env', configValue: 'inline' }, none)).toBe('env');
    expect(await givenPassword({ ...base, configFile: join(dir, 'cfg.txt'), configValue: 'inline' }, none)).toBe('from-config-file');
    expect(await givenPassword({ ...base }, none)).toBeUndefined();
  });

  it('asks at the prompt, naming the file, only when nothing gives the password, up to three times', async () => {
    const asked: string[] = [];
    const sources = { key: { ...base, role: 'key' as const, envName: 'K' }, keystore: base, truststore: { ...base, role: 'truststore' as const, envName: 'T' } };
    const book = new PasswordBook(sources, async (q) => (asked.push(q), 'typed'), none);
    expect(await book.get('keystore', 'device.p12')).toBe('typed');
    expect(asked).toEqual(['Enter the keystore password for device.p12: ']);
    expect(book.retry('keystore', 'device.p12')).toBe(true);
    expect(book.retry('keystore', 'device.p12')).toBe(true);
    expect(book.retry('keystore', 'device.p12')).toBe(false);
    expect(asked).toHaveLength(3);
    const given = new PasswordBook({ ...sources, keystore: { ...base, envValue: 'env' } }, async () => 'typed', none);
    expect(await given.get('keystore', 'device.p12')).toBe('env');
    expect(given.retry('keystore', 'device.p12')).toBe(false);
  });

  it.skipIf(process.platform === 'win32')('warns when a config file with a password is readable by others', async () => {
    const dir = project({ '.c8ytokenrc.json': '{"keystore": {"password": "x"}}' });
    const path = join(dir, '.c8ytokenrc.json');
    const said: string[] = [];
    chmodSync(path, 0o644);
    await givenPassword({ ...base, configValue: 'x', configPath: path }, (m) => said.push(m));
    expect(said.join()).toMatch(/can be read by other users: chmod 600/);
    expect(said.join()).not.toContain('"x"');
    chmodSync(path, 0o600);
    said.length = 0;
    await givenPassword({ ...base, configValue: 'x', configPath: path }, (m) => said.push(m));
    expect(said).toEqual([]);
  });
});

describe('.c8ytokenrc.example', () => {
  it('is a valid config file that documents every key', async () => {
    const { readFileSync, copyFileSync } = await import('node:fs');
    const { root } = await import('../helpers/paths.js');
    const example = join(root, '.c8ytokenrc.example');
    const dir = tempDir();
    copyFileSync(example, join(dir, 'example.yaml'));
    const s = await load(dir, { config: 'example.yaml' });
    expect(warnings).toEqual([]);
    expect(s.endpoint?.hostname).toBe('t12345.eu-latest.cumulocity.com');
    const text = readFileSync(example, 'utf8');
    const keys = [
      'url',
      'cert',
      'key',
      'keyPassword',
      'keyPasswordFile',
      'keystore',
      'path',
      'type',
      'password',
      'passwordFile',
      'alias',
      'truststore',
      'deviceCa',
      'chainHeader',
      'timeout',
      'proxy',
      'proxyCa',
      'proxyPasswordFile',
      'estUrl',
      'proxyPassword',
      'profiles',
    ];
    for (const key of keys) expect(text).toMatch(new RegExp(`^\\s*#?\\s*${key}:`, 'm'));
  });
});
