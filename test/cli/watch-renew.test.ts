/**
 * `c8ytoken watch --renew-before` in this process through the CLI, against the local endpoint in EST
 * mode with short token lifetimes: a certificate inside the window is renewed once and the next
 * refresh uses it; a failing renewal is retried with backoff and reported while tokens keep coming.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki } from '../helpers/paths.js';

const emulators: Emulator[] = [];
afterEach(async () => {
  for (const e of emulators.splice(0)) await e.stop();
});

const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `done` holds (checked every 50 ms), at most 10 s: watch runs in real time. */
async function until(done: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !done() && Date.now() < deadline;) await sleep(50);
}
const tokenRequests = (e: Emulator) => e.requests.filter((r) => r.path === '/devicecontrol/deviceAccessToken').length;

/** An endpoint with EST, and a device whose PEM certificate (renewed once there) expires in 20 days. */
async function deviceNearExpiry(): Promise<{ emulator: Emulator; dir: string; certPath: string; keyPath: string }> {
  const emulator = await new Emulator({ est: true, lifetimeSeconds: 2 }).start();
  emulators.push(emulator);
  const dir = tempDir('c8ytoken-watch-renew-');
  const [certPath, keyPath] = [join(dir, 'device.pem'), join(dir, 'device.key')];
  copyFileSync(pki('device-ec256.chain.pem'), certPath);
  copyFileSync(pki('device-ec256.key'), keyPath);
  emulator.est!.validityDays = 20;
  // Shorter than the fixture's 2099 on purpose.
  const first = await runMain(['cert', 'renew', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--cert', certPath, '--key', keyPath, '--allow-shorter']);
  expect(first.code).toBe(0);
  emulator.est!.validityDays = 365;
  return { emulator, dir, certPath, keyPath };
}

const lines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('watch --renew-before', () => {
  it('renews a certificate inside the window once, keeps the .bak, and the next refresh uses the new one', async () => {
    const { emulator, dir, certPath, keyPath } = await deviceNearExpiry();
    const before = readFileSync(certPath);
    const token = join(dir, 'token');
    const controller = new AbortController();
    const running = runMain(['watch', '--json', '--url', emulator.url, '--truststore', pki('server-ca.crt'), '--cert', certPath, '--key', keyPath, '-o', token, '--renew-before', '30d'], {
      signal: controller.signal,
    });
    // The first refresh renews; the one at the token's half-life (1 s) uses the new files.
    const requestsBefore = tokenRequests(emulator);
    await until(() => emulator.est!.issued.length >= 2 && tokenRequests(emulator) >= requestsBefore + 3);
    await sleep(300); // the answer to that request, and its event
    controller.abort('SIGTERM');
    const run = await running;
    expect(run.code).toBe(143);
    const events = lines(run.stdout);
    const kinds = events.map((e) => e.event);
    expect(kinds.filter((k) => k === 'renewed')).toHaveLength(1);
    expect(kinds.indexOf('renewed')).toBeGreaterThan(kinds.indexOf('token'));
    expect(kinds.lastIndexOf('token')).toBeGreaterThan(kinds.indexOf('renewed'));
    const renewed = events.find((e) => e.event === 'renewed')!;
    expect(renewed).toMatchObject({ identity: 'pem', files: [certPath], backups: [`${certPath}.bak`, `${keyPath}.bak`] });
    expect(Date.parse(renewed.notAfter as string)).toBeGreaterThan(Date.now() + 300 * DAY);
    expect(Date.parse(new X509Certificate(readFileSync(certPath)).validTo)).toBeGreaterThan(Date.now() + 300 * DAY);
    expect(readFileSync(`${certPath}.bak`).equals(before)).toBe(true);
    // The token request after the renewal presented the new certificate.
    expect(emulator.est!.issued.at(-1)!.fingerprint256).toBe(new X509Certificate(readFileSync(certPath)).fingerprint256);
    expect(readFileSync(token, 'utf8')).toMatch(/^eyJ/);
  });

  it('a failing renewal: reported and retried with backoff; tokens keep coming; the files stay as they were', async () => {
    const { emulator, dir, certPath, keyPath } = await deviceNearExpiry();
    const before = { cert: readFileSync(certPath), key: readFileSync(keyPath) };
    const listing = readdirSync(dir).sort();
    emulator.est!.fault = 'http500';
    const token = join(dir, 'token');
    const controller = new AbortController();
    const running = runMain(
      [
        'watch',
        '--url',
        emulator.url,
        '--truststore',
        pki('server-ca.crt'),
        '--cert',
        certPath,
        '--key',
        keyPath,
        '-o',
        token,
        '--renew-before',
        '30d',
        '--min-retry',
        '100ms',
        '--max-retry',
        '800ms',
      ],
      { signal: controller.signal },
    );
    const minted = emulator.issued;
    // Two new tokens (the first refresh, the one after the half-life) and three refused renewals.
    await until(() => emulator.est!.requests.filter((r) => r.status === 500).length >= 3 && emulator.issued >= minted + 2);
    await sleep(300);
    controller.abort('SIGTERM');
    const run = await running;
    expect(run.code).toBe(143);
    const failed = run.stderr.split('\n').filter((l) => / renewal {2}attempt \d+ failed \(EST_SERVER_ERROR\)/.test(l));
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.length).toBeLessThanOrEqual(10); // backoff (0.1, 0.2, 0.4, 0.8 s ...), not a busy loop
    expect(failed[0]).toMatch(/Nothing was changed: .*device\.pem and .*device\.key are as before\. Next try after .*; tokens come from the current certificate/);
    expect(run.stderr.split('\n').filter((l) => / token {4}new token, written/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(certPath).equals(before.cert)).toBe(true);
    expect(readFileSync(keyPath).equals(before.key)).toBe(true);
    expect([...readdirSync(dir)].filter((f) => f !== 'token').sort()).toEqual(listing);
  });

  it('a PKCS#12 or JKS keystore is renewed in place once: the next run reads the new certificate and asks for none', async () => {
    for (const file of ['device-est.p12', 'device-ec256.jks']) {
      const emulator = await new Emulator({ est: true, lifetimeSeconds: 2 }).start();
      emulators.push(emulator);
      const dir = tempDir('c8ytoken-watch-renew-');
      const path = join(dir, file);
      copyFileSync(pki(file), path);
      const env = { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' };
      const common = ['--url', emulator.url, '--truststore', pki('server-ca.crt'), '--keystore', path];
      emulator.est!.validityDays = 20;
      expect((await runMain(['cert', 'renew', ...common, '--allow-shorter'], { env })).code).toBe(0);
      emulator.est!.validityDays = 365;
      const issued = emulator.est!.issued.length;
      // Each run its own token file, so each refreshes (as a timer with 1-hour tokens does every half hour).
      const once = (n: number) => runMain(['watch', '--once', '--json', ...common, '-o', join(dir, `token${n}`), '--renew-before', '30d'], { env });
      const first = await once(1);
      expect(first.code).toBe(0);
      const renewed = lines(first.stdout).find((e) => e.event === 'renewed')!;
      expect(renewed).toMatchObject({ identity: 'keystore', files: [path], backups: [`${path}.bak`] });
      expect(emulator.est!.issued.length).toBe(issued + 1);
      for (const n of [2, 3]) {
        const again = await once(n);
        expect(again.code).toBe(0);
        expect(lines(again.stdout).map((e) => e.event)).not.toContain('renewed');
      }
      expect(emulator.est!.issued.length, file).toBe(issued + 1);
      expect(
        readdirSync(dir)
          .filter((f) => !f.startsWith('token'))
          .sort(),
      ).toEqual([file, `${file}.bak`]);
    }
  });
});
