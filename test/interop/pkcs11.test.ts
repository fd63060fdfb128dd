/**
 * Keys in a PKCS#11 token (issue 20), with SoftHSM2 standing in for a TPM, smartcard or HSM: a token made
 * in a temporary folder, RSA-2048 and EC P-256 key pairs generated inside it (never extractable), their
 * certificates signed at test time by the fixture EST CA from the public keys pkcs11-tool reads out. The
 * built CLI talks to the local endpoint over real mutual TLS through OpenSSL's PKCS#11 engine. Skipped
 * with the reason when softhsm2, opensc's pkcs11-tool or libp11's engine are absent (.ci/run installs
 * softhsm2 opensc libengine-pkcs11-openssl).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEndpoints } from '../helpers/endpoints.js';
import { runCli, tempDir, type CliRun } from '../helpers/cli.js';
import { pki } from '../helpers/paths.js';
import { SoftHsmToken, softhsmMissing as missing, softhsmModule as module, softhsmSkipReason as skipReason } from '../helpers/softhsm.js';

/** A PIN no output may contain. */
const PIN = '73195284';
const WRONG_PIN = '46028173';
const JWT = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/;

const dir = tempDir('c8ytoken-pkcs11-');
const token = new SoftHsmToken(dir, PIN);
const conf = token.conf;
const env = (): Record<string, string> => ({ SOFTHSM2_CONF: conf, C8YTOKEN_KEY_PASSWORD: PIN });
const uri = (object: string): string => token.uri(object);

let ecChain = '';
let rsaChain = '';

describe.skipIf(missing.length > 0)(`keys in a PKCS#11 token (SoftHSM2)${skipReason}`, () => {
  const endpoint = localEndpoints();
  beforeAll(() => {
    token.init();
    ecChain = token.keyWithCertificate('device-ec', '01', 'EC:prime256v1', 'p11-ec-device');
    rsaChain = token.keyWithCertificate('device-rsa', '02', 'rsa:2048', 'p11-rsa-device');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fetch = (url: string, chain: string, key: string, extra: string[] = [], e: Record<string, string> = env()): Promise<CliRun> =>
    runCli(['fetch', '--url', url, '--truststore', pki('truststore.pem'), '--cert', chain, '--key', key, '--pkcs11-module', module!, ...extra], { env: e });

  /** Nothing but our own words on stderr: libp11 writes from C to fd 2 when the engine fails in-process. */
  const expectNoSecrets = (r: CliRun): void => {
    expect(r.stdout + r.stderr).not.toContain(PIN);
    expect(r.stdout + r.stderr).not.toContain(WRONG_PIN);
  };

  for (const [kind, version] of [
    ['EC P-256', 'TLSv1.3'],
    ['EC P-256', 'TLSv1.2'],
    ['RSA 2048', 'TLSv1.3'],
    ['RSA 2048', 'TLSv1.2'],
  ] as const) {
    it(`fetch: ${kind} key in the token, ${version}`, async () => {
      const e = await endpoint({ maxVersion: version });
      const ec = kind.startsWith('EC');
      const r = await fetch(e.url, ec ? ecChain : rsaChain, uri(ec ? 'device-ec' : 'device-rsa'));
      expect(r.stderr).toMatch(/^Token for device_p11-(ec|rsa)-device on tenant t12345/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1); // no libp11 or OpenSSL lines
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(JWT);
      const claims = JSON.parse(Buffer.from(r.stdout.split('.')[1]!, 'base64url').toString()) as { sub: string };
      expect(claims.sub).toBe(`device_p11-${ec ? 'ec' : 'rsa'}-device`);
      expect(e.requests.at(-1)!.tlsVersion).toBe(version);
      expect(e.requests.at(-1)!.handshakeChain.slice(0, 2)).toEqual([`p11-${ec ? 'ec' : 'rsa'}-device`, 'c8ytoken EST CA']);
      expectNoSecrets(r);
    });
  }

  it("fetch: the PIN from the URI's pin-source file, the module from PKCS11_MODULE_PATH", async () => {
    const e = await endpoint();
    const pinFile = join(dir, 'pin.txt');
    writeFileSync(pinFile, `${PIN}\n`, { mode: 0o600 });
    const r = await runCli(['fetch', '--url', e.url, '--truststore', pki('truststore.pem'), '--cert', ecChain, '--key', `${uri('device-ec')}?pin-source=file:${pinFile}`], {
      env: { SOFTHSM2_CONF: conf, PKCS11_MODULE_PATH: module! },
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(JWT);
  });

  it('a wrong PIN is exit 4, and no output holds it', async () => {
    const e = await endpoint();
    const r = await fetch(e.url, ecChain, uri('device-ec'), ['--verbose'], { SOFTHSM2_CONF: conf, C8YTOKEN_KEY_PASSWORD: WRONG_PIN });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('WRONG_PASSWORD');
    expect(r.stderr).toContain('The token refused the PIN for pkcs11:token=c8y;object=device-ec');
    expect(e.requests).toHaveLength(0);
    expectNoSecrets(r);
  });

  it('a pin-value on the command line is refused (exit 2) without echoing it', async () => {
    const e = await endpoint();
    const r = await fetch(e.url, ecChain, `${uri('device-ec')}?pin-value=${PIN}`, [], { SOFTHSM2_CONF: conf });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pin-value');
    expectNoSecrets(r);
  });

  it('no such object is exit 4 (PKCS11_NOT_FOUND)', async () => {
    const e = await endpoint();
    const r = await fetch(e.url, ecChain, uri('no-such-key'));
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('PKCS11_NOT_FOUND');
    expect(r.stderr).toContain('pkcs11:token=c8y;object=no-such-key');
  });

  it('a key of another certificate is exit 4 (KEY_MISMATCH) before any request, not a "certificate required" alert', async () => {
    const e = await endpoint();
    const r = await fetch(e.url, ecChain, uri('device-rsa'));
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('KEY_MISMATCH');
    expect(e.requests).toHaveLength(0);
  });

  it('verify-chain: the key matches by the token; a key of another certificate is a finding (exit 1)', async () => {
    const args = (key: string): string[] => ['verify-chain', '--cert', ecChain, '--key', key, '--pkcs11-module', module!, '--device-ca', pki('device-root-ca.crt'), '--json'];
    const good = await runCli(args(uri('device-ec')), { env: env() });
    expect(good.code).toBe(0);
    const report = JSON.parse(good.stdout) as { checks: { id: string; verdict: string }[] };
    expect(report.checks.find((c) => c.id === 'key-match')?.verdict).toBe('pass');
    const bad = await runCli(args(uri('device-rsa')), { env: env() });
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.stdout) as typeof report).checks.find((c) => c.id === 'key-match')?.verdict).toBe('fail');
  });

  it('doctor: the identity step opens the token and names token, object and module, never the PIN', async () => {
    const e = await endpoint();
    const r = await runCli(['doctor', '--url', e.url, '--truststore', pki('truststore.pem'), '--cert', ecChain, '--key', uri('device-ec'), '--pkcs11-module', module!], { env: env() });
    expect(r.stdout + r.stderr).toContain(`key in a PKCS#11 token: token "c8y", object "device-ec", module ${module}`);
    expect(r.stdout + r.stderr).toContain('the token signed a challenge');
    expect(r.code).toBe(0);
    expectNoSecrets(r);
  });

  it('cert renew: the request is signed in the token, the certificate file replaced, the key stays; --new-key is refused', async () => {
    const e = await endpoint({ est: true });
    const cert = join(dir, 'renew.chain.pem');
    writeFileSync(cert, readFileSync(ecChain));
    const before = new X509Certificate(readFileSync(cert));
    const renew = (extra: string[]): Promise<CliRun> =>
      runCli(['cert', 'renew', '--url', e.url, '--truststore', pki('truststore.pem'), '--cert', cert, '--key', uri('device-ec'), '--pkcs11-module', module!, ...extra], { env: env() });
    const refused = await renew(['--new-key']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--new-key cannot make a key in a PKCS#11 token');
    const r = await renew([]);
    expect(r.code).toBe(0);
    const after = new X509Certificate(readFileSync(cert));
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(after.publicKey.export({ type: 'spki', format: 'der' }).equals(before.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(existsSync(`${cert}.bak`)).toBe(true);
    // The new certificate gets a token with the key in the token.
    const f = await fetch(e.url, cert, uri('device-ec'));
    expect(f.code).toBe(0);
    expect(f.stdout.trim()).toMatch(JWT);
    expectNoSecrets(r);
  });
});

describe('keys in a PKCS#11 token: what is missing is named', () => {
  it('an engine that is not there is exit 3 naming the package', async () => {
    const r = await runCli(['fetch', '--url', 'https://127.0.0.1:9', '--cert', pki('device-ec256.chain.pem'), '--key', 'pkcs11:token=x;object=y', '--pkcs11-engine', join(tempDir(), 'pkcs11.so')], {
      env: { C8YTOKEN_KEY_PASSWORD: PIN },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('PKCS11_UNAVAILABLE');
    expect(r.stderr).toContain('libengine-pkcs11-openssl');
    expect(r.stderr).not.toContain(PIN);
  });

  it('a URI that names no key is a usage error', async () => {
    const r = await runCli(['fetch', '--url', 'https://127.0.0.1:9', '--cert', pki('device-ec256.chain.pem'), '--key', 'pkcs11:token=x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('names no key');
  });
});
