/** End to end: the built `c8ytoken inspect` with argument, file and stdin input, and --check exit codes. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
function token(claims: Record<string, unknown>): string {
  return `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64(claims)}.c2lnbmF0dXJlLXNlY3JldA`;
}
const device = (iatOffset: number, lifetime = 3600): Record<string, unknown> => ({
  jti: null,
  iss: 't12345.eu-latest.cumulocity.com',
  aud: 't12345.eu-latest.cumulocity.com',
  sub: 'device_rsa-device-001',
  tci: 'device_token_config',
  iat: now + iatOffset,
  nbf: now + iatOffset,
  exp: now + iatOffset + lifetime,
  tfa: false,
  ten: 't12345',
  xsrfToken: 'xsrf-secret-value',
});

describe('inspect', () => {
  it('explains a token given as argument, masking secrets', async () => {
    const run = await runMain(['inspect', token(device(-600))]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Status:\s+valid, expires in (49|50) min/);
    expect(run.stdout).toMatch(/Tenant:\s+t12345/);
    expect(run.stdout).toMatch(/Device user:\s+device_rsa-device-001/);
    expect(run.stdout).toMatch(/device access token \(tci device_token_config\)/);
    expect(run.stdout).toMatch(/Refresh after:.*\(in (19|20) min\)/);
    expect(run.stdout).toMatch(/signature not verified/);
    expect(run.stdout).toMatch(/alg RS256, typ JWT, kid k1/);
    expect(run.stdout).not.toContain('xsrf-secret-value');
    expect(run.stdout).not.toContain('c2lnbmF0dXJlLXNlY3JldA');
    expect(run.stdout).not.toContain('\u001b['); // NO_COLOR
    const shown = await runMain(['inspect', '--show-secrets', token(device(-600))]);
    expect(shown.stdout).toContain('xsrf-secret-value');
  });

  it('reads a token file written by fetch (no newline) and stdin, with "Bearer " tolerated', async () => {
    const file = join(tempDir(), 'token');
    writeFileSync(file, token(device(0)));
    const fromFile = await runMain(['inspect', file]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toMatch(/Tenant:\s+t12345/);
    const dash = await runMain(['inspect', '-'], { input: `Authorization: Bearer ${token(device(0))}\n` });
    expect(dash.stdout).toMatch(/Tenant:\s+t12345/);
    const piped = await runMain(['inspect'], { input: `${token(device(0))}\n` });
    expect(piped.stdout).toMatch(/Tenant:\s+t12345/);
  });

  it('--json gives header, claims and derived fields', async () => {
    const run = await runMain(['inspect', '--json', token(device(-600))]);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    expect((out.claims as Record<string, unknown>).ten).toBe('t12345');
    expect((out.claims as Record<string, unknown>).xsrfToken).toBe('(masked)');
    expect(out.status).toBe('valid');
    expect(out.lifetimeSeconds).toBe(3600);
    expect(out.expiresInSeconds).toBeGreaterThan(2990);
    expect(out.refreshAfter).toBe(new Date((now - 600 + 1800) * 1000).toISOString());
    for (const k of ['issuedAt', 'notBefore', 'expiresAt']) expect(out[k]).toMatch(/Z$/);
  });

  it('--check exits 0 valid, 1 expired, not yet valid or expiring within the window; -q prints nothing', async () => {
    expect((await runMain(['inspect', '--check', token(device(-600))])).code).toBe(0);
    const expired = await runMain(['inspect', '--check', token(device(-7200))]);
    expect(expired.code).toBe(1);
    expect(expired.stdout).toMatch(/EXPIRED 1 h ago/);
    expect((await runMain(['inspect', '--check', token(device(600))])).code).toBe(1);
    const soon = await runMain(['inspect', '--check', '-q', '--expires-within', '1h30m', token(device(-600))]);
    expect(soon.code).toBe(1);
    expect(soon.stdout).toBe('');
    expect((await runMain(['inspect', '--check', '--expires-within', '5m', token(device(-600))])).code).toBe(0);
    expect((await runMain(['inspect', '--check', '--expires-within', 'soon', token(device(0))])).code).toBe(2);
  });

  it('decodes odd claims without crashing and says what could not be worked out', async () => {
    const odd = await runMain(['inspect', '--check', token({ sub: 'x', exp: 'tomorrow', iat: 1.5e300, nbf: '1700000000' })]);
    expect(odd.stdout).toMatch(/exp is not a usable date \("tomorrow"\)/);
    expect(odd.stdout).toMatch(/Status:\s+unknown/);
    expect(odd.code).toBe(1);
    const noExp = await runMain(['inspect', token({ sub: 'x' })]);
    expect(noExp.stdout).toMatch(/exp is missing/);
    expect(noExp.code).toBe(0);
  });

  it('refuses what is not a token with exit 4', async () => {
    const garbage = await runMain(['inspect', 'not-a-token-or-file']);
    expect(garbage.stderr).toMatch(/neither a readable file nor a JWT/);
    expect(garbage.code).toBe(4);
    const bad = await runMain(['inspect', `${b64({ alg: 'RS256' })}.bad!.x`]);
    expect(bad.stderr).toMatch(/not a JWT: a part is not base64url text/);
    expect(bad.code).toBe(4);
    const empty = await runMain(['inspect', '-'], { input: '\n' });
    expect(empty.stderr).toMatch(/not a JWT: it is empty/);
    expect(empty.code).toBe(4);
  });
});
