/**
 * What a hostile or misconfigured server can put in front of the user, and clocks that disagree:
 * platform text is stripped of control characters and capped, claims cannot inject shell code, and
 * token decisions follow the platform's clock (estimated from its Date header), with a warning.
 */
import { existsSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/server.js';
import { startSpinner } from '../../src/output/terminal.js';
import { tempDir } from '../helpers/cli.js';
import { runMain, type MainOptions } from '../helpers/main.js';
import { pki, RSA_DEVICE } from '../helpers/paths.js';
import { localEndpoints } from '../helpers/endpoints.js';

const endpoint = localEndpoints();

const fetch = (e: Emulator, args: string[] = [], options: MainOptions = {}) => runMain(['fetch', '--url', e.url, ...RSA_DEVICE, ...args], options);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

describe('text from the platform', () => {
  it('an error message of 600 KiB with escape sequences is shown short and clean', async () => {
    const e = await endpoint();
    e.fault = 'huge-error';
    const run = await fetch(e);
    expect(run.code).toBe(7);
    expect(run.stderr.length).toBeLessThan(2000);
    expect(run.stderr).not.toMatch(CONTROL);
  });

  it('claims with escape sequences reach neither the summary nor inspect raw', async () => {
    const e = await endpoint();
    e.fault = 'hostile-claims';
    const run = await fetch(e);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(CONTROL);
    const inspected = await runMain(['inspect', run.stdout.trim()]);
    expect(inspected.stdout).toMatch(/note: \?\]0;owned\?/);
    expect(inspected.stdout).not.toMatch(CONTROL);
  });

  it('--format env --shell powershell escapes every quote PowerShell ends a string at', async () => {
    const e = await endpoint();
    e.fault = 'hostile-claims';
    const run = await fetch(e, ['--format', 'env', '--shell', 'powershell']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("$env:C8Y_TENANT = 't1\u2018\u2018; Remove-Item -Recurse ~ #'''");
  });

  it('claims nested 10,000 deep from the platform: a clear error (exit 8), never a stack overflow', async () => {
    const e = await endpoint();
    e.fault = 'deep-claims';
    const file = join(tempDir(), 'token');
    const run = await fetch(e, ['--format', 'json', '-o', file]);
    expect(run.code).toBe(8);
    expect(run.stderr).toMatch(/NO_TOKEN/);
    expect(existsSync(file)).toBe(false);
  });

  it('a claim with control characters is never put into a shell: exit 8', async () => {
    const e = await endpoint();
    e.fault = 'control-claims';
    const run = await fetch(e, ['--format', 'env']);
    expect(run.code).toBe(8);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/C8Y_TENANT holds control characters/);
  });

  it("a device user (sub) with ESC, BEL and CR reaches neither doctor's report nor watch's log raw, with or without colour", async () => {
    const e = await endpoint();
    e.fault = 'control-sub';
    const creds = ['--url', e.url, ...RSA_DEVICE];
    // eslint-disable-next-line no-control-regex
    const raw = /[\u0007\r]|\u001b(?!\[[0-9;]*m)/;
    for (const env of [{}, { FORCE_COLOR: '1' }] as Record<string, string>[]) {
      const doctor = await runMain(['doctor', ...creds], { env });
      expect(doctor.stdout).toMatch(/a token for device_\S+\?\[31m\?\?/);
      const watch = await runMain(['watch', '--once', '-o', join(tempDir(), 'token'), ...creds], { env });
      expect(watch.stderr).toMatch(/new token, written for device_\S+\?\[31m\?\?, expires/);
      for (const text of [doctor.stdout, doctor.stderr, watch.stdout, watch.stderr]) {
        expect(text).not.toMatch(raw);
        // Not even as a colour: the claim's own escape is gone whatever colours we add.
        expect(text).not.toContain('\u001b[31m\u0007');
      }
    }
  });

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 is ignored, and said so; NODE_EXTRA_CA_CERTS is named in --verbose', async () => {
    const e = await endpoint();
    const insecure = await runMain(['fetch', '--url', e.url, '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '-v'], {
      env: { NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_EXTRA_CA_CERTS: '/etc/extra-ca.pem' },
    });
    expect(insecure.code).toBe(6); // the server is still verified (no truststore: built-in roots)
    expect(insecure.stderr).toMatch(/NODE_TLS_REJECT_UNAUTHORIZED=0 is ignored/);
    expect(insecure.stderr).toMatch(/trust: Node's built-in root CAs, extended by NODE_EXTRA_CA_CERTS=\/etc\/extra-ca\.pem/);
  });
});

describe("the platform's clock decides", () => {
  const HOUR = 3_600_000;

  it('a device 1 h ahead: fetch writes the token (not "expired"), exits 0 and names the offset', async () => {
    const e = await endpoint({ now: () => Date.now() - HOUR });
    const file = join(tempDir(), 'token');
    const run = await fetch(e, ['-o', file]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/this device's clock is 1 h ahead of the platform's \(from the Date header\).*NTP/);
    expect(readFileSync(file, 'utf8')).toMatch(/^eyJ/);
    // The file's time is when the token was issued on this device's clock.
    expect(Math.abs(statSync(file).mtimeMs - Date.now())).toBeLessThan(5_000);
  });

  it('a device 1 h behind: the cached token is not reused past its half-life on the platform clock', async () => {
    const e = await endpoint({ now: () => Date.now() + HOUR });
    const file = join(tempDir(), 'token');
    expect((await fetch(e, ['-o', file])).stderr).toMatch(/1 h behind the platform's/);
    expect((await fetch(e, ['-o', file])).stderr).toMatch(/Reused/);
    // 40 minutes later on this device: by its own clock the token (iat = now + 1 h) is fresh; by its
    // age (the file's time) it is past the half-life.
    const later = Date.now() + 40 * 60_000;
    const run = await fetch(e, ['-o', file], { now: () => later });
    expect(run.stderr).not.toMatch(/Reused/);
    expect(run.stderr).toMatch(/by its age on this device/);
  });

  it('a token file whose time was changed by a copy is not trusted beyond its claims', async () => {
    const e = await endpoint();
    const file = join(tempDir(), 'token');
    await fetch(e, ['-o', file]);
    utimesSync(file, new Date(), new Date(Date.now() - 45 * 60_000));
    expect((await fetch(e, ['-o', file])).stderr).not.toMatch(/Reused/);
  });
});

describe('the spinner', () => {
  it('does not run on a terminal that reports zero columns (it would redraw forever)', async () => {
    let written = 0;
    const stream = Object.assign(new (await import('node:stream')).Writable({ write: (_c, _e, cb) => (written++, cb()) }), { isTTY: true, columns: 0 });
    const spinner = await startSpinner('x', stream, { quiet: false, json: false, verbose: false, color: false });
    spinner.update('step');
    await new Promise((r) => setTimeout(r, 250));
    spinner.stop();
    expect(written).toBe(0);
  });
});
