/**
 * tinyproxy with Basic authentication between c8ytoken and the local endpoint: right credentials tunnel
 * (mTLS end to end), wrong ones are "credentials not accepted" (tinyproxy answers them with 401, not
 * 407) with exit 3, none at all are "wants credentials", and a user without a password is said before
 * connecting.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { RSA_DEVICE } from '../helpers/paths.js';
import { freePort, installed, startDaemon, type Daemon } from './daemons.js';

const tinyproxy = installed('/usr/bin/tinyproxy');
const USER = 'device-proxy';
const PASSWORD = 'tiny-secret-42';
const creds = [...RSA_DEVICE];

describe.skipIf(!tinyproxy)(`tinyproxy with BasicAuth${tinyproxy ? '' : ' (skipped: /usr/bin/tinyproxy is not installed; apt-get install tinyproxy)'}`, () => {
  let emulator: Emulator;
  let daemon: Daemon;
  let port: number;
  const proxyUrl = (userinfo: string) => `http://${userinfo}127.0.0.1:${port}`;

  beforeAll(async () => {
    emulator = await new Emulator().start();
    port = await freePort();
    const dir = tempDir('c8ytoken-tinyproxy-');
    const conf = join(dir, 'tinyproxy.conf');
    writeFileSync(
      conf,
      [
        `Port ${port}`,
        'Listen 127.0.0.1',
        'Timeout 30',
        'MaxClients 10',
        `BasicAuth ${USER} ${PASSWORD}`,
        `ConnectPort ${emulator.port}`,
        `LogFile "${join(dir, 'tinyproxy.log')}"`,
        'LogLevel Info',
        '',
      ].join('\n'),
    );
    daemon = await startDaemon([tinyproxy!, '-d', '-c', conf], [port]);
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

  it('wrong credentials (tinyproxy answers 401): credentials not accepted, exit 3, the password never shown', async () => {
    const run = await runMain(['fetch', '--json', '--url', emulator.url, ...creds], { env: { HTTPS_PROXY: proxyUrl(`${USER}:wrong-password@`) } });
    expect(run.code).toBe(3);
    const err = (JSON.parse(run.stderr) as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
    expect(err.code).toBe('PROXY_AUTH_REQUIRED');
    expect(err.details).toMatchObject({ proxyStatus: 401, problem: 'rejected', proxy: `http://${USER}:***@127.0.0.1:${port}` });
    expect(err.message).toMatch(/did not accept the proxy credentials/);
    expect(run.stderr + run.stdout).not.toContain('wrong-password');
  });

  it('no credentials: the proxy wants them (407), exit 3, and the URL shows no *** since nothing is masked', async () => {
    const run = await runMain(['fetch', '--url', emulator.url, ...creds], { env: { HTTPS_PROXY: proxyUrl('') } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`The proxy http://127.0.0.1:${port} (from HTTPS_PROXY) wants credentials: it answered CONNECT localhost:${emulator.port} with 407`);
  });

  it('a user without a password anywhere is said before connecting; the URL shows the user without ***', async () => {
    const run = await runMain(['fetch', '--url', emulator.url, ...creds], { env: { HTTPS_PROXY: proxyUrl(`${USER}@`) } });
    const warning = run.stderr.indexOf(`names the user "${USER}" but no password is given anywhere`);
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(run.stderr).toContain(`The proxy http://${USER}@127.0.0.1:${port} (from HTTPS_PROXY) did not accept the proxy credentials`);
    expect(run.stderr).not.toContain('***');
    expect(warning).toBeLessThan(run.stderr.indexOf('did not accept'));
    expect(run.code).toBe(3);
  });

  it('a password from a file is sent, with no warning and never shown', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'proxy.pass'), `${PASSWORD}\n`, { mode: 0o600 });
    const run = await runMain(['fetch', '-v', '--url', emulator.url, ...creds, '--proxy', proxyUrl(`${USER}@`), '--proxy-password-file', join(dir, 'proxy.pass')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/no password is given/);
    expect(run.stderr).not.toContain(PASSWORD);
  });

  it('verify-chain --connect through tinyproxy: accepted on evidence, both probes through the tunnel', async () => {
    const run = await runMain(['verify-chain', '--connect', '--url', emulator.url, ...creds], { env: { HTTPS_PROXY: proxyUrl(`${USER}:${PASSWORD}@`), LANG: 'C.UTF-8' } });
    expect(run.stdout).toMatch(/through the proxy http:\/\/device-proxy:\*\*\*@127\.0\.0\.1:\d+ \(from HTTPS_PROXY\)/);
    expect(run.stdout).toMatch(/✔ Device certificate accepted: the server requires one/);
    expect(run.code).toBe(0);
  });
});
