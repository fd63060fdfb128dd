/**
 * The long-running commands with a key in a PKCS#11 token (issue 20), SoftHSM2 standing in for the token
 * (test/helpers/softhsm.ts): `watch` refreshing with one proof of the key per identity and the engine key
 * loaded again when the certificate file is replaced, `exec` handing a token to its command and keeping
 * the file fresh while it runs, and `proxy` forwarding to the local endpoint's REST resources in token mode
 * and in `--upstream-auth mtls` mode, where every connection of the upstream pool presents the token's key.
 * OpenSC's pkcs11-spy between the engine and SoftHSM2 counts what the token was asked to do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localEndpoints } from '../helpers/endpoints.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { bin, pki } from '../helpers/paths.js';
import { SoftHsmToken, softhsmMissing, softhsmModule, softhsmSkipReason, spyCalls, spyModule } from '../helpers/softhsm.js';

const PIN = '58203716';
const missing = [...softhsmMissing, ...(spyModule ? [] : ['opensc-pkcs11 (pkcs11-spy)'])];
const skipReason = softhsmSkipReason || (spyModule ? '' : ' (skipped: opensc-pkcs11 (pkcs11-spy) not installed)');

const dir = tempDir('c8ytoken-pkcs11-run-');
const token = new SoftHsmToken(dir, PIN);
const URI = token.uri('device-ec');
const claimsOf = (jwt: string): { sub: string } => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { sub: string };

/** The environment of a command using the token: SoftHSM2's folder, the PIN, and the spy logging into `spyLog`. */
const tokenEnv = (spyLog: string): Record<string, string> => ({
  SOFTHSM2_CONF: token.conf,
  C8YTOKEN_KEY_PASSWORD: PIN,
  PKCS11SPY: softhsmModule ?? '',
  PKCS11SPY_OUTPUT: spyLog,
});
/** The options naming the identity: the certificate file, the key in the token, the module (the spy). */
const identity = (cert: string): string[] => ['--truststore', pki('truststore.pem'), '--cert', cert, '--key', URI, '--pkcs11-module', spyModule ?? ''];

interface Child {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  closed: Promise<number | null>;
  /** Resolves once `test` holds for the output so far (checked as it comes). */
  until: (test: (out: string) => boolean, what: string, ms?: number) => Promise<void>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(args: string[], env: Record<string, string>): Child {
  const home = tempDir('c8ytoken-home-');
  const child = spawn(process.execPath, [bin, ...args], { cwd: home, env: { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const changed = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), changed()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => ((err += d), changed()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => (resolve(code), changed())));
  const until = (test: (o: string) => boolean, what: string, ms = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`)), ms);
      const check = (): void => {
        if (test(out)) {
          clearTimeout(timer);
          resolve();
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          reject(new Error(`exited ${child.exitCode} before ${what}\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`));
        } else waiters.push(check);
      };
      check();
    });
  return { child, out: () => out, err: () => err, closed, until };
}

/** The JSON lines of a child's stdout. */
const events = (text: string): { event: string; [k: string]: unknown }[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string });

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Identity loads, as --verbose says them: each one is a proof, a challenge signed in the token. */
const proofs = (stderr: string): number => stderr.split('\n').filter((l) => l.includes('it signed a challenge the certificate verifies')).length;

describe.skipIf(missing.length > 0)(`watch, exec and proxy with a key in a PKCS#11 token (SoftHSM2)${skipReason}`, () => {
  const endpoint = localEndpoints();
  beforeAll(() => {
    token.init().generateKey('device-ec', '01', 'EC:prime256v1');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('watch: refreshes with the key proven once; a replaced certificate file is read again and the engine key loaded for it', { timeout: 60_000 }, async () => {
    // 1.2 s tokens (fractional NumericDates, as the soak runs use): a refresh every 0.6 s, five of them.
    const e = await endpoint({ lifetimeSeconds: 1.2 });
    const cert = token.certify('device-ec', 'p11-watch-1', join(dir, 'watch.chain.pem'));
    const spy = join(dir, 'watch-spy.log');
    const file = join(dir, 'watch.token');
    const w = start(['watch', '--json', '--verbose', '-o', file, '--url', e.url, ...identity(cert)], tokenEnv(spy));
    const platformTokens = (o: string): number => events(o).filter((x) => x.event === 'token' && x.source === 'platform' && x.state === 'new').length;
    await w.until((o) => platformTokens(o) >= 3, 'three tokens');
    expect(proofs(w.err())).toBe(1);
    expect(claimsOf(readFileSync(file, 'utf8')).sub).toBe('device_p11-watch-1');

    // A renewed certificate for the same key in the token (what cert renew writes), put in place atomically.
    renameSync(token.certify('device-ec', 'p11-watch-2', join(dir, 'watch.chain.pem.new')), cert);
    const before = platformTokens(w.out());
    await w.until(() => claimsOf(readFileSync(file, 'utf8')).sub === 'device_p11-watch-2', 'a token for the renewed certificate');
    await w.until((o) => platformTokens(o) >= before + 2, 'one more refresh with the renewed certificate');
    w.child.kill('SIGTERM');
    expect(await w.closed).toBe(143);

    // Two identities, two proofs; every refresh a TLS handshake presenting the certificate of its time.
    expect(proofs(w.err())).toBe(2);
    const requests = e.requests.filter((r) => r.path.startsWith('/devicecontrol/deviceAccessToken'));
    const leaves = requests.map((r) => r.handshakeChain[0]);
    const switchedAt = leaves.indexOf('p11-watch-2');
    expect(switchedAt).toBeGreaterThanOrEqual(3);
    expect(leaves).toEqual([...Array<string>(switchedAt).fill('p11-watch-1'), ...Array<string>(leaves.length - switchedAt).fill('p11-watch-2')]);
    // The token signed each proof (in an openssl child) and each handshake (in this process, through the engine).
    expect(spyCalls(spy).get('C_Sign')).toBe(2 + requests.length);
    expect(w.out() + w.err()).not.toContain(PIN);
  });

  it('exec: the command gets a token and the file kept fresh while it runs; neither the PIN nor the engine settings reach it', { timeout: 60_000 }, async () => {
    // The refresh at the half-life (0.6 s) has 1.4 s to be written before the command looks again.
    const e = await endpoint({ lifetimeSeconds: 1.2 });
    const cert = token.certify('device-ec', 'p11-exec', join(dir, 'exec.chain.pem'));
    const script = [
      'first=$(cat "$C8Y_TOKEN_FILE")',
      '[ "$first" = "$C8Y_TOKEN" ] || exit 3',
      'sleep 2',
      '[ "$(cat "$C8Y_TOKEN_FILE")" != "$first" ] && echo refreshed',
      'echo "user=$C8Y_USER"',
      'env',
    ].join('; ');
    const r = await runCli(['exec', '--url', e.url, ...identity(cert), '--', 'sh', '-c', script], { env: tokenEnv(join(dir, 'exec-spy.log')) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('refreshed\nuser=device_p11-exec\n');
    expect(r.stdout).toMatch(/^C8Y_TOKEN=eyJ/m);
    // The engine's environment is set for the one call that loads the key, and the PIN stays with c8ytoken.
    expect(r.stdout).not.toMatch(/^(OPENSSL_ENGINES|PKCS11_MODULE_PATH|C8YTOKEN_KEY_PASSWORD)=/m);
    expect(r.stdout).not.toContain(PIN);
  });

  /** Starts `c8ytoken proxy` on a free loopback port; resolves with it once it listens. */
  async function startProxy(url: string, cert: string, extra: string[], spy: string): Promise<Child & { port: number }> {
    const p = start(['proxy', '--json', '--listen', '127.0.0.1:0', '--url', url, '--proxy', 'none', ...identity(cert), ...extra], tokenEnv(spy));
    await p.until((o) => events(o).some((x) => x.event === 'listening'), 'the proxy to listen');
    const address = String(events(p.out()).find((x) => x.event === 'listening')!.address);
    return { ...p, port: Number(address.split(':').at(-1)) };
  }

  it('proxy (token mode): a REST request goes to the platform with the token the key in the token got', { timeout: 60_000 }, async () => {
    const e = await endpoint({ clientCheck: 'http' });
    const cert = token.certify('device-ec', 'p11-proxy', join(dir, 'proxy.chain.pem'));
    const p = await startProxy(e.url, cert, [], join(dir, 'proxy-spy.log'));
    for (const path of ['/inventory/managedObjects', '/c8y/inventory/managedObjects?pageSize=1']) {
      const a = await get(p.port, path);
      expect(a.status).toBe(200);
      expect((JSON.parse(a.body) as { caller: string }).caller).toBe('device_p11-proxy');
    }
    expect(e.requests.filter((r) => r.path.startsWith('/devicecontrol/deviceAccessToken')).map((r) => r.handshakeChain[0])).toEqual(['p11-proxy']);
    p.child.kill('SIGTERM');
    expect(await p.closed).toBe(143);
    expect(p.out() + p.err()).not.toContain(PIN);
  });

  it('proxy --upstream-auth mtls: every connection of the upstream pool presents the key in the token', { timeout: 60_000 }, async () => {
    const e = await endpoint({ clientCheck: 'http' });
    const cert = token.certify('device-ec', 'p11-mtls', join(dir, 'mtls.chain.pem'));
    const spy = join(dir, 'mtls-spy.log');
    const p = await startProxy(e.url, cert, ['--upstream-auth', 'mtls'], spy);
    // Requests at once: the pool opens several connections, each a handshake of its own.
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => get(p.port, `/inventory/managedObjects?n=${i}`)));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect((JSON.parse(a.body) as { caller: string }).caller).toBe('mtls');
    }
    const rest = e.requests.filter((r) => r.path.startsWith('/inventory/'));
    expect(rest).toHaveLength(6);
    for (const r of rest) expect(r).toMatchObject({ authorization: false, clientCn: 'p11-mtls' });
    p.child.kill('SIGTERM');
    expect(await p.closed).toBe(143);
    const signatures = spyCalls(spy).get('C_Sign') ?? 0;
    // One proof at start, then one signature per upstream handshake: more than one connection was opened.
    expect(signatures).toBeGreaterThanOrEqual(3);
    expect(signatures).toBeLessThanOrEqual(1 + 6);
    expect(e.requests.filter((r) => r.path.startsWith('/devicecontrol/'))).toHaveLength(0);
    expect(p.out() + p.err()).not.toContain(PIN);
  });
});
