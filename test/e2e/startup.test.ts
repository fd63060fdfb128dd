/**
 * Start-up discipline: each command loads only what it needs. Every built-in and CommonJS module is
 * listed at exit (trace-modules.cjs) and every ES module import is traced (trace-hooks.mjs).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Emulator } from '../../src/emulator/server.js';
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
      const loaded = stderr.split('\n').filter((l) => l.startsWith('LOADED ') || l.startsWith('IMPORT ')).map((l) => l.replace(/^(LOADED|IMPORT) /, ''));
      resolve({ loaded, stderr });
    });
  });
}

// What only fetch, watch and verify-chain need.
const NETWORK = [/^node:https$/, /^node:tls$/];
const HEAVY = [...NETWORK, /[/\\]ora[/\\]/, /[/\\]cosmiconfig[/\\]/, /node-forge/];
const heavyIn = (loaded: string[], list = HEAVY): string[] => loaded.filter((u) => list.some((h) => h.test(u)));

describe('start-up', () => {
  it('the trace sees what fetch loads (so the checks below can fail)', async () => {
    const { loaded } = await loadedBy(['fetch', '--url', 'https://127.0.0.1:1', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')]);
    expect(loaded).toContain('node:https');
    expect(loaded.some((u) => u.endsWith('c8ytoken.cjs'))).toBe(true);
  });

  it('--version answers without loading the program', async () => {
    const { loaded } = await loadedBy(['--version']);
    expect(loaded.filter((u) => /dist[/\\]/.test(u))).toEqual([]);
  });

  for (const args of [['--help'], ['inspect', token], ['inspect', '--help'], ['fetch', '--help']]) {
    it(`c8ytoken ${args.join(' ').slice(0, 20)} loads no network stack, config loader or spinner`, async () => {
      const { loaded } = await loadedBy(args);
      expect(loaded.some((u) => u.endsWith('c8ytoken.cjs'))).toBe(true); // the trace works
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
