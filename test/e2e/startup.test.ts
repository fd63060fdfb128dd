/**
 * Start-up discipline: each command loads only what it needs. Every built-in and CommonJS module is
 * listed at exit (trace-modules.cjs) and every ES module import is traced (trace-hooks.mjs). The
 * program itself is one bundle; what these tests can see is the network stack (built-ins) and the
 * YAML parser (js-yaml, a package of its own). The spinner (ora) is bundled and needs a terminal.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { bin, pki } from '../helpers/paths.js';

const hooks = new URL('../helpers/trace-register.mjs', import.meta.url).href;
const preload = new URL('../helpers/trace-modules.cjs', import.meta.url).pathname;
const token = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"exp":4102444800}').toString('base64url')}.c2ln`;

/** Everything a run of the CLI loaded, and its stderr. */
function loadedBy(args: string[]): Promise<{ loaded: string[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', preload, '--import', hooks, bin, ...args], { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end();
    child.on('close', () => {
      const loaded = stderr
        .split('\n')
        .filter((l) => l.startsWith('LOADED ') || l.startsWith('IMPORT '))
        .map((l) => l.replace(/^(LOADED|IMPORT) /, ''));
      resolve({ loaded, stderr });
    });
  });
}

// What only fetch, watch and verify-chain need.
const NETWORK = [/^node:https$/, /^node:tls$/];
const HEAVY = [...NETWORK, /[/\\]js-yaml[/\\]/, /node-forge/];
const heavyIn = (loaded: string[], list = HEAVY): string[] => loaded.filter((u) => list.some((h) => h.test(u)));

describe('start-up', () => {
  it('the trace sees what fetch loads (so the checks below can fail)', async () => {
    const { loaded } = await loadedBy(['fetch', '--url', 'https://127.0.0.1:1', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')]);
    expect(loaded).toContain('node:https');
    expect(loaded).toContain('node:vm'); // the bin loaded the bundle
  });

  it('--version answers without loading the program', async () => {
    const { loaded } = await loadedBy(['--version']);
    expect(loaded).not.toContain('node:vm');
  });

  it('a YAML config file loads js-yaml (so the check below can fail)', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, '.c8ytokenrc.yaml'), 'url: https://127.0.0.1:1\n');
    const run = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--require', preload, bin, 'fetch', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '' },
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', () => resolve(stderr));
    });
    expect(run).toMatch(/LOADED .*[/\\]js-yaml[/\\]/);
  });

  for (const args of [['--help'], ['inspect', token], ['inspect', '--help'], ['fetch', '--help']]) {
    it(`c8ytoken ${args.join(' ').slice(0, 20)} loads no network stack, config loader or spinner`, async () => {
      const { loaded } = await loadedBy(args);
      expect(loaded).toContain('node:vm'); // the trace works: the bin loaded the bundle
      expect(heavyIn(loaded)).toEqual([]);
    });
  }

  it('fetch -o FILE with a fresh token in FILE loads no network stack', async () => {
    const emulator = await new Emulator().start();
    try {
      const file = join(tempDir(), 'token');
      const args = ['fetch', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '-o', file];
      expect((await runCli(args)).code).toBe(0);
      const { loaded, stderr } = await loadedBy(args);
      expect(stderr).toMatch(/no request sent/);
      expect(heavyIn(loaded, NETWORK)).toEqual([]);
    } finally {
      await emulator.stop();
    }
  });
});
