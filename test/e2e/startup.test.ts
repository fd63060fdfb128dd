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

const HEAVY = [/node-forge/, /\/ora\//, /cosmiconfig/, /^node:https$/, /^node:tls$/, /\/core\/(pkcs12|jks|request|identity)\.js$/];

describe('start-up', () => {
  for (const args of [['--version'], ['--help'], ['inspect', token], ['inspect', '--help']]) {
    it(`c8ytoken ${args.join(' ').slice(0, 20)} loads no keystore, TLS, config or spinner code`, () => {
      const imports = importsOf(args);
      expect(imports.length).toBeGreaterThan(3); // the trace works
      for (const heavy of HEAVY) expect(imports.filter((u) => heavy.test(u))).toEqual([]);
    });
  }
});
