/**
 * The standalone binaries run scripts/release/sea-entry.cjs (bundled with dist/c8ytoken.cjs) instead of
 * bin/c8ytoken.js. This runs that same bundle with this Node, beside the bin, and checks the process
 * wiring is the same: version, output, exit codes, signals. `npm run release` checks the binaries.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { bin, pki, root } from '../helpers/paths.js';

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const seaMain = join(tempDir('c8ytoken-sea-'), 'c8ytoken-sea.cjs');
let emulator: Emulator;

beforeAll(async () => {
  const made = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { bundleSeaEntry } from ${JSON.stringify(join(root, 'scripts/release/sea-bundle.js'))}; await bundleSeaEntry(${JSON.stringify(seaMain)});`],
    { encoding: 'utf8' },
  );
  expect(made.status, made.stderr).toBe(0);
  emulator = await new Emulator().start();
});
afterAll(async () => {
  await emulator.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the script; with `kill`, sends its signal as soon as `when()` holds (checked every 20 ms). */
function run(script: string, args: string[], kill?: { when: () => boolean; signal: NodeJS.Signals }): Promise<Run> {
  const home = tempDir('c8ytoken-home-');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: home, env: { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    const poll = kill
      ? setInterval(() => {
          if (!kill.when()) return;
          clearInterval(poll);
          child.kill(kill.signal);
        }, 20)
      : undefined;
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stdout, stderr });
    });
  });
}

const both = async (args: string[]): Promise<[Run, Run]> => Promise.all([run(bin, args), run(seaMain, args)]);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = `${b64({ alg: 'RS256' })}.${b64({ sub: 'device_sea', ten: 't1', iat: 1767225600, exp: 4102444800 })}.c2ln`;
const fetchArgs = () => ['fetch', '--url', emulator.url, '--keystore', pki('device-rsa.p12'), '--keystore-password-file', pki('store.pass'), '--truststore', pki('truststore.pem')];

describe('the SEA entry, run as a plain script, behaves as bin/c8ytoken.js', () => {
  it('--version from package.json', async () => {
    const [a, b] = await both(['--version']);
    expect(b).toEqual(a);
    expect(b).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('the same output and exit code: inspect, usage error, check failed', async () => {
    // Numbers masked: the two processes may see the clock on either side of a second.
    const mask = (r: Run) => ({ ...r, stdout: r.stdout.replace(/\d+/g, '#'), stderr: r.stderr.replace(/\d+/g, '#') });
    for (const args of [
      ['inspect', '--json', token],
      ['inspect', '--check', '--expires-within', '100000d', token],
      ['fetch', '--password=x'],
    ]) {
      const [a, b] = await both(args);
      expect(mask(b), args.join(' ')).toEqual(mask(a));
      expect(b.code).toBe(a.code);
    }
  });

  it('fetches a token from the local endpoint', async () => {
    const r = await run(seaMain, fetchArgs());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+\n$/);
  });

  it('SIGINT and SIGTERM end a hanging fetch with 130 and 143', async () => {
    emulator.fault = 'hang';
    try {
      for (const [signal, code] of [
        ['SIGINT', 130],
        ['SIGTERM', 143],
      ] as const) {
        // as soon as the request hangs at the endpoint (not after a fixed time)
        const before = emulator.requests.length;
        const r = await run(seaMain, fetchArgs(), { when: () => emulator.requests.length > before, signal });
        expect(r.code, `${signal}: ${r.stderr}`).toBe(code);
      }
    } finally {
      emulator.fault = undefined;
    }
  });
});
