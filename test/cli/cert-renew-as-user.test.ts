/**
 * The packaged c8ytoken-cert-renew@ unit's real case, which CI (running as root) never took: the renewal
 * runs as an unprivileged user on root:GROUP 0640 files in a setgid root:GROUP 2770 folder (as
 * /etc/c8ytoken). As root, this spawns the built CLI as uid/gid 1234 on such files: the renewal works,
 * and the new files belong to the user, keep the group and the mode; a file whose group the user is not
 * in is refused before anything is asked of the platform. Skipped, with the reason, when not root or when
 * user 1234 cannot run the built CLI from this checkout.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, cpSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { pki, root } from '../helpers/paths.js';

const USER = { uid: 1234, gid: 1234 };
const isRoot = process.platform !== 'win32' && process.getuid?.() === 0;
/**
 * The checkout may sit where user 1234 cannot read (a 0700 home or temp folder), as a package is not: the
 * built program (bin, dist, package.json; PEM files need no dependency) is copied where that user can read it.
 */
function installedCopy(): string {
  const top = tempDir('c8ytoken-installed-');
  chmodSync(top, 0o755);
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(root, part), join(top, part), { recursive: true });
  return join(top, 'bin', 'c8ytoken.js');
}
const bin = isRoot ? installedCopy() : '';
const userCanRun = isRoot && spawnSync(process.execPath, [bin, '--version'], { ...USER, encoding: 'utf8' }).status === 0;
const why = !isRoot ? 'needs root to run as another user' : !userCanRun ? 'user 1234 cannot run a copy of the built CLI in a 0755 folder' : '';
if (why) console.warn(`cert renew as an unprivileged user: skipped (${why})`);

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator({ est: true }).start();
  // The fixture is valid to 2099: a renewal must not end earlier.
  emulator.est!.validityDays = 100 * 365;
});
afterAll(async () => {
  await emulator.stop();
});

const attrs = (path: string): [number, number, number] => {
  const s = statSync(path);
  return [s.mode & 0o7777, s.uid, s.gid];
};

/** A traversable temp folder with the truststore, and inside it a root:1234 2770 folder as /etc/c8ytoken. */
function serviceFolder(): { top: string; etc: string; trust: string } {
  const top = tempDir('c8ytoken-as-user-');
  chmodSync(top, 0o755); // mkdtemp makes 0700: user 1234 must get through it
  const trust = join(top, 'server-ca.crt');
  copyFileSync(pki('server-ca.crt'), trust);
  const etc = join(top, 'etc');
  mkdirSync(etc);
  chownSync(etc, 0, USER.gid);
  chmodSync(etc, 0o2770);
  return { top, etc, trust };
}

/** Copies a fixture into the folder with the owner, group and mode given. */
function place(name: string, to: string, uid: number, gid: number, mode: number): string {
  copyFileSync(pki(name), to);
  chownSync(to, uid, gid);
  chmodSync(to, mode);
  return to;
}

describe.skipIf(!userCanRun)(`cert renew as an unprivileged user (uid 1234), as the packaged unit runs${why ? ` (skipped: ${why})` : ''}`, () => {
  it('root:1234 0640 files in a root:1234 2770 folder: renewed; the new files belong to 1234:1234 with mode 0640', async () => {
    const { etc, trust } = serviceFolder();
    const cert = place('device-est.chain.pem', join(etc, 'device.pem'), 0, USER.gid, 0o640);
    const key = place('device-est.key', join(etc, 'device.key'), 0, USER.gid, 0o640);
    const oldCert = readFileSync(cert, 'utf8');
    const run = await runCli(['cert', 'renew', '--url', emulator.url, '--truststore', trust, '--cert', cert, '--key', key, '--new-key'], { user: USER, bin });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const renewed = new X509Certificate(readFileSync(cert));
    expect(renewed.fingerprint256).toBe(emulator.est!.issued.at(-1)!.fingerprint256);
    expect(renewed.checkPrivateKey(createPrivateKey(readFileSync(key)))).toBe(true);
    // Only root can give a file to another user: the user's own, with the group and mode kept.
    expect(attrs(cert)).toEqual([0o640, USER.uid, USER.gid]);
    expect(attrs(key)).toEqual([0o640, USER.uid, USER.gid]);
    expect(readFileSync(`${cert}.bak`, 'utf8')).toBe(oldCert);
    expect(attrs(`${cert}.bak`)[0]).toBe(0o640);
    expect(attrs(`${key}.bak`)[0]).toBe(0o640);
  });

  it('a root:root 0644 certificate and key in a folder the user can write: exit 9 before any request, the files untouched', async () => {
    const { etc, trust } = serviceFolder();
    const cert = place('device-est.chain.pem', join(etc, 'device.pem'), 0, 0, 0o644);
    const key = place('device-est.key', join(etc, 'device.key'), 0, 0, 0o644);
    const before = [readFileSync(cert, 'utf8'), readFileSync(key, 'utf8')];
    const estRequests = emulator.est!.requests.length;
    const tokens = emulator.issued;
    const run = await runCli(['cert', 'renew', '--url', emulator.url, '--truststore', trust, '--cert', cert, '--key', key], { user: USER, bin });
    expect(run.code, run.stderr).toBe(9);
    expect(run.stderr).toMatch(/device\.(pem|key)/);
    expect(run.stderr).toMatch(/group/);
    expect(emulator.est!.requests.length).toBe(estRequests);
    expect(emulator.issued).toBe(tokens);
    expect([readFileSync(cert, 'utf8'), readFileSync(key, 'utf8')]).toEqual(before);
    expect(attrs(cert)).toEqual([0o644, 0, 0]);
    expect(attrs(key)).toEqual([0o644, 0, 0]);
  });
});
