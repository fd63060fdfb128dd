/**
 * squid with Basic authentication (basic_ncsa_auth, an htpasswd file made by apache2-utils' htpasswd)
 * between c8ytoken and the local endpoint: right credentials tunnel with mTLS end to end, wrong ones are
 * "credentials not accepted" (squid answers 407 again) with exit 3, none are "wants credentials".
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { RSA_DEVICE } from '../helpers/paths.js';
import { freePort, installed, startDaemon, type Daemon } from './daemons.js';

const squid = installed('/usr/sbin/squid');
const htpasswd = installed('/usr/bin/htpasswd');
const ncsa = installed('/usr/lib/squid/basic_ncsa_auth');
const missing = [squid ? '' : '/usr/sbin/squid', htpasswd ? '' : '/usr/bin/htpasswd', ncsa ? '' : '/usr/lib/squid/basic_ncsa_auth'].filter(Boolean);
const USER = 'squid-device';
const PASSWORD = 'squid-secret-7';
const creds = [...RSA_DEVICE];

describe.skipIf(missing.length > 0)(`squid with basic_ncsa_auth${missing.length ? ` (skipped: ${missing.join(', ')} not installed; apt-get install squid apache2-utils)` : ''}`, () => {
  let emulator: Emulator;
  let daemon: Daemon;
  let port: number;
  const proxyUrl = (userinfo: string) => `http://${userinfo}127.0.0.1:${port}`;

  beforeAll(async () => {
    emulator = await new Emulator().start();
    port = await freePort();
    const dir = tempDir('c8ytoken-squid-');
    // squid started as root runs as its own user (Debian: proxy): it must reach the folder and read the files.
    chmodSync(dir, 0o777);
    const passwords = join(dir, 'htpasswd');
    execFileSync(htpasswd!, ['-bc', passwords, USER, PASSWORD], { stdio: 'ignore' });
    chmodSync(passwords, 0o644);
    const conf = join(dir, 'squid.conf');
    writeFileSync(
      conf,
      [
        `http_port 127.0.0.1:${port}`,
        `auth_param basic program ${ncsa!} ${passwords}`,
        'auth_param basic realm c8ytoken',
        'acl authed proxy_auth REQUIRED',
        'http_access allow authed',
        'http_access deny all',
        'cache deny all',
        'access_log none',
        `cache_log ${join(dir, 'cache.log')}`,
        `pid_filename ${join(dir, 'squid.pid')}`,
        `coredump_dir ${dir}`,
        'shutdown_lifetime 0 seconds',
        '',
      ].join('\n'),
    );
    daemon = await startDaemon([squid!, '-N', '-f', conf], [port]);
  });
  afterAll(async () => {
    await daemon?.stop();
    await emulator?.stop();
  });

  it('right credentials: the token comes through the tunnel', async () => {
    const before = emulator.issued;
    const run = await runMain(['fetch', '--url', emulator.url, ...creds], { env: { HTTPS_PROXY: proxyUrl(`${USER}:${PASSWORD}@`) } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^eyJ/);
    expect(emulator.issued).toBe(before + 1);
  });

  it('wrong credentials: not accepted, exit 3, the password never shown', async () => {
    const run = await runMain(['fetch', '--json', '--url', emulator.url, ...creds], { env: { HTTPS_PROXY: proxyUrl(`${USER}:not-the-password@`) } });
    expect(run.code).toBe(3);
    const err = (JSON.parse(run.stderr) as { error: { code: string; details: Record<string, unknown> } }).error;
    expect(err.code).toBe('PROXY_AUTH_REQUIRED');
    expect(err.details).toMatchObject({ proxyStatus: 407, problem: 'rejected', authSchemes: ['Basic'] });
    expect(run.stderr + run.stdout).not.toContain('not-the-password');
  });

  it('no credentials: the proxy wants them, exit 3', async () => {
    const run = await runMain(['fetch', '--url', emulator.url, ...creds], { env: { HTTPS_PROXY: proxyUrl('') } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`The proxy http://127.0.0.1:${port} (from HTTPS_PROXY) wants credentials: it answered CONNECT localhost:${emulator.port} with 407`);
  });
});
