/**
 * The bin writes to a pipe or file with synchronous writes of the descriptor instead of making Node's
 * stream (src/cli/process.ts directWriter): every byte arrives, in order, whether the reader is slow, the
 * descriptor was made non-blocking by another process (then Node's stream takes over), or the reader goes
 * away (then the process ends with the command's exit code, silently, as `| head` expects).
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { bin } from '../helpers/paths.js';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A token whose `inspect --json` is several times a pipe's 64 KiB buffer; without times, so that the report does not depend on the second it is made. */
const bigToken = `${b64({ alg: 'RS256' })}.${b64({ sub: 'device_x', big: Array.from({ length: 30_000 }, (_, i) => `claim ${i}`).join(' ') })}.c2ln`;
const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
const hasPython = spawnSync('python3', ['-c', 'import fcntl'], { stdio: 'ignore' }).status === 0;

/** Runs `cmd args`, reading its stdout only after `delayMs`; its exit code, stdout and stderr. */
function slowlyRead(cmd: string, args: string[], delayMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.pause();
    setTimeout(
      () =>
        child.stdout
          .setEncoding('utf8')
          .on('data', (d: string) => (stdout += d))
          .resume(),
      delayMs,
    );
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('stdout and stderr of the bin', () => {
  const file = join(tempDir(), 'token');
  writeFileSync(file, bigToken);

  it('a slow reader gets every byte, the same as in process', async () => {
    const expected = await runMain(['inspect', '--json', file]);
    expect(expected.stdout.length).toBeGreaterThan(4 * 65536);
    const run = await slowlyRead(process.execPath, [bin, 'inspect', '--json', file], 300);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(expected.stdout);
  });

  it.skipIf(!hasPython)(`a descriptor made non-blocking by another process: Node's stream takes over, every byte arrives${hasPython ? '' : ' (skipped: python3 is not installed)'}`, async () => {
    const expected = await runMain(['inspect', '--json', file]);
    // python3 sets O_NONBLOCK on the pipe (shared with the reader's end of the description) and becomes node
    const nonBlocking = 'import fcntl, os, sys; fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK); os.execv(sys.argv[1], sys.argv[1:])';
    const run = await slowlyRead('python3', ['-c', nonBlocking, process.execPath, bin, 'inspect', '--json', file], 1000); // node has started and filled the pipe by then: its writes meet EAGAIN
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(expected.stdout);
  });

  it("a reader that goes away: the exit code is the command's, and nothing is said", async () => {
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'inspect', '--json', file], { env });
      let stderr = '';
      child.stdout.once('data', () => child.stdout.destroy());
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('stdout and stderr into one pipe keep their order', () => {
    // a usage error after nothing on stdout, then a token's report: the report comes after the error
    const run = spawnSync('sh', ['-c', `"$0" "$1" inspect no-such-thing; "$0" "$1" inspect "$2"`, process.execPath, bin, file], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(run.stdout).toMatch(/^JWT alg RS256/);
    const both = spawnSync('sh', ['-c', `exec 2>&1; "$0" "$1" inspect no-such-thing; "$0" "$1" inspect "$2"`, process.execPath, bin, file], { env, encoding: 'utf8' });
    expect(both.stdout.indexOf('c8ytoken: "no-such-thing"')).toBe(0);
    expect(both.stdout.indexOf('JWT alg RS256')).toBeGreaterThan(0);
  });
});
