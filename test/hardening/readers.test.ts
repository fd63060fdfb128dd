/**
 * Hostile files (fixtures/hostile.mjs) against the readers: work and memory are bounded by the
 * program's limits, never by numbers in the file, and every one is a clear error naming the file
 * (exit 4), never an internal error. Each sample stands for a class the hardening review found.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as hostile from '../../fixtures/hostile.mjs';
import { openKeystore } from '../../src/core/keystore/open.js';
import { LIMITS } from '../../src/core/limits.js';
import { tempDir } from '../helpers/cli.js';
import { caught } from '../helpers/errors.js';
import { runMain } from '../helpers/main.js';
import { bin, pki, root } from '../helpers/paths.js';

const dir = tempDir('hostile-');
const file = (name: string, data: Buffer | string): string => {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
};
const open = (path: string, password: string | null = 'changeit') => openKeystore(path, { password, role: 'keystore', warn: () => undefined });
const fetch = (args: string[]) => runMain(['fetch', '--url', 'https://127.0.0.1:9', '--timeout', '2s', ...args], { env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' } });

describe('PKCS#12: numbers from the file are checked before any work', () => {
  it('refuses 2^31-1 MAC iterations, naming the file and the limit', async () => {
    const err = await caught(open(file('mac.p12', hostile.p12WithMacIterations(2 ** 31 - 1))), 'INPUT_LIMIT');
    expect(err.facts).toMatchObject({ actual: 2 ** 31 - 1, limit: LIMITS.kdfIterations, unit: 'iterations' });
    expect(err.facts.path).toContain('mac.p12');
  });

  it('refuses a huge PBE iteration count in a file without MAC (no password check comes first)', async () => {
    const err = await caught(open(file('nomac.p12', hostile.p12WithoutMacPbeIterations(2 ** 31 - 1))));
    expect(err.code).toBe('INPUT_LIMIT');
    expect(err.exitCode).toBe(4);
  });

  it('refuses a file whose declared derivations exceed LIMITS.kdfWork in all before the first one runs', async () => {
    // Ten sections and a MAC, each of 600,000 iterations (a count GnuTLS writes): the total is the attack.
    const err = await caught(open(file('declared.p12', hostile.p12DeclaringDerivations(10, LIMITS.kdfIterations))));
    expect(err.code).toBe('INPUT_LIMIT');
    // The whole declared total (not the part reached while deriving): nothing was derived first.
    expect(err.facts).toMatchObject({ what: 'its key derivations in all', actual: 11 * LIMITS.kdfIterations + 2048, limit: LIMITS.kdfWork });
  });

  it('admits the declared work of a GnuTLS keystore with a chain of five certificates (a MAC, a key and a section per certificate, each 600,000)', async () => {
    // Seven counts of 600,000 (the key of the sample has 2,048). The MAC no longer matches after the counts
    // were changed: the work is admitted, then the password check fails.
    const err = await caught(open(file('gnutls-like.p12', hostile.p12DeclaringDerivations(6, 600_000))));
    expect(err.code).toBe('WRONG_PASSWORD');
  });

  it('refuses a MAC value that is not one HMAC output', async () => {
    const err = await caught(open(file('macvalue.p12', hostile.p12WithMacValue(4096))), 'KEYSTORE_CORRUPT');
    expect(err.facts.reason).toMatch(/MAC value of 4096 bytes/);
  });

  it('stops at LIMITS.derElements elements instead of building the whole tree', async () => {
    const err = await caught(open(file('nulls.p12', hostile.p12OfNulls(LIMITS.derElements * 2))), 'KEYSTORE_CORRUPT');
    expect(err.facts.reason).toMatch(/more than 20000 ASN.1 elements/);
  });

  it('refuses a keystore over the size limit before reading it', async () => {
    const path = join(dir, 'big.p12');
    hostile.writeSparse(path, LIMITS.keystoreBytes + 1);
    const err = await caught(open(path));
    expect(err.code).toBe('FILE_TOO_LARGE');
    expect(err.facts).toMatchObject({ limit: LIMITS.keystoreBytes, role: 'keystore' });
  });
});

// The slowest file the limits admit: every count at 600,000, all of it in the PKCS#12 KDF on the main
// thread: a SHA-512 MAC (one crypto.hash() a round, about 0.7 s here) and 3DES certificates and key (a 3DES
// key is two SHA-1 blocks; SHA-1 rounds run in WebAssembly, ADR 0010), 4.2 million rounds. Committed
// (fixtures/regenerate-slowest-keystore.sh): OpenSSL takes half a second of CPU to write it.
describe.skipIf(process.platform === 'win32')('the slowest keystore within the limits', () => {
  it('is interruptible: SIGTERM in the middle of its key derivations ends the process with 143 within a second', async () => {
    const slow = join(root, 'fixtures', 'slowest-keystore', 'device-rsa.p12');
    const child = spawn(process.execPath, [bin, '--verbose', 'verify-chain', '--keystore', slow], { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' } });
    let sent = 0;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      // A tenth of a second after the settings were read: in the MAC's derivation, which comes first and
      // takes several times that even on a machine twice as fast as this one.
      if (sent === 0 && d.includes('c8ytoken: config:')) {
        sent = -1;
        setTimeout(() => {
          sent = Date.now();
          child.kill('SIGTERM');
        }, 100);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(143);
    expect(Date.now() - sent).toBeLessThan(1000);
  });
});

describe('JKS: counts from the file are checked', () => {
  it('refuses a declared entry count over the limit at once', async () => {
    const err = await caught(open(file('many.jks', hostile.jksDeclaring(200_000))));
    expect(err.code).toBe('INPUT_LIMIT');
    expect(err.facts).toMatchObject({ actual: 200_000, limit: LIMITS.keystoreEntries });
  });

  it('a truststore of a few bytes starting like DER is a damaged keystore (exit 4), not an internal error', async () => {
    for (const bytes of [[0x30], [0x30, 0x01], [0x30, 0x82, 0x01]]) {
      const run = await fetch(['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--truststore', file('short.trust', Buffer.from(bytes))]);
      expect(run.code).toBe(4);
      expect(run.stderr).not.toMatch(/internal error/);
    }
  });

  it('reads a real truststore of a few hundred entries', async () => {
    const store = await open(file('trust300.jks', hostile.jksWithTrustedEntries(300)));
    expect(store.trusted).toHaveLength(300);
  });
});

describe('certificates: path building is bounded in signature checks', () => {
  it('fetch stops ordering a pool of same-named CAs after LIMITS.signatureChecks checks, with a clear error', async () => {
    const run = await fetch(['--cert', file('pool.pem', hostile.sameNamedPool(120, true)), '--key', pki('device-rsa.key')]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/needs more than 100 signature checks/);
    expect(run.stderr).not.toMatch(/internal error/);
  });

  it('verify-chain reports the bound as a failed path check', async () => {
    const run = await runMain(['verify-chain', '--cert', file('pool2.pem', hostile.sameNamedPool(120, true)), '--json']);
    expect(run.code).toBe(1);
    const path = (JSON.parse(run.stdout) as { checks: { id: string; verdict: string; problems: string[] }[] }).checks.find((c) => c.id === 'path')!;
    expect(path.verdict).toBe('fail');
    expect(path.problems.join()).toMatch(/stopped after 100 signature checks/);
  });

  it('refuses more certificates in one file than LIMITS.certificatesPerFile', async () => {
    const { readFileSync } = await import('node:fs');
    const run = await runMain(['verify-chain', '--cert', file('pool3.pem', readFileSync(pki('device-intermediate-ca.crt'), 'utf8').repeat(LIMITS.certificatesPerFile + 1))]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/INPUT_LIMIT/);
  });

  it('scans PEM text with many unmatched BEGIN lines in one pass', async () => {
    const run = await runMain(['verify-chain', '--cert', file('begins.pem', hostile.unmatchedBegins(50_000))]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/holds no certificate/);
  });
});

describe('credentials too weak to send are a local problem (exit 4), the same on every Node version', () => {
  it('a 512-bit RSA key', async () => {
    const weak = hostile.rsa512Identity();
    const run = await fetch(['--cert', file('rsa512.crt', weak.cert), '--key', file('rsa512.key', weak.key)]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/too weak to send \(the device key is RSA 512 bits, under 2048\)/);
  });

  it('a certificate signed with MD5', async () => {
    const md5 = hostile.md5Identity();
    const run = await fetch(['--cert', file('md5.crt', md5.cert), '--key', file('md5.key', md5.key)]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/too weak to send \("CN=md5-device" is signed with MD5\)/);
  });
});

describe('tokens: bounded in size and depth', () => {
  it('inspect refuses claims nested 10,000 deep with exit 4, in text and JSON', async () => {
    const path = file('deep.jwt', hostile.deepJwt(10_000));
    for (const args of [
      ['inspect', path],
      ['inspect', '--json', path],
    ]) {
      const run = await runMain(args);
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(/nested deeper than any token/);
    }
  });

  it('inspect refuses a token file over the limit without reading it', async () => {
    const path = join(dir, 'huge.token');
    hostile.writeSparse(path, 200 * 1024 * 1024);
    const run = await runMain(['inspect', path]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/is 200 MiB; c8ytoken reads at most 1 MiB for a token/);
  });

  it.skipIf(process.platform === 'win32')('reads only regular files: a FIFO given as keystore or token is refused at once', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect((await caught(open(fifo), 'FILE_UNREADABLE')).facts.reason).toMatch(/not a regular file \(a FIFO\)/);
    const run = await runMain(['inspect', fifo]);
    expect(run.code).toBe(4);
  });
});
