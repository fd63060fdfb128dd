/** Start-up discipline: commands load only what they need (checked by tracing every resolved import). */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bin } from '../helpers/paths.js';

const register = new URL('../helpers/trace-register.mjs', import.meta.url).href;
const token = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"exp":4102444800}').toString('base64url')}.c2ln`;

function importsOf(args: string[]): string[] {
  const run = spawnSync(process.execPath, ['--import', register, bin, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
  expect(run.status).toBe(0);
  return run.stderr.split('\n').filter((l) => l.startsWith('IMPORT ')).map((l) => l.slice(7));
}

// What only fetch, watch and verify-chain need: the bundle keeps these external, or in chunks of their own.
const HEAVY = [/node-forge/, /\/ora\//, /cosmiconfig/, /^node:https$/, /^node:tls$/, /\/chunks\/(fetch|watch|verify-chain|handshake)-/];

describe('start-up', () => {
  it('the trace sees what fetch loads (so the checks below can fail)', () => {
    const run = spawnSync(process.execPath, ['--import', register, bin, 'fetch', '--url', 'https://127.0.0.1:1', '--cert', 'x'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(run.stderr).toMatch(/IMPORT .*\/chunks\/fetch-/);
    expect(run.stderr).toMatch(/IMPORT node:https/);
  });

  it('--version answers without loading the program', () => {
    const imports = importsOf(['--version']);
    expect(imports.filter((u) => /dist\//.test(u))).toEqual([]);
  });

  for (const args of [['--help'], ['inspect', token], ['inspect', '--help']]) {
    it(`c8ytoken ${args.join(' ').slice(0, 20)} loads no keystore, TLS, config or spinner code`, () => {
      const imports = importsOf(args);
      expect(imports.some((u) => u.endsWith('/bin/c8ytoken.js'))).toBe(true); // the trace works
      for (const heavy of HEAVY) expect(imports.filter((u) => heavy.test(u))).toEqual([]);
    });
  }
});
