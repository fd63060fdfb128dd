/**
 * The local endpoint as docs/local-endpoint.md documents it: scripts/emulator.js's options, and the
 * copy-paste session (register a device, cert enroll, fetch with the new certificate, cert renew) run
 * by bash exactly as written there, on a free port, against the built CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { bin, root } from '../helpers/paths.js';

const hasBash = process.platform !== 'win32' && spawnSync('bash', ['-c', 'true']).status === 0;
const emulatorScript = join(root, 'scripts', 'emulator.js');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program in its own process group; whatever it leaves running (a background endpoint) is killed after. */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const home = tempDir('c8ytoken-home-');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone: nothing was left running
      }
      resolve({ code, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The docs' session: the sh block under "## Trying cert enroll". */
function documentedSession(): string {
  const doc = readFileSync(join(root, 'docs', 'local-endpoint.md'), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Trying cert enroll'));
  expect(section, 'docs/local-endpoint.md has the enroll session').toBeDefined();
  const block = /```sh\n([\s\S]*?)```/.exec(section!)?.[1];
  expect(block).toContain('--register dev-0001:');
  return block!;
}

describe('scripts/emulator.js', () => {
  it('--help lists every documented option; a bad --register or fault is exit 2 with the help', async () => {
    const help = await run(process.execPath, [emulatorScript, '--help']);
    expect(help.code).toBe(0);
    const doc = readFileSync(join(root, 'docs', 'local-endpoint.md'), 'utf8');
    for (const flag of ['--port', '--lifetime', '--fault', '--est', '--est-fault', '--register', '--pending']) {
      expect(help.stdout, flag).toContain(flag);
      expect(doc, `docs/local-endpoint.md documents ${flag}`).toContain(`| \`${flag}`);
    }
    const bad = await run(process.execPath, [emulatorScript, '--register', 'dev-0001']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--register takes DEVICE_ID:ONE_TIME_PASSWORD');
    expect((await run(process.execPath, [emulatorScript, '--fault', 'nonsense'])).code).toBe(2);
  });
});

describe.skipIf(!hasBash)('the documented enroll session', () => {
  it('enrolls dev-0001 after one "not registered yet", fetches a token with the new certificate, renews it, stops the endpoint', async () => {
    const port = String(await freePort());
    const session = documentedSession().replaceAll('18443', port);
    const script = `set -e\nc8ytoken() { "$NODE" "$BIN" "$@"; }\ntrap '[ -z "$emulator" ] || kill "$emulator" 2>/dev/null || true' EXIT\n${session}\necho "endpoint log: $(cat "$work/endpoint.log")"`;
    const ran = await run('bash', ['-c', script], { NODE: process.execPath, BIN: bin });
    const all = `${ran.stdout}\n${ran.stderr}`;
    expect(ran.code, all).toBe(0);
    expect(all).toMatch(/not registered yet/);
    expect(all).toMatch(/Enrolled device dev-0001/);
    expect(ran.stdout).toMatch(/Device user:\s+device_dev-0001/);
    expect(all).toMatch(/Renewed/);
    expect(ran.stdout).toContain(`local device token endpoint on https://localhost:${port}`);
    expect(ran.stdout).toMatch(/registered dev-0001 for enrollment/);
  }, 60_000);
});
