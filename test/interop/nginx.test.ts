/**
 * Debian's nginx as the mTLS front of a token endpoint, configured as operators do: `ssl_verify_client on`
 * (refusals are its HTML 400 pages, not TLS alerts) and `optional` (it asks for a certificate but goes on
 * without one), `ssl_client_certificate` = the fixture device CA chain, and a location that returns a
 * device token. fetch, doctor and verify-chain --connect must give the verdicts nginx actually gave.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki } from '../helpers/paths.js';
import { deviceToken, freePort, installed, startDaemon, type Daemon } from './daemons.js';

const nginx = installed('/usr/sbin/nginx');
const env = { LANG: 'C.UTF-8' };
const good = ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')];
const expired = ['--cert', pki('device-expired.chain.pem'), '--key', pki('device-expired.key')];
const stranger = ['--cert', pki('stranger-device.chain.pem'), '--key', pki('stranger-device.key')];

interface DoctorJson {
  ok: boolean;
  checks: { id: string; verdict: string; details: string[]; fix: string | null }[];
}
const check = (r: DoctorJson, id: string) => r.checks.find((c) => c.id === id);

describe.skipIf(!nginx)(`nginx as an mTLS front${nginx ? '' : ' (skipped: /usr/sbin/nginx is not installed; apt-get install nginx-light)'}`, () => {
  let daemon: Daemon;
  let on: string;
  let optional: string;
  let token: string;

  beforeAll(async () => {
    const dir = tempDir('c8ytoken-nginx-');
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
    const cas = join(dir, 'device-cas.pem');
    writeFileSync(cas, readFileSync(pki('device-root-ca.crt'), 'utf8') + readFileSync(pki('device-intermediate-ca.crt'), 'utf8'));
    token = deviceToken(pki('token-signing.key'), 'rsa-device-001', 'localhost');
    const [portOn, portOptional] = [await freePort(), await freePort()];
    const server = (port: number, verify: string) => `
  server {
    listen 127.0.0.1:${port} ssl;
    server_name localhost;
    ssl_certificate ${pki('server.crt')};
    ssl_certificate_key ${pki('server.key')};
    ssl_client_certificate ${cas};
    ssl_verify_client ${verify};
    ssl_verify_depth 2;
    location = /devicecontrol/deviceAccessToken {
      default_type application/json;
      return 200 '{"accessToken":"${token}","idToken":null}';
    }
  }`;
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
${server(portOn, 'on')}
${server(portOptional, 'optional')}
}
`,
    );
    daemon = await startDaemon([nginx!, '-p', dir, '-e', join(dir, 'error.log'), '-c', conf, '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`], [portOn, portOptional]);
    on = `https://localhost:${portOn}`;
    optional = `https://localhost:${portOptional}`;
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  const trust = ['--truststore', pki('truststore.pem')];

  describe('ssl_verify_client on', () => {
    it('a good certificate gets the token', async () => {
      const run = await runMain(['fetch', '--url', on, ...trust, ...good], { env });
      expect(run.stderr).toMatch(/^Token for device_rsa-device-001 on tenant t1/);
      expect(run.stdout.trim()).toBe(token);
      expect(run.code).toBe(0);
    });

    it('verify-chain --connect says accepted, with the evidence: without a certificate nginx says "No required SSL certificate was sent"', async () => {
      const run = await runMain(['verify-chain', '--connect', '--url', on, ...trust, ...good], { env });
      expect(run.stdout).toMatch(/✔ Device certificate accepted: the server requires one \(without it: HTTP 400 "400 No required SSL certificate was sent"\)/);
      expect(run.code).toBe(0);
    });

    it('an expired certificate is refused, and the expiry is named first, not the chain header', async () => {
      const run = await runMain(['fetch', '--url', on, ...trust, ...expired], { env });
      expect(run.stderr).toMatch(
        /answered HTTP 400: the device certificate \(.*device-expired\.chain\.pem\) expired on 2021-12-31T[\d:.]+Z, \d+ day\(s\) ago; that is the likely reason\. The answer was: "400 The SSL certificate error"/,
      );
      expect(run.stderr).not.toMatch(/chain-header|parse the certificate chain/);
      expect(run.code).toBe(7);

      const verify = await runMain(['verify-chain', '--connect', '--url', on, ...trust, ...expired], { env });
      expect(verify.stdout).toMatch(/✖ Device certificate rejected: HTTP 400 "400 The SSL certificate error": the server refused the device certificate/);
      expect(verify.stdout).not.toMatch(/Device certificate accepted/);
      expect(verify.code).toBe(1);
    });

    it('doctor fails the TLS step for an expired certificate, naming the expiry, and does not pass it only to fail the token', async () => {
      const run = await runMain(['doctor', '--json', '--url', on, ...trust, ...expired], { env });
      const report = JSON.parse(run.stdout) as DoctorJson;
      expect(check(report, 'tls')?.verdict).toBe('fail');
      expect(check(report, 'tls')?.details.join('\n')).toMatch(/expired on 2021-12-31/);
      expect(check(report, 'token')?.verdict).toBe('skip');
      expect(run.code).toBe(1);
    });

    it('a certificate of an unknown CA is refused, naming the issuer missing from the chain', async () => {
      const run = await runMain(['fetch', '--url', on, ...trust, ...stranger], { env });
      expect(run.stderr).toMatch(/holds the device certificate alone, and its issuer \(CN=Stranger CA, O=c8ytoken fixtures\) is not in it/);
      expect(run.code).toBe(7);
    });
  });

  describe('ssl_verify_client optional', () => {
    it('verify-chain --connect cannot know acceptance: a warning, not a pass (nginx answers without a certificate too)', async () => {
      const run = await runMain(['verify-chain', '--connect', '--url', optional, ...trust, ...good], { env });
      expect(run.stdout).toMatch(/⚠ Device certificate acceptance unknown: the server also answers without a certificate \(HTTP 404/);
      expect(run.stdout).not.toMatch(/Device certificate accepted/);
      expect(run.code).toBe(0);
    });

    it('doctor: the token is the evidence, so the TLS step passes once a token came', async () => {
      const run = await runMain(['doctor', '--json', '--url', optional, ...trust, ...good], { env });
      const report = JSON.parse(run.stdout) as DoctorJson;
      expect(check(report, 'tls')?.verdict).toBe('pass');
      expect(check(report, 'tls')?.details.join('\n')).toMatch(/accepted: the platform issued a token/);
      expect(check(report, 'token')?.verdict).toBe('pass');
      expect(run.code).toBe(0);
    });

    it('an expired certificate is still refused with the SSL certificate error page', async () => {
      const verify = await runMain(['verify-chain', '--connect', '--json', '--url', optional, ...trust, ...expired], { env });
      const h = (JSON.parse(verify.stdout) as { handshake: { clientVerdict: string; refusal: { message: string } } }).handshake;
      expect(h.clientVerdict).toBe('refused');
      expect(h.refusal.message).toMatch(/expired on 2021-12-31/);
      expect(verify.code).toBe(1);
    });
  });
});
