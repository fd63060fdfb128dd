/** watch --once and --exit-on-error, and fetch's token cache: in process against the local endpoint. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki, RSA_DEVICE } from '../helpers/paths.js';

const emulators: Emulator[] = [];
afterEach(async () => {
  for (const e of emulators.splice(0)) await e.stop();
});
async function endpoint(lifetimeSeconds: number): Promise<Emulator> {
  const e = await new Emulator({ lifetimeSeconds }).start();
  emulators.push(e);
  return e;
}
const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('watch --once and --exit-on-error', () => {
  it('--once fetches, writes and exits 0', async () => {
    const e = await endpoint(600);
    const dir = tempDir();
    const run = await runMain(['watch', '--once', '-o', join(dir, 'token'), '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-ec384.jks')], {
      env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' },
    });
    expect(run.stderr).toMatch(/token\s+new token, written for device_ec-device-384/);
    expect(run.code).toBe(0);
    expect(claimsOf(readFileSync(join(dir, 'token'), 'utf8')).sub).toBe('device_ec-device-384');
    // again: the token in the file is before its half-life, so no request
    const requests = e.requests.length;
    const again = await runMain(['watch', '--once', '-o', join(dir, 'token'), '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-ec384.jks')], {
      env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' },
    });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/token in the file is still fresh/);
    expect(e.requests.length).toBe(requests);
  });

  it('--once exits with the class code of a failure', async () => {
    const e = await endpoint(600);
    const run = await runMain(['watch', '--once', '-o', join(tempDir(), 'token'), '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('stranger-device.p12')], {
      env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' },
    });
    expect(run.stderr).toContain('CLIENT_CERT_REJECTED');
    expect(run.code).toBe(6);
  });

  it('--exit-on-error exits on a failure retrying will not fix', async () => {
    const e = await endpoint(600);
    e.fault = 'http401';
    const run = await runMain(['watch', '--exit-on-error', '-o', join(tempDir(), 'token'), '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-rsa.p12')], {
      env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' },
    });
    expect(run.stderr).toContain('PLATFORM_UNAUTHORIZED');
    expect(run.code).toBe(7);
  });
});

describe('fetch with a cached token', () => {
  it('reuses the token in -o FILE before its half-life; --force asks anyway', async () => {
    const e = await endpoint(600);
    const file = join(tempDir(), 'token');
    const args = ['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-rsa.p12'), '-o', file];
    const env = { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' };
    expect((await runMain(args, { env })).stderr).toMatch(/New from the platform/);
    const requests = e.requests.length;
    const cached = await runMain(args, { env });
    expect(cached.stderr).toMatch(/Reused \(the token in .* is before its half-life\); no request sent/);
    expect(cached.stdout).toBe('');
    expect(e.requests.length).toBe(requests);
    // Before the half-life the platform hands out the same token again: said so, not "new".
    const forced = await runMain([...args, '--force'], { env });
    expect(forced.stderr).toMatch(/The platform returned the same token as before/);
    expect(e.requests.length).toBe(requests + 1);
    const forcedJson = await runMain([...args, '--force', '--json'], { env });
    expect(JSON.parse(forcedJson.stdout)).toMatchObject({ source: 'platform', state: 'same' });
    expect(forcedJson.stdout).not.toMatch(/eyJ[\w-]+\.eyJ/); // -o keeps the token off stdout, --json or not
    // a token for another device is not reused
    const other = await runMain(['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-ec256.p12'), '-o', file], { env });
    expect(other.stderr).toMatch(/device_ec-device-256.*New from the platform/);
    // --cache with stdout output
    const cacheFile = join(tempDir(), 'cache');
    const a = await runMain(['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-rsa.p12'), '--cache', cacheFile], { env });
    const b = await runMain(['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-rsa.p12'), '--cache', cacheFile], { env });
    expect(b.stdout).toBe(a.stdout);
    expect(b.stderr).toMatch(/no request sent/);
  });
});

describe('watch opens a keystore once at start', () => {
  it('the device user and the first refresh share one load of the keystore (one key derivation, one password)', async () => {
    const e = await endpoint(600);
    const run = await runMain(['-v', 'watch', '--once', '-o', join(tempDir(), 'token'), '--url', e.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-rsa.p12')], {
      env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' },
    });
    expect(run.code).toBe(0);
    expect(run.stderr.match(/c8ytoken: identity: /g)).toHaveLength(1);
  });
});

describe('the token file is never replaced by something worse, nor written over a file c8ytoken reads', () => {
  const creds = (e: Emulator) => ['--url', e.url, ...RSA_DEVICE];

  it('fetch --force -o FILE: an older token from the platform leaves the valid one in FILE, with a warning', async () => {
    const e = await endpoint(3600);
    const file = join(tempDir(), 'token');
    expect((await runMain(['fetch', '-o', file, ...creds(e)])).code).toBe(0);
    const held = readFileSync(file, 'utf8');
    e.fault = 'older';
    const run = await runMain(['--json', 'fetch', '--force', '-o', file, ...creds(e)]);
    expect(run.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(held);
    expect(JSON.parse(run.stdout)).toMatchObject({ state: 'older', source: 'cache' });
    expect(run.stderr).toMatch(/expires before the one in .*token.*the file's token is kept/);
  });

  it('-o and --meta on one file, or -o on the device key: exit 2 before any request, the files untouched', async () => {
    const e = await endpoint(3600);
    const dir = tempDir();
    const file = join(dir, 'token');
    const same = await runMain(['fetch', '-o', file, '--meta', file, ...creds(e)]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--meta .*token is the same file as -o/);
    const key = join(dir, 'device.key');
    writeFileSync(key, readFileSync(pki('device-rsa.key')));
    const overKey = await runMain(['fetch', '-o', join(dir, '.', 'device.key'), '--url', e.url, '--truststore', pki('truststore.pem'), '--cert', pki('device-rsa.chain.pem'), '--key', key]);
    expect(overKey.code).toBe(2);
    expect(overKey.stderr).toMatch(/-o .*device\.key is the same file as --key/);
    expect(readFileSync(key).equals(readFileSync(pki('device-rsa.key')))).toBe(true);
    const watch = await runMain(['watch', '--once', '-o', file, '--meta', file, ...creds(e)]);
    expect(watch.code).toBe(2);
    expect(e.requests).toHaveLength(0);
  });

  it('--cache in a missing folder: exit 9 before the request', async () => {
    const e = await endpoint(3600);
    const run = await runMain(['fetch', '--cache', join(tempDir(), 'missing', 'token'), ...creds(e)]);
    expect(run.code).toBe(9);
    expect(e.requests).toHaveLength(0);
  });
});
