/**
 * Files in shared places: the token cache trusts only the user's own files, the output policy for links,
 * FIFOs and stdout, and the config search that stops at folders of other users. Cases that need a
 * second user (chown) run as root, as CI does, and are skipped with the reason otherwise.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki, RSA_DEVICE } from '../helpers/paths.js';
import { TestProxy } from '../helpers/proxy.js';

const posix = process.platform !== 'win32';
const root = posix && process.getuid?.() === 0;
const NOBODY = 65534;
const JWT = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator().start();
});
afterAll(async () => {
  await emulator.stop();
});

const creds = () => ['--url', emulator.url, ...RSA_DEVICE];
const fetch = (args: string[], cwd?: string) => runMain(['fetch', ...creds(), ...args], cwd ? { cwd } : {});

/** A folder like /tmp: sticky and writable by everyone. */
function sharedFolder(): string {
  const dir = join(tempDir('shared-'), 'shared');
  mkdirSync(dir);
  chmodSync(dir, 0o1777);
  return dir;
}

describe('the token cache trusts only the user’s own files', () => {
  it.skipIf(!root)('a token planted by another user is not reused, and the new one is ours (needs root for chown)', async () => {
    const dir = sharedFolder();
    const file = join(dir, 'token');
    const first = await fetch(['-o', file]);
    expect(first.code).toBe(0);
    chownSync(file, NOBODY, NOBODY);
    chmodSync(file, 0o666);
    const again = await fetch(['-o', file]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/Reused/);
    const info = statSync(file);
    expect(info.uid).toBe(0);
    expect(info.mode & 0o777).toBe(0o600);
  });

  it.skipIf(!posix)('a token file writable by others is not reused; a reused file is brought back to 0600', async () => {
    const file = join(tempDir(), 'token');
    expect((await fetch(['-o', file])).code).toBe(0);
    chmodSync(file, 0o666);
    expect((await fetch(['-o', file])).stderr).toMatch(/writable by other users|New from|same token/);
    chmodSync(file, 0o640);
    const reused = await fetch(['-o', file]);
    expect(reused.stderr).toMatch(/Reused/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('-o: links, special files and stdout', () => {
  it('-o - writes the token to stdout', async () => {
    const run = await fetch(['-o', '-']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(JWT);
  });

  it.skipIf(!posix)('a link the user owns is followed: the file it points at is replaced, the link stays', async () => {
    const dir = tempDir();
    const target = join(dir, 'real-token');
    writeFileSync(target, 'old');
    const link = join(dir, 'token');
    symlinkSync(target, link);
    const run = await fetch(['-o', link]);
    expect(run.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toMatch(JWT);
  });

  it.skipIf(!root)('a link owned by another user in a shared folder is refused, the file it points at untouched (needs root)', async () => {
    const dir = sharedFolder();
    const victim = join(tempDir(), 'victim');
    writeFileSync(victim, 'precious');
    const link = join(dir, 'token');
    symlinkSync(victim, link);
    execFileSync('chown', ['-h', `${NOBODY}:${NOBODY}`, link]);
    const run = await fetch(['-o', link]);
    expect(run.code).toBe(9);
    expect(run.stderr).toMatch(/symbolic link that belongs to another user/);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });

  it.skipIf(!root)('every link of a chain is checked: a root-owned link to a link of another user is refused, -o and --meta alike (needs root)', async () => {
    const dir = sharedFolder();
    const victim = join(tempDir(), 'victim');
    writeFileSync(victim, 'precious');
    const theirs = join(dir, 'theirs');
    symlinkSync(victim, theirs);
    lchownSync(theirs, NOBODY, NOBODY);
    const mine = join(dir, 'mine');
    symlinkSync(theirs, mine); // root's own link, to the other user's
    for (const args of [
      ['-o', mine],
      ['-o', join(tempDir(), 'token'), '--meta', mine],
    ]) {
      const run = await fetch(args);
      expect(run.code).toBe(9);
      expect(run.stderr).toContain(`the way to it leads through ${theirs}, a symbolic link that belongs to another user`);
    }
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });

  it.skipIf(!root)('a folder on the way that is a link of another user is refused too (needs root)', async () => {
    const dir = sharedFolder();
    const rootFolder = tempDir();
    writeFileSync(join(rootFolder, 'token'), 'precious');
    const folderLink = join(dir, 'out');
    symlinkSync(rootFolder, folderLink);
    lchownSync(folderLink, NOBODY, NOBODY);
    const run = await fetch(['-o', join(folderLink, 'token')]);
    expect(run.code).toBe(9);
    expect(run.stderr).toContain(`leads through ${folderLink}, a symbolic link that belongs to another user`);
    expect(readFileSync(join(rootFolder, 'token'), 'utf8')).toBe('precious');
  });

  it.skipIf(!posix)('a chain of the user’s own links is followed to its end, the links stay; a loop is refused after 40 links', async () => {
    const dir = tempDir();
    const target = join(dir, 'real-token');
    symlinkSync(target, join(dir, 'c')); // dangling: its target is created
    symlinkSync(join(dir, 'c'), join(dir, 'b'));
    symlinkSync('b', join(dir, 'a'));
    expect((await fetch(['-o', join(dir, 'a')])).code).toBe(0);
    expect(readFileSync(target, 'utf8')).toMatch(JWT);
    for (const name of ['a', 'b', 'c']) expect(lstatSync(join(dir, name)).isSymbolicLink()).toBe(true);
    symlinkSync('loop2', join(dir, 'loop1'));
    symlinkSync('loop1', join(dir, 'loop2'));
    const loop = await fetch(['-o', join(dir, 'loop1')]);
    expect(loop.code).toBe(9);
    expect(loop.stderr).toMatch(/more than 40 symbolic links/);
  });

  it.skipIf(!posix)('a FIFO, a device or a folder is refused before any request', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const before = emulator.requests.length;
    for (const [path, says] of [
      [fifo, /a FIFO/],
      ['/dev/null', /a device/],
      [dir, /it is a folder/],
    ] as const) {
      const run = await fetch(['-o', path]);
      expect(run.code).toBe(9);
      expect(run.stderr).toMatch(says);
    }
    expect(emulator.requests.length).toBe(before);
  });
});

describe('the config search', () => {
  it.skipIf(!root)('stops at a folder that belongs to another user, and says so (needs root)', async () => {
    const top = join(tempDir('foreign-'), 'project');
    mkdirSync(join(top, 'sub'), { recursive: true });
    writeFileSync(join(top, '.c8ytokenrc.json'), JSON.stringify({ url: 'https://attacker.example' }));
    chownSync(top, NOBODY, NOBODY);
    const run = await runMain(['fetch', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')], { cwd: join(top, 'sub') });
    expect(run.code).toBe(3); // no URL: the planted one was not read
    expect(run.stderr).toMatch(/config search stopped at .*project, which belongs to another user; .*\.c8ytokenrc\.json was not read/);
  });

  it.skipIf(!posix)('passes over a config file any user can write (0666), found by the search, with a warning naming it', async () => {
    const dir = tempDir('writable-');
    const path = join(dir, '.c8ytokenrc.json');
    writeFileSync(path, JSON.stringify({ url: 'https://attacker.example', truststore: '/tmp/attacker-ca.pem' }));
    chmodSync(path, 0o666);
    const run = await runMain(['fetch', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')], { cwd: dir });
    expect(run.code).toBe(3); // no URL: the planted one was not used
    expect(run.stderr).toContain(`${path} can be changed by any user (mode 0666) and was not read as a config file; make it yours alone: chmod o-w ${path}`);
    expect(run.stderr).not.toMatch(/attacker\.example/);
    // Writable by the group only (a per-user group, umask 002) is still the user's file.
    chmodSync(path, 0o664);
    expect((await runMain(['fetch', '-v', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--timeout', '1s'], { cwd: dir })).stderr).toContain(`config: ${path}`);
  });

  it.skipIf(!posix)('refuses a named config file (--config, C8YTOKEN_CONFIG) any user can write, exit 3', async () => {
    const path = join(tempDir('named-'), 'device.yaml');
    writeFileSync(path, 'url: https://attacker.example\n');
    chmodSync(path, 0o646);
    for (const [args, env] of [
      [['--config', path], {}],
      [[], { C8YTOKEN_CONFIG: path }],
    ] as const) {
      const run = await runMain(['fetch', ...args, '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')], { env });
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(`The config file ${path} can be changed by any user on this machine`);
      expect(run.stderr).toContain(`chmod o-w ${path}`);
    }
  });

  it.skipIf(!posix)('refuses a named config file in a folder any user can write without the sticky bit, exit 3; the sticky bit makes it safe', async () => {
    const dir = join(tempDir('named-open-'), 'shared');
    mkdirSync(dir);
    const path = join(dir, 'device.yaml');
    writeFileSync(path, 'url: https://attacker.example\n', { mode: 0o644 });
    chmodSync(dir, 0o777);
    const run = await runMain(['fetch', '--config', path, '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`The config file ${path} is in ${dir}, a folder any user can write without the sticky bit`);
    expect(run.stderr).toContain(`chmod o-w ${dir}`);
    chmodSync(dir, 0o1777);
    const sticky = await runMain(['fetch', '-v', '--config', path, '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--timeout', '1s']);
    expect(sticky.stderr).toContain(`config: ${path}`);
  });

  it.skipIf(!posix)('stops at a folder any user can write without the sticky bit: anyone could have replaced the file', async () => {
    const top = join(tempDir('open-folder-'), 'project');
    mkdirSync(join(top, 'sub'), { recursive: true });
    writeFileSync(join(top, '.c8ytokenrc.json'), JSON.stringify({ url: 'https://attacker.example' }));
    chmodSync(top, 0o777);
    const run = await runMain(['fetch', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')], { cwd: join(top, 'sub') });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/config search stopped at .*project, which any user can write \(no sticky bit\); .*\.c8ytokenrc\.json was not read/);
    // With the sticky bit (as /tmp), others cannot replace the user's file: it is read.
    chmodSync(top, 0o1777);
    expect((await runMain(['fetch', '-v', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--timeout', '1s'], { cwd: join(top, 'sub') })).stderr).toMatch(/attacker\.example/);
  });

  it.skipIf(!posix)('warns when the config file holding a password in its proxy URL can be read by others, as for proxyPassword', async () => {
    const proxy = await new TestProxy({ auth: { user: 'dev', password: 'proxy-secret' } }).start();
    try {
      const dir = tempDir('proxyurl-');
      const path = join(dir, '.c8ytokenrc.json');
      writeFileSync(path, JSON.stringify({ proxy: proxy.url('dev', 'proxy-secret') }));
      for (const [mode, warned] of [
        [0o644, true],
        [0o600, false],
      ] as const) {
        chmodSync(path, mode);
        const run = await runMain(['fetch', ...creds()], { cwd: dir, env: { NO_PROXY: '', no_proxy: '' } });
        expect(run.code).toBe(0);
        expect(proxy.tunnels).toBeGreaterThan(0);
        if (warned) expect(run.stderr).toContain(`${path} holds the proxy password and can be read by other users: chmod 600 ${path}`);
        else expect(run.stderr).not.toMatch(/can be read by other users/);
        expect(run.stderr).not.toContain('proxy-secret');
      }
    } finally {
      await proxy.stop();
    }
  });

  it('refuses a JavaScript config in the working folder loudly instead of using a parent’s', async () => {
    const parent = tempDir('jsconf-');
    writeFileSync(join(parent, '.c8ytokenrc.json'), JSON.stringify({ url: 'https://parent.example' }));
    const cwd = join(parent, 'here');
    mkdirSync(cwd);
    writeFileSync(join(cwd, '.c8ytokenrc.js'), 'module.exports = {}');
    const run = await runMain(['verify-chain', '--cert', pki('device-rsa.chain.pem')], { cwd });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/\.c8ytokenrc\.js is a program, and c8ytoken runs no code from config files/);
  });

  it('treats an empty XDG_CONFIG_HOME as unset', async () => {
    const home = tempDir('home-');
    mkdirSync(join(home, '.config', 'c8ytoken'), { recursive: true });
    writeFileSync(join(home, '.config', 'c8ytoken', 'config.yaml'), 'url: https://from-home.example\n');
    const run = await runMain(['fetch', '-v', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--timeout', '1s'], { env: { HOME: home, XDG_CONFIG_HOME: '' }, cwd: tempDir() });
    expect(run.stderr).toMatch(/config: .*c8ytoken[/\\]config\.yaml/);
    expect(run.stderr).toMatch(/from-home\.example/);
  });

  it('reports a syntax error by line and column, never quoting the file, with or without --verbose', async () => {
    for (const [name, text, at] of [
      ['.c8ytokenrc.yaml', 'url: https://x.example\nkeystore:\n  password: hunter2-secret\n   bad: [\n', /line \d+, column \d+/],
      ['.c8ytokenrc.json', '{"keystore": {"password": "hunter2-secret" "path": "x"}}', /line 1, column 44/],
    ] as const) {
      const dir = tempDir('syntax-');
      writeFileSync(join(dir, name), text);
      for (const verbose of [[], ['--verbose']]) {
        const run = await runMain(['verify-chain', ...verbose, '--cert', pki('device-rsa.crt')], { cwd: dir });
        expect(run.code).toBe(3);
        expect(run.stderr).toMatch(at);
        expect(run.stderr).not.toContain('hunter2-secret');
      }
    }
  });
});
