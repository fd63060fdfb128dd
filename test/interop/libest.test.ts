/**
 * `cert enroll` and `cert renew` against Cisco's libest (the reference open-source EST server, C on
 * OpenSSL), which nobody here wrote: it reads the request body with OpenSSL's base64 BIO and the request
 * with d2i_X509_REQ. Its example server `estserver` signs with the fixture EST CA (so the local endpoint,
 * the token side of these runs, accepts what it issues); --url names the local endpoint for the tokens,
 * --est-url names libest.
 *
 * - enroll: HTTP Basic; estserver's user is hard-coded `estuser`/`estpwd`, so that is the device id and
 *   the one-time password.
 * - renew, `-n` (HTTP authentication off: the TLS client certificate alone, RFC 7030 3.3.2): passes only
 *   when the device certificate is offered in the handshake. Our Bearer device token goes along, as the
 *   platform wants; libest's own `--token` mode would base64-decode the token first, which is not the
 *   platform's convention, so it is not used.
 * - `-o -m 60` (manual approval: 202 with Retry-After: 60, libest's least, until a request for the same
 *   key comes again).
 *
 * Needs the built server: C8YTOKEN_LIBEST_DIR (the libest source folder, built: docs/interop.md says how)
 * or `estserver` on PATH; skipped with that reason otherwise. estserver listens on every address: each
 * test server gets a free high port and is stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr, generateDeviceKey } from '../../src/core/est/csr.js';
import { commonNameOf, deviceIdOf } from '../../src/core/est/names.js';
import { enrollWhenRegistered } from '../../src/core/est/poll.js';
import { Emulator } from '../emulator/server.js';
import { serverCa } from '../helpers/est.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki } from '../helpers/paths.js';

function findEstserver(): string | undefined {
  const dir = process.env.C8YTOKEN_LIBEST_DIR;
  if (dir) {
    const bin = join(dir, 'example', 'server', 'estserver');
    return existsSync(bin) ? bin : undefined;
  }
  const which = spawnSync('sh', ['-c', 'command -v estserver'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

const estserver = findEstserver();
const skipReason = process.env.C8YTOKEN_LIBEST_DIR
  ? `skipped: no example/server/estserver under C8YTOKEN_LIBEST_DIR=${process.env.C8YTOKEN_LIBEST_DIR} (build libest first: docs/interop.md)`
  : 'skipped: set C8YTOKEN_LIBEST_DIR to a built Cisco libest source folder, or put estserver on PATH (docs/interop.md)';
if (!estserver) console.warn(`libest interop tests ${skipReason}`);

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function listening(port: number, within = 10_000): Promise<void> {
  const until = Date.now() + within;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`estserver did not listen on ${port} within ${within} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A folder with estserver's CA (`openssl ca` config over the fixture EST CA), its TLS identity and the trust for client certificates. */
function caFolder(): string {
  const dir = tempDir('c8ytoken-libest-');
  const ca = join(dir, 'ca');
  mkdirSync(join(ca, 'newcerts'), { recursive: true });
  writeFileSync(join(ca, 'index.txt'), '');
  writeFileSync(join(ca, 'serial'), '01\n');
  copyFileSync(pki('est-ca.crt'), join(ca, 'cacert.crt'));
  copyFileSync(pki('est-ca.key'), join(ca, 'cakey.pem'));
  // What a platform CA issues to a device: not a CA, digitalSignature, clientAuth.
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = CA_default',
      '[ CA_default ]',
      `dir = ${ca}`,
      'database = $dir/index.txt',
      'new_certs_dir = $dir/newcerts',
      'certificate = $dir/cacert.crt',
      'serial = $dir/serial',
      'private_key = $dir/cakey.pem',
      'default_days = 365',
      'default_md = sha256',
      'policy = policy_any',
      'email_in_dn = no',
      'copy_extensions = none',
      'x509_extensions = client_cert',
      'unique_subject = no',
      '[ policy_any ]',
      'commonName = supplied',
      '[ client_cert ]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = clientAuth',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '[ req ]',
      'distinguished_name = dn',
      '[ dn ]',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'server.pem'), readFileSync(pki('server.crt')).toString() + readFileSync(pki('server.key')).toString());
  writeFileSync(join(dir, 'trusted.crt'), ['device-root-ca.crt', 'device-intermediate-ca.crt', 'est-ca.crt'].map((f) => readFileSync(pki(f)).toString()).join(''));
  writeFileSync(join(dir, 'otp.txt'), 'estpwd\n');
  return dir;
}

interface Libest {
  url: string;
  log: () => string;
  stop(): Promise<void>;
}

async function startLibest(dir: string, flags: string[]): Promise<Libest> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(estserver!, ['-p', String(port), '-c', join(dir, 'server.pem'), '-k', join(dir, 'server.pem'), '-r', 'estrealm', ...flags], {
    cwd: dir,
    env: { ...process.env, EST_TRUSTED_CERTS: join(dir, 'trusted.crt'), EST_CACERTS_RESP: join(dir, 'ca', 'cacert.crt'), EST_OPENSSL_CACONFIG: join(dir, 'ca.cnf') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await listening(port);
  return {
    url: `https://localhost:${port}`,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe.skipIf(!estserver)(`Cisco libest estserver ${estserver ? '' : skipReason}`, () => {
  let dir: string;
  let emulator: Emulator;
  let basic: Libest; // -o: HTTP Basic, or the client certificate alone for re-enrollment
  let certOnly: Libest; // -n: the client certificate alone
  let manual: Libest; // -o -m 60: 202 with Retry-After: 60 (libest's least) until the same key comes again
  beforeAll(async () => {
    dir = caFolder();
    // The token side: the local endpoint with `est` trusts the EST CA, so what libest issues gets tokens.
    [emulator, basic, certOnly, manual] = await Promise.all([new Emulator({ est: true }).start(), startLibest(dir, ['-o']), startLibest(dir, ['-n']), startLibest(dir, ['-o', '-m', '60'])]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([emulator?.stop(), basic?.stop(), certOnly?.stop(), manual?.stop()]);
  });

  const common = () => ['--url', emulator.url, '--truststore', pki('server-ca.crt')];

  /** `cert enroll` of the device `estuser` at `server`, writing `certPath` and `keyPath`. */
  const enrollArgs = (server: Libest, certPath: string, keyPath: string, maxWait: string): string[] => [
    'cert',
    'enroll',
    ...common(),
    '--est-url',
    server.url,
    '--device-id',
    'estuser',
    '--one-time-password-file',
    join(dir, 'otp.txt'),
    '--cert',
    certPath,
    '--key',
    keyPath,
    '--max-wait',
    maxWait,
  ];

  async function enroll(server: Libest, name: string, extra: string[] = []): Promise<{ certPath: string; keyPath: string }> {
    const out = tempDir('c8ytoken-libest-out-');
    const certPath = join(out, `${name}.pem`);
    const keyPath = join(out, `${name}.key`);
    const run = await runMain([...enrollArgs(server, certPath, keyPath, '1m'), ...extra], {});
    expect(run.stderr + server.log().slice(-2000)).not.toMatch(/Invalid or corrupted pkcs10|EST_ERR_BAD_PKCS10/);
    expect(run.code, run.stderr).toBe(0);
    return { certPath, keyPath };
  }

  it('cert enroll (HTTP Basic): libest reads the request and issues the certificate, which gets a token', async () => {
    const { certPath } = await enroll(basic, 'enrolled');
    const leaf = new X509Certificate(readFileSync(certPath));
    expect(leaf.subject).toBe('CN=estuser');
    expect(leaf.issuer).toMatch(/CN=c8ytoken EST CA/);
    const token = await runMain(['fetch', ...common(), '--cert', certPath, '--key', certPath.replace(/\.pem$/, '.key')]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toMatch(/^eyJ/);
  });

  it('cert renew against -n (client certificate only): the device certificate authenticates the re-enrollment; proven with a token, replaced in place', async () => {
    const { certPath, keyPath } = await enroll(basic, 'renewed');
    const before = new X509Certificate(readFileSync(certPath));
    const run = await runMain(['cert', 'renew', ...common(), '--est-url', certOnly.url, '--cert', certPath, '--key', keyPath]);
    expect(run.code, run.stderr).toBe(0);
    const after = new X509Certificate(readFileSync(certPath));
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(after.subject).toBe('CN=estuser');
    expect(existsSync(`${certPath}.bak`)).toBe(true);
  });

  it('enroll against -m 60: the 202 with Retry-After: 60 is waited for as asked (not --retry-every), then the same request is issued', async () => {
    const { key } = await generateDeviceKey();
    const waits: number[] = [];
    const answer = await enrollWhenRegistered(
      {
        tenantUrl: new URL(manual.url),
        deviceId: deviceIdOf('estuser'),
        oneTimePassword: 'estpwd',
        csrDer: buildCsr(key, commonNameOf('estuser', 'the test CN')),
        trustCas: serverCa,
        timeoutMs: 10_000,
      },
      // The wait itself is not slept here: libest allows no Retry-After under 60 s, and it issues on the second sight of the key.
      { retryEveryMs: 5000, maxWaitMs: 600_000, sleep: async (ms) => void waits.push(ms) },
    );
    expect(waits).toEqual([60_000]);
    expect(answer.status).toBe(200);
    expect(answer.certificates[0]!.subject).toBe('CN=estuser');
  });

  it('cert enroll against -m 60 with --max-wait 30s: EST_PENDING (exit 8) saying when to come back', async () => {
    const out = tempDir('c8ytoken-libest-out-');
    const run = await runMain(enrollArgs(manual, join(out, 'x.pem'), join(out, 'x.key'), '30s'));
    expect(run.code).toBe(8);
    expect(run.stderr).toMatch(/HTTP 202 to simpleenroll: the request is pending.*Retry-After: 1 min/);
    expect(run.stderr).toMatch(/Run again after \d{4}-\d\d-\d\dT.*raise --max-wait/);
    expect(existsSync(join(out, 'x.pem'))).toBe(false);
  });

  it('cert renew against -m 60 with --timeout 10s: EST_PENDING (exit 8), files untouched; run again (same key), the CA issues it', async () => {
    const { certPath, keyPath } = await enroll(basic, 'pending-renew');
    const before = readFileSync(certPath);
    const args = ['cert', 'renew', ...common(), '--est-url', manual.url, '--cert', certPath, '--key', keyPath, '--timeout', '10s'];
    const first = await runMain(args);
    expect(first.code).toBe(8);
    expect(first.stderr).toMatch(/HTTP 202 to simplereenroll: the request is pending.*Retry-After: 1 min/);
    expect(first.stderr).toMatch(/Run again after .*raise --timeout/);
    expect(readFileSync(certPath).equals(before)).toBe(true);
    const again = await runMain(args);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(certPath).equals(before)).toBe(false);
  });

  it('cert enroll against -n (no HTTP authentication): libest answers 401, which enroll waits out as "not registered"', async () => {
    const out = tempDir('c8ytoken-libest-out-');
    const run = await runMain(enrollArgs(certOnly, join(out, 'x.pem'), join(out, 'x.key'), '1s'));
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/EST_NOT_REGISTERED/);
    expect(existsSync(join(out, 'x.pem'))).toBe(false);
  });
});
