/**
 * One date form in everything people read (issue 17): ISO 8601 UTC to the second, `2027-12-07T03:31:42Z`.
 * Runs the commands whose human outputs carry dates (verify-chain, doctor, inspect, fetch, cert renew and
 * enroll errors, with --verbose so progress lines count too) and scans stdout and stderr for milliseconds
 * (`.000Z`) and OpenSSL's `Dec  7 03:31:32 2027 GMT`; each output must show at least one date, so the
 * scan never passes on an output that has none.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir, type CliRun } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki, RSA_DEVICE } from '../helpers/paths.js';

const MILLISECONDS = /\d\d:\d\d:\d\d\.\d{3}Z/;
const OPENSSL_DATE = /\b[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \d{4}( GMT)?\b/;
const ISO_SECONDS = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/;

/**
 * Asserts the run's human output shows dates, all in the one form. With --verbose an error is followed by
 * its cause for a bug report (`  cause: …` and a stack): the raw facts as `--json` details carry them, so
 * that dump is left out of the scan.
 */
function oneDateForm(run: CliRun, what: string): void {
  const text = run.stdout + run.stderr.replace(/^ {2}cause: [^]*$/m, '');
  expect(text, `${what}: shows a date`).toMatch(ISO_SECONDS);
  expect(text, `${what}: no milliseconds`).not.toMatch(MILLISECONDS);
  expect(text, `${what}: no OpenSSL date`).not.toMatch(OPENSSL_DATE);
}

let plain: Emulator;
let est: Emulator;
beforeAll(async () => {
  plain = await new Emulator().start();
  est = await new Emulator({ est: true }).start();
  est.est!.validityDays = 100 * 365;
});
afterAll(async () => {
  await plain.stop();
  await est.stop();
});

const env = { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit', LANG: 'C.UTF-8' };
const creds = () => ['--url', plain.url, ...RSA_DEVICE];
const expired = () => ['--url', plain.url, '--truststore', pki('truststore.pem'), '--cert', pki('device-expired.chain.pem'), '--key', pki('device-expired.key')];

describe('one date form in human output', () => {
  it('verify-chain: the checklist, the validity rows, the progress line, an expired certificate refused with --connect', async () => {
    oneDateForm(await runMain(['verify-chain', '-v', '--keystore', pki('device-ec256.jks'), '--device-ca', pki('device-root-ca.crt')], { env }), 'verify-chain');
    const refused = await runMain(['verify-chain', '-v', '--connect', ...expired()], { env });
    expect(refused.stdout).toMatch(/expired on 2021-12-31T23:59:59Z/);
    oneDateForm(refused, 'verify-chain --connect (expired)');
  });

  it('doctor: a good setup and an expired certificate', async () => {
    oneDateForm(await runMain(['doctor', '-v', ...creds(), '--device-ca', pki('device-root-ca.crt')], { env }), 'doctor');
    oneDateForm(await runMain(['doctor', '-v', ...expired()], { env }), 'doctor (expired)');
  });

  it('fetch and inspect: the summary line and the explained token', async () => {
    const dir = tempDir('c8ytoken-dates-');
    const file = join(dir, 'token');
    const fetched = await runMain(['fetch', '-v', ...creds(), '-o', file], { env });
    expect(fetched.code).toBe(0);
    oneDateForm(fetched, 'fetch');
    oneDateForm(await runMain(['inspect', file], { env }), 'inspect');
  });

  it('cert renew: a shorter certificate refused (the verbose "issued" line and the error) and a pending answer', async () => {
    const dir = tempDir('c8ytoken-dates-');
    const [c, k] = [join(dir, 'd.pem'), join(dir, 'd.key')];
    copyFileSync(pki('device-ec256.chain.pem'), c);
    copyFileSync(pki('device-ec256.key'), k);
    const renew = (extra: string[]) => runMain(['cert', 'renew', '-v', '--url', est.url, '--truststore', pki('server-ca.crt'), '--cert', c, '--key', k, ...extra], { env });
    est.est!.validityDays = 365;
    try {
      const shorter = await renew([]);
      expect(shorter.code).toBe(8);
      expect(shorter.stderr).toMatch(/issued: .*valid until \d{4}/);
      oneDateForm(shorter, 'cert renew (shorter)');
    } finally {
      est.est!.validityDays = 100 * 365;
    }
    est.est!.fault = 'http202';
    est.est!.faultCount = 1;
    try {
      const pending = await renew(['--timeout', '900ms']);
      expect(pending.code).toBe(8);
      oneDateForm(pending, 'cert renew (pending)');
    } finally {
      est.est!.fault = undefined;
      est.est!.faultCount = Infinity;
    }
  });

  it('cert enroll: a minutes-long certificate refused', async () => {
    est.registerEnrollment('dates-short-lived', 'Otp-dates-12345');
    est.est!.fault = 'short-lived';
    est.est!.faultCount = 1;
    try {
      const dir = tempDir('c8ytoken-dates-');
      const otp = join(dir, 'otp.txt');
      writeFileSync(otp, 'Otp-dates-12345\n', { mode: 0o600 });
      const run = await runMain(
        [
          'cert',
          'enroll',
          '-v',
          '--url',
          est.url,
          '--truststore',
          pki('server-ca.crt'),
          '--device-id',
          'dates-short-lived',
          '--one-time-password-file',
          otp,
          '--cert',
          join(dir, 'd.pem'),
          '--key',
          join(dir, 'd.key'),
        ],
        { env },
      );
      expect(run.code).toBe(8);
      expect(run.stderr).toMatch(/valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\) that/);
      oneDateForm(run, 'cert enroll (short-lived)');
    } finally {
      est.est!.fault = undefined;
      est.est!.faultCount = Infinity;
    }
  });
});
