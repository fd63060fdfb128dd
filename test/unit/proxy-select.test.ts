/**
 * Proxy selection, NO_PROXY matching and redaction: pure functions, so a table of cases each, plus
 * properties (fast-check) for what must hold on any input: no exception but PROXY_INVALID, bounded work,
 * and no password in anything printable.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeError } from '../../src/output/messages.js';
import { C8yError, exitCodeFor } from '../../src/core/errors.js';
import { matchNoProxy, MAX_NO_PROXY_ENTRIES } from '../../src/core/platform/proxy/no-proxy.js';
import { describeProxy, PROXY_VARIABLES, selectProxy, type ProxySelectionInput } from '../../src/core/platform/proxy/select.js';
import { option } from '../../src/core/config/options.js';
import { loadSettings, type GivenFlags } from '../../src/core/config/settings.js';
import { decideProxy } from '../../src/core/token/proxy.js';
import { tempDir } from '../helpers/cli.js';
import { redactProxyText, redactProxyUrl } from '../../src/core/platform/proxy/redact.js';

const target = new URL('https://t12345.eu-latest.cumulocity.com:8443/devicecontrol/deviceAccessToken');
const select = (input: Partial<ProxySelectionInput>) => selectProxy({ env: {}, target, ...input });
const shown = (input: Partial<ProxySelectionInput>) => {
  const d = select(input);
  return d.proxy ? redactProxyUrl(d.proxy) : undefined;
};

describe('selectProxy: precedence', () => {
  const all = { C8YTOKEN_PROXY: 'http://c8y:1', https_proxy: 'http://lower:2', HTTPS_PROXY: 'http://upper:3', all_proxy: 'http://all:4', ALL_PROXY: 'http://ALL:5' };

  it('flag > C8YTOKEN_PROXY > https_proxy > HTTPS_PROXY > all_proxy > ALL_PROXY > config', () => {
    const env: Record<string, string> = { ...all };
    expect(select({ flag: 'http://flag:9', env, config: 'http://cfg:8' })).toMatchObject({ source: '--proxy' });
    const order = ['C8YTOKEN_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'];
    for (const name of order) {
      expect(select({ env, config: 'http://cfg:8' }).source).toBe(name);
      delete env[name];
    }
    expect(select({ env, config: 'http://cfg:8' }).source).toBe('config "proxy"');
    expect(select({ env })).toEqual({ source: 'default' });
  });

  it('lower case wins over upper case, as curl reads https_proxy and all_proxy first', () => {
    expect(shown({ env: { https_proxy: 'http://lower:2', HTTPS_PROXY: 'http://upper:3' } })).toBe('http://lower:2');
    expect(shown({ env: { all_proxy: 'http://lower:2', ALL_PROXY: 'http://upper:3' } })).toBe('http://lower:2');
  });

  it('empty (or blank) variables count as unset', () => {
    expect(select({ env: { C8YTOKEN_PROXY: '', https_proxy: ' ', HTTPS_PROXY: 'http://upper:3' } }).source).toBe('HTTPS_PROXY');
  });

  it('never reads http_proxy: every connection is HTTPS', () => {
    expect(select({ env: { http_proxy: 'http://p:1', HTTP_PROXY: 'http://p:1' } })).toEqual({ source: 'default' });
  });

  it('"none" from any source means no proxy, whatever the sources below say', () => {
    expect(select({ flag: 'none', env: all })).toEqual({ source: '--proxy', bypass: 'none' });
    expect(select({ env: { ...all, C8YTOKEN_PROXY: 'NONE' } })).toEqual({ source: 'C8YTOKEN_PROXY', bypass: 'none' });
    expect(select({ env: { HTTPS_PROXY: 'none', ALL_PROXY: 'http://all:4' } })).toEqual({ source: 'HTTPS_PROXY', bypass: 'none' });
    expect(select({ config: 'none' })).toEqual({ source: 'config "proxy"', bypass: 'none' });
    // curl: --proxy "" disables the proxy too
    expect(select({ flag: '', env: all })).toEqual({ source: '--proxy', bypass: 'none' });
  });
});

describe('selectProxy: the URL', () => {
  it('reads scheme, host, port, and a bare host:port as http://', () => {
    expect(shown({ flag: 'proxy.corp:3128' })).toBe('http://proxy.corp:3128');
    expect(shown({ flag: 'https://proxy.corp' })).toBe('https://proxy.corp:443');
    expect(shown({ flag: 'http://proxy.corp' })).toBe('http://proxy.corp:80');
    expect(shown({ flag: 'http://[::1]:3128/' })).toBe('http://[::1]:3128');
  });

  it('keeps the password out of the URL and in a Secret that prints as ***', () => {
    const d = select({ env: { HTTPS_PROXY: 'http://us%40er:p%3Ass%25w@proxy.corp:3128' } });
    expect(d.proxy!.password).toBe('');
    expect(d.proxy!.username).toBe('us%40er');
    expect(d.password!.reveal()).toBe('p:ss%w');
    const printed = [JSON.stringify(d), inspect(d, { depth: 5 }), String(d.password!), describeProxy(d)].join('\n');
    expect(printed).not.toMatch(/p:ss|p%3Ass/);
    expect(describeProxy(d)).toContain('http://us%40er:***@proxy.corp:3128');
    expect(describeProxy(d)).toContain('HTTPS_PROXY');
  });

  for (const [value, problem, words] of [
    ['socks5://proxy.corp:1080', 'scheme', 'uses socks5://, which is not supported'],
    ['http://', 'not-url', 'is not a valid URL'],
    ['http://proxy.corp:99999', 'not-url', 'is not a valid URL'],
    ['http://us:%zz@proxy.corp:3128', 'encoding', 'not valid percent-encoding'],
  ] as const) {
    it(`rejects ${value} as a config error naming its source`, () => {
      let err: unknown;
      try {
        select({ env: { ALL_PROXY: value } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(C8yError);
      const e = err as C8yError;
      expect(e.code).toBe('PROXY_INVALID');
      expect(exitCodeFor(e.code)).toBe(3);
      expect(e.facts).toMatchObject({ proxySource: 'ALL_PROXY', problem });
      const { message } = describeError(e);
      expect(message).toContain('from ALL_PROXY');
      expect(message).toContain(words);
      expect(`${message} ${JSON.stringify(e.facts)}`).not.toContain('%zz');
    });
  }
});

describe('selectProxy: NO_PROXY', () => {
  it('says which entry of which variable bypassed which proxy', () => {
    const d = select({ env: { HTTPS_PROXY: 'http://u:secret@proxy.corp:3128', NO_PROXY: 'localhost, .cumulocity.com' } });
    expect(d).toMatchObject({ source: 'HTTPS_PROXY', bypass: '.cumulocity.com', bypassSource: 'NO_PROXY', bypassed: 'http://u:***@proxy.corp:3128' });
    expect(d.proxy).toBeUndefined();
    expect(describeProxy(d)).toBe('no proxy: NO_PROXY entry ".cumulocity.com" exempts the platform host (proxy http://u:***@proxy.corp:3128 from HTTPS_PROXY bypassed)');
  });

  it('applies to the --proxy flag too (as curl does for -x)', () => {
    expect(select({ flag: 'http://p:1', env: { no_proxy: '*' } })).toMatchObject({ source: '--proxy', bypass: '*', bypassSource: 'no_proxy' });
  });

  it('reads no_proxy first, and NO_PROXY only when no_proxy is unset or empty', () => {
    expect(select({ flag: 'http://p:1', env: { no_proxy: 'other.example', NO_PROXY: '*' } }).proxy).toBeDefined();
    expect(select({ flag: 'http://p:1', env: { no_proxy: '', NO_PROXY: '*' } }).bypass).toBe('*');
  });

  it('describes every decision in one line', () => {
    expect(describeProxy(select({ flag: 'none' }))).toBe('no proxy: --proxy none');
    expect(describeProxy(select({ env: { C8YTOKEN_PROXY: 'none' } }))).toBe('no proxy: C8YTOKEN_PROXY is "none"');
    expect(describeProxy(select({}))).toMatch(/^no proxy: none set/);
    expect(describeProxy(select({ config: 'http://p:1' }))).toBe('proxy http://p:1 (from config "proxy"); TLS to the platform stays end to end through the CONNECT tunnel');
  });
});

describe('matchNoProxy, as curl reads NO_PROXY', () => {
  const at = (hostname: string, port = 8443) => ({ hostname, port });
  const cases: [string, string, string | undefined][] = [
    // host names: the name itself and its subdomains; a leading dot changes nothing
    ['example.com', 'example.com', 'example.com'],
    ['example.com', 'www.example.com', 'example.com'],
    ['example.com', 'nonexample.com', undefined],
    ['.example.com', 'example.com', '.example.com'],
    ['.example.com', 'a.b.example.com', '.example.com'],
    ['*.example.com', 'a.example.com', '*.example.com'],
    ['EXAMPLE.com.', 'www.Example.COM.', 'EXAMPLE.com.'],
    ['example', 'www.example.com', undefined],
    // lists: commas and blanks, empty entries skipped
    [' foo.org ,, bar.org\tlocalhost ', 'localhost', 'localhost'],
    ['*', 'anything.example', '*'],
    ['foo.org,*', 'anything.example', '*'],
    // addresses and CIDR ranges, only against an address target (no DNS)
    ['10.0.0.0/8', '10.1.2.3', '10.0.0.0/8'],
    ['10.0.0.0/8', '11.1.2.3', undefined],
    ['10.0.0.0/8', 'ten.example', undefined],
    ['192.168.1.10', '192.168.1.10', '192.168.1.10'],
    ['192.168.1.10/32', '192.168.1.11', undefined],
    ['0.0.0.0/0', '8.8.8.8', '0.0.0.0/0'],
    ['10.0.0.0/33', '10.0.0.1', undefined],
    ['::1', '[::1]', '::1'],
    ['[::1]', '[::1]', '[::1]'],
    ['0:0::1', '[::1]', '0:0::1'],
    ['fd00::/8', '[fd12:3456::1]', 'fd00::/8'],
    ['fd00::/8', '[fe80::1]', undefined],
    ['10.0.0.0/8', '[::1]', undefined],
    ['localhost', '127.0.0.1', undefined],
    // host:port limits an entry to one port
    ['example.com:8443', 'example.com', 'example.com:8443'],
    ['example.com:443', 'example.com', undefined],
    ['[::1]:8443', '[::1]', '[::1]:8443'],
    ['10.0.0.1:8443', '10.0.0.1', '10.0.0.1:8443'],
  ];
  for (const [list, host, expected] of cases) {
    it(`${JSON.stringify(list)} for ${host}: ${expected === undefined ? 'proxy' : 'bypass'}`, () => {
      expect(matchNoProxy(list, at(host))).toBe(expected);
    });
  }

  it('never throws and returns an entry of the list, on any list and any host', () => {
    const host = fc.oneof(
      fc.string(),
      fc.domain(),
      fc.ipV4().map((ip) => ip),
      fc.ipV6().map((ip) => `[${ip}]`),
    );
    const entry = fc.oneof(
      fc.string(),
      fc.domain(),
      fc.ipV4(),
      fc.ipV6(),
      fc.tuple(fc.ipV4(), fc.integer({ min: -5, max: 200 })).map(([ip, n]) => `${ip}/${n}`),
      fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 200 })).map(([ip, n]) => `${ip}/${n}`),
    );
    const list = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(entry, { maxLength: 20 }).map((a) => a.join(',')),
    );
    fc.assert(
      fc.property(list, host, fc.integer({ min: 0, max: 65535 }), (l, h, port) => {
        const m = matchNoProxy(l, { hostname: h, port });
        return m === undefined || l.includes(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('a host matches its own name and address entries; another domain never matches a name entry', () => {
    fc.assert(
      fc.property(fc.domain(), fc.domain(), (a, b) => {
        expect(matchNoProxy(a, { hostname: a, port: 1 })).toBe(a);
        expect(matchNoProxy(`.${a}`, { hostname: `x.${a}`, port: 1 })).toBe(`.${a}`);
        if (a !== b && !b.endsWith(`.${a}`)) expect(matchNoProxy(a, { hostname: b, port: 1 })).toBeUndefined();
      }),
    );
    fc.assert(fc.property(fc.ipV4(), (ip) => matchNoProxy(`${ip}/32`, { hostname: ip, port: 1 }) === `${ip}/32`));
  });

  it('is bounded: a huge list is read only up to its limit, quickly', () => {
    const huge = `${'a.example,'.repeat(MAX_NO_PROXY_ENTRIES * 50)}target.example`;
    const started = performance.now();
    expect(matchNoProxy(huge, { hostname: 'target.example', port: 1 })).toBeUndefined();
    expect(matchNoProxy(`${'x'.repeat(1_000_000)},target.example`, { hostname: 'target.example', port: 1 })).toBeUndefined();
    // An over-long entry is skipped; the entries after it still count.
    expect(matchNoProxy(`${'x.'.repeat(500)}example,target.example`, { hostname: 'target.example', port: 1 })).toBe('target.example');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('redaction', () => {
  it('shows the user, hides the password, always writes the port', () => {
    expect(redactProxyUrl(new URL('http://user:pw@proxy.corp:3128/path?q'))).toBe('http://user:***@proxy.corp:3128');
    expect(redactProxyUrl(new URL('https://proxy.corp'))).toBe('https://proxy.corp:443');
    expect(redactProxyUrl(new URL('http://:pw@proxy.corp'))).toBe('http://:***@proxy.corp:80');
  });

  it('redacts a setting that does not even parse', () => {
    expect(redactProxyText('http://user:pa/ss@word@proxy')).toBe('http://user:***@proxy');
    expect(redactProxyText('user:secret@proxy:1')).toBe('user:***@proxy:1');
    expect(redactProxyText('proxy.corp:3128')).toBe('proxy.corp:3128');
  });

  it('never lets the password through, on any password', () => {
    fc.assert(
      // A marker in front, so that the password cannot be a piece of the legitimate output (a quote, a letter).
      fc.property(
        fc.string().map((s) => `Zq9${s}`),
        (password) => {
          const raw = `http://u:${encodeURIComponent(password)}@p.example:3128`;
          const d = selectProxy({ env: { HTTPS_PROXY: raw }, target });
          expect(d.password!.reveal()).toBe(password);
          const printed = [JSON.stringify(d), inspect(d, { depth: 5 }), describeProxy(d), redactProxyText(raw)].join('\n');
          expect(printed).not.toContain(encodeURIComponent(password));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the proxy setting through the settings merge (token/proxy.ts decideProxy)', () => {
  it('the option table lists the variables in the order selectProxy reads them', () => {
    expect(option('proxy').env).toEqual(PROXY_VARIABLES);
  });

  it('flag > C8YTOKEN_PROXY > https_proxy > HTTPS_PROXY > all_proxy > ALL_PROXY > config file, each named as the source', async () => {
    const dir = tempDir('proxy-merge-');
    writeFileSync(join(dir, '.c8ytokenrc.json'), JSON.stringify({ url: 'https://t1.example.com', proxy: 'http://config.example:1' }));
    const env: NodeJS.ProcessEnv = {};
    const decide = async (flags: GivenFlags = {}) => {
      const settings = await loadSettings({ flags, env, cwd: dir, warn: () => undefined });
      const d = decideProxy(settings, env, settings.endpoint!);
      return [d.source, d.proxy?.host];
    };
    expect(await decide()).toEqual([`"proxy" in ${join(dir, '.c8ytokenrc.json')}`, 'config.example:1']);
    for (const [i, name] of [...PROXY_VARIABLES].reverse().entries()) {
      env[name] = `http://v${i}.example:2`;
      expect(await decide()).toEqual([name, `v${i}.example:2`]);
    }
    expect(await decide({ proxy: 'http://flag.example:3' })).toEqual(['--proxy', 'flag.example:3']);
    env.NO_PROXY = 't1.example.com';
    expect((await decide()).slice(0, 1)).toEqual(['C8YTOKEN_PROXY']);
    const settings = await loadSettings({ flags: {}, env, cwd: dir, warn: () => undefined });
    expect(decideProxy(settings, env, settings.endpoint!)).toMatchObject({ bypass: 't1.example.com', bypassSource: 'NO_PROXY' });
  });
});
