import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainHeaderValue } from '../../src/core/platform/chain-header.js';
import { chainHeaderPems } from '../emulator/server.js';
import { formatDuration, formatRelative, parseDuration } from '../../src/core/time/duration.js';
import { tenantUrl, tokenEndpoint } from '../../src/core/platform/endpoint.js';
import { ExitCode, exitCodeFor, isRetryable } from '../../src/core/errors.js';
import { exportLine } from '../../src/output/shell.js';
import { bodyExcerpt, errorFromResponse } from '../../src/core/platform/token-response.js';
import { codeOf } from '../helpers/errors.js';
import { pki } from '../helpers/paths.js';

describe('tokenEndpoint', () => {
  const endpoint = (text: string): URL => tokenEndpoint(tenantUrl(text, 'x'));
  it('uses port 8443 unless the URL names one', () => {
    expect(endpoint('https://t12345.eu-latest.cumulocity.com').href).toBe('https://t12345.eu-latest.cumulocity.com:8443/devicecontrol/deviceAccessToken');
    expect(endpoint('t12345.eu-latest.cumulocity.com').port).toBe('8443');
    expect(endpoint('https://edge.local:9443/some/path').href).toBe('https://edge.local:9443/devicecontrol/deviceAccessToken');
    expect(endpoint('https://[::1]').href).toBe('https://[::1]:8443/devicecontrol/deviceAccessToken');
  });
  it('keeps the tenant URL as given: a port only when the user named one', () => {
    expect(tenantUrl('t1.example', 'x').origin).toBe('https://t1.example');
    expect(tenantUrl('https://t1.example:9443/x', 'x').origin).toBe('https://t1.example:9443');
  });
  it('refuses what cannot carry mutual TLS, and never repeats credentials', async () => {
    expect(await codeOf(() => tenantUrl('http://t1.example', 'x'))).toBe('BAD_URL');
    expect(await codeOf(() => tenantUrl('https://', 'x'))).toBe('BAD_URL');
    const { caught } = await import('../helpers/errors.js');
    const err = await caught(() => tenantUrl('https://user:pw@t1.example', 'x'));
    expect(err.code).toBe('BAD_URL');
    expect(JSON.stringify(err.facts)).not.toContain('pw');
    // Nor when the URL does not parse at all (a port out of range, a bad host).
    for (const bad of ['https://user:S3CRET@host:99999', 'user:S3CRET@[host', 'https://a:S3CRET@b@c:x']) {
      const unparsed = await caught(() => tenantUrl(bad, 'x'));
      expect(unparsed.code).toBe('BAD_URL');
      expect(JSON.stringify(unparsed.facts)).not.toContain('S3CRET');
    }
  });
});

const hasOpenssl = !spawnSync('openssl', ['version'], { stdio: 'ignore' }).error;

describe('X-Ssl-Cert-Chain', () => {
  const chain = [new X509Certificate(readFileSync(pki('device-rsa.crt'))), new X509Certificate(readFileSync(pki('device-intermediate-ca.crt')))];
  it('carries the certificates after the leaf, on one line, and a server restores them', () => {
    const value = chainHeaderValue(chain, 'auto')!;
    expect(value).not.toMatch(/[\r\n]/);
    expect(value).toMatch(/^-----BEGIN CERTIFICATE----- MII\S+ .* -----END CERTIFICATE-----$/);
    const back = chainHeaderPems(value);
    expect(back).toHaveLength(1);
    expect(new X509Certificate(back[0]!).fingerprint256).toBe(chain[1]!.fingerprint256);
  });
  it.skipIf(!hasOpenssl)('is read by OpenSSL once its spaces are newlines again (skipped: no openssl on PATH)', () => {
    // The oracle is OpenSSL's PEM reader, fed what a server that undoes the one-line form would have.
    const value = chainHeaderValue(chain, 'full')!;
    const restored = value.replace(/ /g, '\n').replace(/-----(BEGIN|END)\nCERTIFICATE-----/g, '-----$1 CERTIFICATE-----');
    const file = join(mkdtempSync(join(tmpdir(), 'c8ytoken-chain-')), 'chain.pem');
    writeFileSync(file, restored);
    const run = spawnSync('openssl', ['crl2pkcs7', '-nocrl', '-certfile', file], { encoding: 'utf8' });
    rmSync(dirname(file), { recursive: true });
    expect(run.status, run.stderr).toBe(0);
    const listed = spawnSync('openssl', ['pkcs7', '-print_certs', '-noout'], { input: run.stdout, encoding: 'utf8' });
    expect(listed.stdout.match(/^subject=/gm)).toHaveLength(2);
  });
  it('has no value for none, or when there is nothing after the leaf', () => {
    expect(chainHeaderValue(chain, 'none')).toBeUndefined();
    expect(chainHeaderValue(chain.slice(0, 1), 'auto')).toBeUndefined();
    expect(chainHeaderPems(chainHeaderValue(chain, 'full')!)).toHaveLength(2);
  });
});

describe('durations', () => {
  it('parses what people write', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration(12)).toBe(12_000);
    for (const bad of ['', 'soon', '5 minutes', '1h30', '-5s', 'm5']) expect(parseDuration(bad)).toBeUndefined();
  });
  it('formats relative times', () => {
    expect(formatDuration(42 * 60_000)).toBe('42 min');
    expect(formatDuration(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(formatRelative(10_000 + 42 * 60_000, 10_000)).toBe('in 42 min');
    expect(formatRelative(0, 3 * 3_600_000)).toBe('3 h ago');
  });
});

describe('shell export lines', () => {
  it('quote values so nothing breaks out', () => {
    expect(exportLine('bash', 'X', "a'b")).toBe(`export X='a'\\''b'`);
    // PowerShell ends single-quoted strings at U+2018-U+201B too, and doubles each to escape it.
    expect(exportLine('powershell', 'X', 'a\u2018b\u2019c\u201ad\u201be')).toBe(`$env:X = 'a\u2018\u2018b\u2019\u2019c\u201a\u201ad\u201b\u201be'`);
    expect(exportLine('fish', 'X', "a'b\\")).toBe(`set -gx X 'a\\'b\\\\'`);
    expect(exportLine('powershell', 'X', "a'b")).toBe(`$env:X = 'a''b'`);
  });
});

describe('platform answers', () => {
  const url = new URL('https://t1.example:8443/devicecontrol/deviceAccessToken');
  const res = (status: number, body: string, contentType = 'application/json') => ({ status, contentType, body: Buffer.from(body), receivedAt: 0 });
  it('carry the platform error and message', () => {
    const err = errorFromResponse(res(401, JSON.stringify({ error: 'security/Unauthorized', message: 'Invalid certificate chain!', info: 'https://x' })), url);
    expect(err.code).toBe('PLATFORM_UNAUTHORIZED');
    expect(err.facts).toHaveProperty('platform', { error: 'security/Unauthorized', message: 'Invalid certificate chain!', info: 'https://x' });
  });
  it('reduce HTML to a readable excerpt', () => {
    expect(bodyExcerpt(Buffer.from('<html><head><title>400 The SSL certificate error</title></head><body>...</body></html>'))).toBe('400 The SSL certificate error');
    expect(bodyExcerpt(Buffer.from('<p>' + 'x'.repeat(500) + '</p>')).length).toBeLessThanOrEqual(160);
    expect(bodyExcerpt(Buffer.from([0x01, 0x41]))).toBe('?A');
  });
  it('map other statuses to their class', () => {
    expect(errorFromResponse(res(418, ''), url).exitCode).toBe(ExitCode.platformRefused);
    expect(errorFromResponse(res(502, '<html>bad gateway</html>'), url).code).toBe('PLATFORM_ERROR');
  });
});

describe('exit codes', () => {
  it('follow the table in design.md', () => {
    expect(exitCodeFor('USAGE')).toBe(2);
    expect(exitCodeFor('NO_URL')).toBe(3);
    expect(exitCodeFor('WRONG_PASSWORD')).toBe(4);
    expect(exitCodeFor('TIMEOUT')).toBe(5);
    expect(exitCodeFor('CLIENT_CERT_REJECTED')).toBe(6);
    expect(exitCodeFor('PLATFORM_FEATURE_DISABLED')).toBe(7);
    expect(exitCodeFor('PLATFORM_BUSY')).toBe(8);
    expect(exitCodeFor('OUTPUT_UNWRITABLE')).toBe(9);
    expect(exitCodeFor('INTERRUPTED')).toBe(130);
    expect(isRetryable('PLATFORM_ERROR')).toBe(true);
    expect(isRetryable('PLATFORM_UNAUTHORIZED')).toBe(false);
  });
});

describe('pemCertificateCn', () => {
  it('reads the subject CN as Node does, without OpenSSL', async () => {
    const { pemCertificateCn, commonName } = await import('../../src/core/x509/names.js');
    for (const name of ['device-rsa.chain.pem', 'device-ec384.crt', 'device-selfsigned.crt', 'bad/v1.chain.pem']) {
      const text = readFileSync(pki(name), 'utf8');
      expect(pemCertificateCn(text)).toBe(commonName(new X509Certificate(text).subject));
    }
    expect(pemCertificateCn('no certificate here')).toBeUndefined();
  });
});

describe('nameKey (RFC 5280 7.1 name matching)', () => {
  it('matches names that differ in string type, case and whitespace, and not names that differ', async () => {
    const { nameKey } = await import('../../src/core/x509/names.js');
    const { certDetails } = await import('../../src/core/x509/certificate.js');
    const subject = (name: string) => certDetails(new X509Certificate(readFileSync(pki(`names/${name}.crt`)))).subjectDer;
    const issuer = certDetails(new X509Certificate(readFileSync(pki('names/device.crt')))).issuerDer;
    for (const v of ['printable', 'case', 'spaces']) expect(nameKey(subject(`ca-${v}`))).toBe(nameKey(issuer));
    expect(nameKey(subject('ca-different'))).not.toBe(nameKey(issuer));
    expect(subject('ca-printable').equals(issuer)).toBe(false); // the bytes do differ
  });
});
