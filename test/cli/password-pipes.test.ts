/**
 * Password files that are pipes: bash's process substitution (`<(pass show device)`, an anonymous pipe at
 * /dev/fd/N) and named FIFOs (mkfifo) with a real writer process, or with none. They are read to their end,
 * capped in size and in time (--timeout), never waited for forever; keystores and certificates stay
 * regular files only.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { readFileOrPipe } from '../../src/core/files/read.js';
import { givenPassword, type PasswordSources } from '../../src/core/credentials/passwords.js';
import { LIMITS } from '../../src/core/limits.js';
import { collectOutput, tempDir } from '../helpers/cli.js';
import { caught } from '../helpers/errors.js';
import { runMain } from '../helpers/main.js';
import { bin, keystoreFetch, pki } from '../helpers/paths.js';

const posix = process.platform !== 'win32';
const hasBash = posix && spawnSync('bash', ['-c', 'true']).status === 0;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator().start();
});
afterAll(async () => {
  await emulator.stop();
});

const writers: ChildProcess[] = [];
afterEach(() => {
  for (const w of writers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
});

/** A named FIFO in a fresh folder. */
function fifo(): string {
  const path = join(tempDir('c8ytoken-fifo-'), 'password');
  execFileSync('mkfifo', [path]);
  return path;
}

/** A writer process that opens the FIFO after `delayS` and writes `text` (a real second process, as pass is). */
function writeLater(path: string, text: string, delayS = 0.3): void {
  writers.push(spawn('sh', ['-c', `sleep ${delayS}; printf '%s' "$1" > "$2"`, 'sh', text, path], { stdio: 'ignore' }));
}

const keystoreArgs = (passwordFile: string): string[] => keystoreFetch(emulator.url, 'device-rsa.p12', passwordFile);

describe.skipIf(!posix)('a password file that is a named FIFO', () => {
  it('is read to its end when a writer process comes later, and the token is fetched', async () => {
    const path = fifo();
    writeLater(path, 'changeit\n');
    const run = await runMain(keystoreArgs(path));
    expect(run.stderr).toContain('Token for device_rsa-device-001');
    expect(run.code).toBe(0);
  });

  it('nobody writes to: gives up after --timeout with exit 4, naming the FIFO and what to do', async () => {
    const path = fifo();
    const before = emulator.requests.length;
    const started = Date.now();
    // 500 ms: shown as 1 s, at half the wait
    const run = await runMain([...keystoreArgs(path), '--timeout', '500ms']);
    const took = Date.now() - started;
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(path);
    expect(run.stderr).toMatch(/a pipe whose writer did not finish within 1 s/);
    expect(run.stderr).toMatch(/Start the program that writes the password.*--timeout/);
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(5000);
    expect(emulator.requests.length).toBe(before);
  });

  it('a writer that sends more than the password limit is cut off (FILE_TOO_LARGE), not buffered without end', async () => {
    const path = fifo();
    writers.push(spawn('sh', ['-c', 'yes password > "$1"', 'sh', path], { stdio: 'ignore' }));
    const err = await caught(readFileOrPipe(path, 'keystore password', LIMITS.passwordBytes, 5000));
    expect(err.code).toBe('FILE_TOO_LARGE');
    expect(err.facts).toHaveProperty('limit', LIMITS.passwordBytes);
  });

  it('a pipe that ends with nothing in it is an error that says so (the writer failed), not an empty password', async () => {
    const path = fifo();
    writeLater(path, '');
    const err = await caught(readFileOrPipe(path, 'keystore password', LIMITS.passwordBytes, 5000));
    expect(err.code).toBe('FILE_UNREADABLE');
    expect(err.facts).toHaveProperty('reason', 'a pipe that ended without a password');
  });

  it('is read once per settings: a second resolution (watch refreshes) reuses what the pipe gave', async () => {
    const path = fifo();
    writeLater(path, 'changeit\n');
    const sources: PasswordSources = { role: 'keystore', envName: 'C8YTOKEN_KEYSTORE_PASSWORD', flagFile: path, pipeWaitMs: 5000 };
    expect(await givenPassword(sources, () => undefined)).toBe('changeit');
    // No writer any more: a second read would wait out the 5 s and fail.
    const started = Date.now();
    expect(await givenPassword(sources, () => undefined)).toBe('changeit');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('doctor passes its files and identity steps with a FIFO password (the pipe is read once, by the identity step)', async () => {
    const path = fifo();
    writeLater(path, 'changeit\n');
    const run = await runMain(['doctor', '--json', ...keystoreArgs(path).slice(1)]);
    const checks = (JSON.parse(run.stdout) as { checks: { id: string; verdict: string; details: string[] }[] }).checks;
    const step = (id: string) => checks.find((c) => c.id === id)!;
    expect(step('files').verdict).toBe('pass');
    expect(step('files').details).toContain(`keystore password ${path}: a pipe, read when the password is needed`);
    expect(step('identity').verdict).toBe('pass');
  });

  it('a keystore or a truststore given as a FIFO is still refused at once', async () => {
    const path = fifo();
    const run = await runMain(['fetch', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--keystore', path], { env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' } });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/not a regular file \(a FIFO\)/);
    expect(run.stderr).toMatch(/only password files may be pipes/);
  });

  it('a device as password file is refused, with the hint that a pipe would do', async () => {
    const run = await runMain(keystoreArgs('/dev/zero'));
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/not a regular file \(a device\)/);
    expect(run.stderr).toMatch(/a regular file or a pipe/);
  });
});

describe.skipIf(!hasBash)('bash process substitution through the spawned CLI', () => {
  /** Runs `node bin/c8ytoken.js ARGS` in bash, where ARGS may contain <(...). */
  function bash(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const home = tempDir('c8ytoken-home-');
    return collectOutput(
      spawn('bash', ['-c', script], {
        cwd: home,
        env: { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', NODE: process.execPath, BIN: bin, URL: emulator.url, PKI: pki('') },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }
  const fetchWith = (passwordFile: string): string => `"$NODE" "$BIN" fetch --url "$URL" --truststore "$PKI/truststore.pem" --keystore "$PKI/device-rsa.p12" --keystore-password-file ${passwordFile}`;

  it('--keystore-password-file <(echo changeit) fetches a token', async () => {
    const run = await bash(fetchWith('<(echo changeit)'));
    expect(run.stderr).toContain('Token for device_rsa-device-001');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^eyJ/);
  });

  it('a writer that first takes its time (a passphrase prompt) is waited for', async () => {
    const run = await bash(fetchWith('<(sleep 0.3; echo changeit)'));
    expect(run.code).toBe(0);
  });

  it('a failing password command (nothing written) is exit 4 naming the pipe, not a wrong password', async () => {
    const run = await bash(fetchWith('<(exit 1)'));
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/\/dev\/fd\/\d+/);
    expect(run.stderr).toMatch(/ended without a password/);
  });

  it('cert enroll takes its one-time password from <(...) too', async () => {
    const est = await new Emulator({ est: true }).start();
    try {
      est.registerEnrollment('pipe-0001', 'otp-from-pipe');
      const dir = tempDir('c8ytoken-enroll-');
      const run = await bash(
        `"$NODE" "$BIN" cert enroll --url ${est.url} --truststore "$PKI/truststore.pem" --device-id pipe-0001 --one-time-password-file <(echo otp-from-pipe) --cert ${dir}/d.pem --key ${dir}/d.key`,
      );
      expect(run.stdout + run.stderr).toContain('Enrolled device pipe-0001');
      expect(run.code).toBe(0);
    } finally {
      await est.stop();
    }
  });

  it('a wrong password from a pipe is the wrong password error (exit 4), as from a file', async () => {
    const run = await bash(fetchWith('<(echo wrong)'));
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/password/i);
  });
});
