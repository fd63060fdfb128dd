/**
 * A key in a TPM through tpm2-pkcs11 (issue 20): a software TPM (swtpm) on loopback behind tpm2-abrmd (on
 * a private D-Bus session bus: tpm2_ptool runs out of the TPM's three object slots without a resource
 * manager), a tpm2-pkcs11 token with an EC P-256 and an RSA 2048 key made in a temporary store, their
 * certificates signed at test time by the fixture EST CA. The built CLI fetches and renews with them, and
 * the TPM's own failures come out as the contract's: its dictionary-attack lockout after wrong PINs is a
 * locked token, a TPM that stops answering is bounded by --timeout. Setup takes about 4 s here. Skipped
 * with the reason where swtpm, tpm2-pkcs11, tpm2-abrmd or its TCTI are absent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEndpoints } from '../helpers/endpoints.js';
import { runCli, tempDir, type CliRun } from '../helpers/cli.js';
import { pki } from '../helpers/paths.js';
import { certifyPublicKey, hasCommand, runTool, softhsmMissing } from '../helpers/softhsm.js';

const multiarch = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
const tpmModule = [`/usr/lib/${multiarch}/pkcs11/libtpm2_pkcs11.so`, `/usr/lib/${multiarch}/libtpm2_pkcs11.so.1`, '/usr/lib/pkcs11/libtpm2_pkcs11.so'].find((m) => existsSync(m));
const tabrmdTcti = [`/usr/lib/${multiarch}/libtss2-tcti-tabrmd.so.0`, '/usr/lib/libtss2-tcti-tabrmd.so.0'].some((f) => existsSync(f));
const has = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error === undefined;
const missing = [
  // The SoftHSM2 tests' tools minus SoftHSM2 itself: opensc's pkcs11-tool, libp11's engine, openssl.
  ...softhsmMissing.filter((m) => m !== 'softhsm2'),
  ...(has('swtpm') ? [] : ['swtpm']),
  ...(tpmModule ? [] : ['libtpm2-pkcs11-1']),
  ...(hasCommand('tpm2_ptool') ? [] : ['libtpm2-pkcs11-tools (tpm2_ptool)']),
  ...(has('tpm2_dictionarylockout') ? [] : ['tpm2-tools']),
  ...(has('tpm2-abrmd') && tabrmdTcti ? [] : ['tpm2-abrmd, libtss2-tcti-tabrmd0']),
  ...(has('dbus-daemon') ? [] : ['dbus-daemon']),
];
const skipReason = missing.length
  ? ` (skipped: ${missing.join(', ')} not installed; apt-get install swtpm libtpm2-pkcs11-1 libtpm2-pkcs11-tools tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0 dbus-daemon opensc libengine-pkcs11-openssl)`
  : '';

const PIN = '61837402';
const WRONG_PIN = '20746183';
const JWT = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/;
const dir = tempDir('c8ytoken-tpm-');
const store = join(dir, 'store');
const processes: ChildProcess[] = [];
let swtpm: ChildProcess | undefined;
/** The environment every TPM user here gets: the TCTI (abrmd on the private bus) and the token store. */
let tpmEnv: Record<string, string> = {};

/** Whether 127.0.0.1:port can be listened on; the port is any free one when 0. Resolves with the port or undefined. */
async function listenable(port: number): Promise<number | undefined> {
  const s = createServer();
  const got = await new Promise<number | undefined>((resolve) => {
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => resolve((s.address() as AddressInfo).port));
  });
  if (got !== undefined) await new Promise<void>((r) => s.close(() => r()));
  return got;
}

/** Two free neighbouring ports: the swtpm TCTI reaches the control channel at the server port + 1. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await listenable(0);
    if (port !== undefined && port < 65535 && (await listenable(port + 1)) !== undefined) return port;
  }
}

/** A daemon run in the foreground as our child (stopped by PID in afterAll). */
function daemon(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  child.on('exit', (code) => (code ? console.error(`${cmd} exited ${code}: ${err}`) : undefined));
  processes.push(child);
  return child;
}

const tool = (cmd: string, args: string[]): string => runTool(cmd, args, { ...process.env, ...tpmEnv });

/** Retries `probe` until it passes: a daemon that just started is not listening yet. */
async function ready(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start`);
}

/** The certificate chain for the TPM key `label` (its public key read out by pkcs11-tool). */
function certify(label: string, cn: string): string {
  const der = join(dir, `${label}.pub.der`);
  tool('pkcs11-tool', ['--module', tpmModule!, '--token-label', 'device', '--read-object', '--type', 'pubkey', '--label', label, '-o', der]);
  const pub = join(dir, `${label}.pub.pem`);
  writeFileSync(pub, runTool('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', der]));
  return certifyPublicKey(pub, cn, join(dir, `${label}.chain.pem`));
}

describe.skipIf(missing.length > 0)(`a key in a TPM through tpm2-pkcs11 (swtpm)${skipReason}`, () => {
  const endpoint = localEndpoints();
  let ecChain = '';
  let rsaChain = '';

  beforeAll(async () => {
    mkdirSync(join(dir, 'state'));
    mkdirSync(store);
    const port = await freePortPair();
    swtpm = daemon('swtpm', [
      'socket',
      '--tpm2',
      '--tpmstate',
      `dir=${join(dir, 'state')}`,
      '--server',
      `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl',
      `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      '--flags',
      'not-need-init,startup-clear',
    ]);
    await ready(() => spawnSync('tpm2_getrandom', ['8'], { env: { ...process.env, TPM2TOOLS_TCTI: `swtpm:host=127.0.0.1,port=${port}` }, stdio: 'ignore' }).status === 0, 'swtpm');
    const bus = `unix:path=${join(dir, 'bus')}`;
    daemon('dbus-daemon', ['--session', '--nofork', `--address=${bus}`]);
    await ready(() => existsSync(join(dir, 'bus')), 'dbus-daemon');
    const name = `com.intel.tss2.Tabrmd.c8ytoken${port}`;
    const tcti = `tabrmd:bus_type=session,bus_name=${name}`;
    tpmEnv = { DBUS_SESSION_BUS_ADDRESS: bus, TPM2TOOLS_TCTI: tcti, TPM2_PKCS11_TCTI: tcti, TPM2_PKCS11_STORE: store };
    daemon('tpm2-abrmd', ['--allow-root', '--session', `--tcti=swtpm:host=127.0.0.1,port=${port}`, `--dbus-name=${name}`, '--flush-all'], { ...process.env, ...tpmEnv });
    await ready(() => spawnSync('tpm2_getrandom', ['8'], { env: { ...process.env, ...tpmEnv }, stdio: 'ignore' }).status === 0, 'tpm2-abrmd');
    // Three wrong PINs lock the TPM's keys (dictionary-attack protection), for ten minutes.
    tool('tpm2_dictionarylockout', ['--setup-parameters', '--max-tries=3', '--recovery-time=600', '--lockout-recovery-time=600']);
    tool('tpm2_ptool', ['init', '--path', store]);
    tool('tpm2_ptool', ['addtoken', '--pid', '1', '--label', 'device', '--userpin', PIN, '--sopin', '38164027', '--path', store]);
    tool('tpm2_ptool', ['addkey', '--algorithm', 'ecc256', '--label', 'device', '--key-label', 'c8y-ec', '--userpin', PIN, '--path', store]);
    tool('tpm2_ptool', ['addkey', '--algorithm', 'rsa2048', '--label', 'device', '--key-label', 'c8y-rsa', '--userpin', PIN, '--path', store]);
    ecChain = certify('c8y-ec', 'tpm-ec-device');
    rsaChain = certify('c8y-rsa', 'tpm-rsa-device');
  }, 120_000);

  afterAll(() => {
    if (swtpm?.signalCode === null) swtpm.kill('SIGCONT');
    for (const p of processes.splice(0).reverse()) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const fetch = (url: string, chain: string, object: string, extra: string[] = [], pin = PIN): Promise<CliRun> =>
    runCli(['fetch', '--url', url, '--truststore', pki('truststore.pem'), '--cert', chain, '--key', `pkcs11:token=device;object=${object}`, '--pkcs11-module', tpmModule!, ...extra], {
      env: { ...tpmEnv, C8YTOKEN_KEY_PASSWORD: pin },
    });

  for (const [kind, version] of [
    ['EC P-256', 'TLSv1.3'],
    ['RSA 2048', 'TLSv1.2'],
  ] as const) {
    it(`fetch: ${kind} key in the TPM, ${version}`, async () => {
      const e = await endpoint({ maxVersion: version });
      const ec = kind.startsWith('EC');
      const r = await fetch(e.url, ec ? ecChain : rsaChain, ec ? 'c8y-ec' : 'c8y-rsa');
      expect(r.stderr).toMatch(/^Token for device_tpm-(ec|rsa)-device on tenant t12345/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1); // no TSS, libp11 or OpenSSL lines
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(JWT);
      expect(e.requests.at(-1)!.tlsVersion).toBe(version);
      expect(e.requests.at(-1)!.handshakeChain[0]).toBe(`tpm-${ec ? 'ec' : 'rsa'}-device`);
    });
  }

  it('cert renew: the certificate request is signed in the TPM, the key stays there', async () => {
    const e = await endpoint({ est: true });
    const cert = join(dir, 'renew.chain.pem');
    writeFileSync(cert, readFileSync(ecChain));
    const before = new X509Certificate(readFileSync(cert));
    const r = await runCli(['cert', 'renew', '--url', e.url, '--truststore', pki('truststore.pem'), '--cert', cert, '--key', 'pkcs11:token=device;object=c8y-ec', '--pkcs11-module', tpmModule!], {
      env: { ...tpmEnv, C8YTOKEN_KEY_PASSWORD: PIN },
    });
    expect(r.code).toBe(0);
    const after = new X509Certificate(readFileSync(cert));
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(after.publicKey.equals(before.publicKey)).toBe(true);
  });

  it('a TPM that stops answering is exit 4 (PKCS11_NO_ANSWER) after --timeout, not a hang', async () => {
    const e = await endpoint();
    swtpm!.kill('SIGSTOP');
    try {
      const t0 = Date.now();
      const r = await fetch(e.url, ecChain, 'c8y-ec', ['--timeout', '1s']);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('PKCS11_NO_ANSWER');
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(e.requests).toHaveLength(0);
    } finally {
      swtpm!.kill('SIGCONT');
    }
    // Answering again: the next fetch works (abrmd and the TPM were only paused).
    expect((await fetch(e.url, ecChain, 'c8y-ec', ['--timeout', '20s'])).code).toBe(0);
  });

  // Last: it locks the TPM's keys for the rest of the file.
  it('wrong PINs are exit 4 each; after the third the TPM locks its keys, and even the right PIN is PKCS11_LOCKED (exit 4)', async () => {
    const e = await endpoint();
    const outcomes: string[] = [];
    let last = '';
    for (const pin of [WRONG_PIN, WRONG_PIN, WRONG_PIN, PIN]) {
      const r = await fetch(e.url, ecChain, 'c8y-ec', [], pin);
      expect(r.code).toBe(4);
      expect(r.stdout + r.stderr).not.toContain(PIN);
      expect(r.stdout + r.stderr).not.toContain(WRONG_PIN);
      outcomes.push(/\(error (\w+),/.exec(r.stderr)?.[1] ?? r.stderr);
      last = r.stderr;
    }
    expect(last).toContain('tpm2_dictionarylockout --clear-lockout');
    expect(outcomes).toEqual(['WRONG_PASSWORD', 'WRONG_PASSWORD', 'WRONG_PASSWORD', 'PKCS11_LOCKED']);
    expect(e.requests).toHaveLength(0);
  });
});
