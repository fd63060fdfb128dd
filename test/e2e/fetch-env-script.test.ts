/**
 * The documented way to load `fetch --format env` into a shell script, taken from fetch's page itself and run
 * by bash with `-e` against the local endpoint: a failed fetch stops the script with fetch's exit code,
 * and a good one leaves the variables set. The old form, eval "$(...)", is run too, to show why it went.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { collectOutput, tempDir } from '../helpers/cli.js';
import { bin, pki, root } from '../helpers/paths.js';

const hasBash = process.platform !== 'win32' && spawnSync('bash', ['-c', 'true']).status === 0;

/** docs/commands/fetch.md's lines from `env=$(c8ytoken fetch --format env)` to its eval, trailing comments dropped. */
function documentedSnippet(): string {
  const lines = readFileSync(`${root}/docs/commands/fetch.md`, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('env=$(c8ytoken fetch --format env)'));
  expect(start, 'docs/commands/fetch.md shows env=$(c8ytoken fetch --format env) ...').toBeGreaterThanOrEqual(0);
  const snippet = lines.slice(start, start + 2).map((l) => l.replace(/\s{2,}#.*$/, ''));
  expect(snippet[1]).toBe('eval "$env"');
  return snippet.join('\n');
}

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator().start();
});
afterAll(async () => {
  await emulator.stop();
});

/** Runs `script` with `bash -e`, c8ytoken being the built CLI, its settings in the environment. */
function bashE(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = tempDir('c8ytoken-home-');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    NO_COLOR: '1',
    NODE: process.execPath,
    BIN: bin,
    C8YTOKEN_URL: emulator.url,
    C8YTOKEN_TRUSTSTORE: pki('truststore.pem'),
    C8Y_CERTIFICATE_FILE: pki('device-rsa.chain.pem'),
    C8Y_CERTIFICATE_KEY_FILE: pki('device-rsa.key'),
  };
  return collectOutput(
    spawn('bash', ['-e', '-c', `c8ytoken() { "$NODE" "$BIN" "$@"; }\n${script}\necho "carried on: token ${'${C8Y_TOKEN:+set}'}"`], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

describe.skipIf(!hasBash)('the documented --format env snippet under bash -e', () => {
  it('a failed fetch (HTTP 401) stops the script with exit 7; nothing after it runs', async () => {
    emulator.fault = 'http401';
    try {
      const run = await bashE(documentedSnippet());
      expect(run.code).toBe(7);
      expect(run.stdout).not.toContain('carried on');
      expect(run.stderr).toContain('HTTP 401');
    } finally {
      emulator.fault = undefined;
    }
  });

  it('a good fetch sets C8Y_TOKEN and the script goes on', async () => {
    const run = await bashE(documentedSnippet());
    expect(run.stderr).toContain('Token for device_rsa-device-001');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('carried on: token set');
  });

  it('why: eval "$(c8ytoken fetch --format env)" carries on after the same failure, without a token', async () => {
    emulator.fault = 'http401';
    try {
      const run = await bashE('eval "$(c8ytoken fetch --format env)"');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('carried on: token \n');
    } finally {
      emulator.fault = undefined;
    }
  });
});
