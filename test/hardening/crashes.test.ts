/**
 * Inputs the security review found ending in exit 70 (an internal error, with a stack): each is now an exit
 * code of the contract, with a message. The fuzz campaign and the property tests cover the classes; these
 * are the samples.
 */
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/main.js';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('an empty command after -- is a usage error (exit 2), before any work', () => {
  for (const args of [
    ['exec', '--url', 'https://127.0.0.1:9', '--', ''],
    ['exec', '--url', 'https://127.0.0.1:9', '--', '', 'arg'],
    ['watch', '--url', 'https://127.0.0.1:9', '-o', 'token', '--exec', '--', ''],
  ]) {
    it(args.map((a) => (a === '' ? "''" : a)).join(' '), async () => {
      const run = await runMain(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/needs a command after --/);
      expect(run.stderr).not.toMatch(/internal error|please report|\n\s+at /);
    });
  }
});

describe('inspect explains whatever claims a token has', () => {
  it('aud without iss: the audience is shown, exit 0', async () => {
    const token = `${b64({ alg: 'RS256' })}.${b64({ sub: 'device_x', aud: 't1.example.com', iat: 1, exp: 4_102_444_800 })}.c2ln`;
    const run = await runMain(['inspect', token]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Issuer: +\(no iss claim\)/);
    expect(run.stdout).toMatch(/Audience: +t1\.example\.com/);
  });
});
