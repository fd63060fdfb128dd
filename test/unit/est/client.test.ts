/**
 * The EST client against the local endpoint in this process (one port for tokens and EST): renewal with
 * RSA and EC identities, enrollment with polling, every answer form and every failure class.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIssuedCertificate } from '../../../src/core/est/check.js';
import { estBaseUrl, simpleEnroll, simpleReenroll, type EstAnswer } from '../../../src/core/est/client.js';
import { buildCsr, generateDeviceKey } from '../../../src/core/est/csr.js';
import { commonNameOf, deviceIdOf } from '../../../src/core/est/names.js';
import { enrollWhenRegistered } from '../../../src/core/est/poll.js';
import { C8yError } from '../../../src/core/errors.js';
import { tenantUrl } from '../../../src/core/platform/endpoint.js';
import { Emulator } from '../../emulator/server.js';
import { EST_ANSWER_FORMS, type EstFault } from '../../emulator/est.js';
import { caught, wordsOf } from '../../helpers/errors.js';
import { serverCa, tokenFor } from '../../helpers/est.js';
import { pki } from '../../helpers/paths.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator({ est: true }).start();
});
afterAll(async () => {
  await emulator.stop();
});

const est = () => emulator.est!;
const base = () => estBaseUrl(new URL(emulator.url));
const ecKey = createPrivateKey(readFileSync(pki('device-est.key')));

async function reenroll(cn = 'est-device-001', token?: string, key = ecKey): Promise<EstAnswer> {
  return simpleReenroll({
    tenantUrl: base(),
    token: token ?? (await tokenFor(emulator, pki('device-est.chain.pem'), pki('device-est.key'))),
    csrDer: buildCsr(key, commonNameOf(cn, 'the test CN')),
    trustCas: serverCa,
    timeoutMs: 5000,
  });
}

describe('estBaseUrl', () => {
  it('from the tenant URL as given: port 443 unless the URL names one (never the token endpoint 8443); path dropped', () => {
    const est = (raw: string) => estBaseUrl(tenantUrl(raw, 'test'));
    expect(est('t1.example.com').href).toBe('https://t1.example.com/');
    expect(est('https://t1.example.com/apps/x').port).toBe('');
    expect(est('https://t1.example.com:8443').port).toBe('8443');
    expect(est('https://127.0.0.1:9999').href).toBe('https://127.0.0.1:9999/');
    expect(() => est('http://t1.example.com')).toThrow(C8yError);
  });
});

describe('simplereenroll', () => {
  it('EC: the request as the platform wants it; a certificate for the same key and CN, from the EST CA', async () => {
    const answer = await reenroll();
    const issued = checkIssuedCertificate(answer.certificates, { key: ecKey, commonName: 'est-device-001', nowMs: Date.now(), url: answer.url.href });
    expect(issued.leaf.issuer).toMatch(/CN=c8ytoken EST CA/);
    expect(issued.leaf.publicKey.asymmetricKeyType).toBe('ec');
    expect(answer.url.pathname).toBe('/.well-known/est/simplereenroll');
    expect(est().requests.at(-1)).toMatchObject({ contentType: 'application/pkcs10', transferEncoding: 'base64', authScheme: 'Bearer', csrCn: 'est-device-001', status: 200 });
  });

  it('RSA, with a new RSA key, and the issuer chain in the answer', async () => {
    est().answerChain = true;
    try {
      const token = await tokenFor(emulator, pki('device-rsa.chain.pem'), pki('device-rsa.key'));
      const { key } = await generateDeviceKey({ type: 'rsa', bits: 2048 });
      const answer = await reenroll('rsa-device-001', token, key);
      const issued = checkIssuedCertificate(answer.certificates, { key, commonName: 'rsa-device-001', nowMs: Date.now(), url: answer.url.href });
      expect(issued.leaf.publicKey.asymmetricKeyType).toBe('rsa');
      expect(issued.chain.map((c) => c.subject)).toEqual([new X509Certificate(readFileSync(pki('est-ca.crt'))).subject]);
    } finally {
      est().answerChain = false;
    }
  });

  for (const form of EST_ANSWER_FORMS) {
    it(`reads the answer form ${form}`, async () => {
      est().answerForm = form;
      try {
        expect((await reenroll()).certificates).toHaveLength(1);
      } finally {
        est().answerForm = 'base64-ber';
      }
    });
  }
});

interface Failure {
  name: string;
  fault?: EstFault;
  run?: () => Promise<unknown>;
  code: string;
  exit: number;
  says: RegExp;
}

describe('failures: class, message with the platform text, nothing secret', () => {
  const failures: Failure[] = [
    { name: 'HTTP 401 (token rejected)', fault: 'http401', code: 'EST_UNAUTHORIZED', exit: 7, says: /HTTP 401: the device token was not accepted.*Bad credentials/ },
    { name: 'HTTP 403 (CN mismatch)', fault: 'http403', code: 'EST_FORBIDDEN', exit: 7, says: /HTTP 403.*common name does not match/ },
    { name: 'HTTP 400 (CSR refused)', fault: 'http400', code: 'EST_CSR_REJECTED', exit: 7, says: /HTTP 400.*request was refused.*not valid/ },
    { name: 'HTTP 500', fault: 'http500', code: 'EST_SERVER_ERROR', exit: 8, says: /HTTP 500/ },
    { name: 'HTTP 202 without a certificate (pending)', fault: 'http202', code: 'EST_PENDING', exit: 8, says: /HTTP 202 to simplereenroll: the request is pending.*Retry-After: 1 s/ },
    { name: 'a 200 without a certificate', fault: 'not-cert', code: 'EST_BAD_RESPONSE', exit: 8, says: /without a readable certificate.*Welcome to the tenant/ },
    {
      name: 'a token of another device (real 403 from the CN check)',
      run: async () => reenroll('somebody-else'),
      code: 'EST_FORBIDDEN',
      exit: 7,
      says: /somebody-else does not match the device user device_est-device-001/,
    },
    {
      name: 'a forged token (real 401)',
      run: async () => reenroll('est-device-001', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'),
      code: 'EST_UNAUTHORIZED',
      exit: 7,
      says: /Invalid or expired token/,
    },
    {
      name: 'no truststore: the server is not trusted',
      run: async () => simpleReenroll({ tenantUrl: base(), token: 'x.y.z', csrDer: buildCsr(ecKey, commonNameOf('x', 'the test CN')), timeoutMs: 5000 }),
      code: 'SERVER_UNTRUSTED',
      exit: 6,
      says: /not trusted/,
    },
    {
      name: 'nothing listening',
      run: async () => simpleReenroll({ tenantUrl: new URL('https://127.0.0.1:1/'), token: 'x.y.z', csrDer: buildCsr(ecKey, commonNameOf('x', 'the test CN')), timeoutMs: 5000 }),
      code: 'CONNECTION_REFUSED',
      exit: 5,
      says: /refused/,
    },
    {
      name: 'a timeout',
      fault: 'hang',
      run: async () => simpleReenroll({ tenantUrl: base(), token: 'x.y.z', csrDer: buildCsr(ecKey, commonNameOf('x', 'the test CN')), trustCas: serverCa, timeoutMs: 300 }),
      code: 'TIMEOUT',
      exit: 5,
      says: /No answer from https:\/\/localhost:\d+ within 0 s/,
    },
  ];
  for (const f of failures) {
    it(f.name, async () => {
      if (f.fault) {
        est().fault = f.fault;
        est().faultCount = 1;
      }
      try {
        const err = await caught(f.run ? f.run() : reenroll());
        expect(err.code).toBe(f.code);
        expect(err.exitCode).toBe(f.exit);
        expect(wordsOf(err).message).toMatch(f.says);
        expect(wordsOf(err).hint?.length).toBeGreaterThan(10);
        expect(`${wordsOf(err).message} ${JSON.stringify(err.facts)}`).not.toMatch(/eyJ|Bearer|Basic /);
      } finally {
        est().fault = undefined;
      }
    });
  }

  for (const [fault, says] of [
    ['other-key', /for another key/],
    ['other-cn', /CN=est-device-001-other, but the request was for CN=est-device-001/],
  ] as const) {
    it(`a certificate ${fault === 'other-key' ? 'for another key' : 'with another CN'}: EST_WRONG_CERTIFICATE, exit 8`, async () => {
      est().fault = fault;
      est().faultCount = 1;
      const answer = await reenroll();
      const err = await caught(() => checkIssuedCertificate(answer.certificates, { key: ecKey, commonName: 'est-device-001', nowMs: Date.now(), url: answer.url.href }));
      expect(err.code).toBe('EST_WRONG_CERTIFICATE');
      expect(err.exitCode).toBe(8);
      expect(wordsOf(err).message).toMatch(says);
    });
  }

  it('platform text is sanitized: no control characters, capped length', async () => {
    const { estStatusError } = await import('../../../src/core/est/client.js');
    const body = Buffer.from(JSON.stringify({ error: 'x\u001b[31mred', message: 'y'.repeat(2000) }));
    const err = estStatusError('simplereenroll', new URL('https://h/'), 401, body);
    // eslint-disable-next-line no-control-regex
    expect(wordsOf(err).message).not.toMatch(/\u001b/);
    expect(wordsOf(err).message.length).toBeLessThan(600);
  });
});

describe('simpleenroll', () => {
  const secret = 'otp-Secret_123';
  const enrollOptions = async (deviceId: string, oneTimePassword = secret) => {
    const { key } = await generateDeviceKey();
    return { key, options: { tenantUrl: base(), deviceId: deviceIdOf(deviceId), oneTimePassword, csrDer: buildCsr(key, commonNameOf(deviceId, 'the test CN')), trustCas: serverCa, timeoutMs: 5000 } };
  };

  it('polls while the device is not registered yet, then gets its certificate; Basic id:otp', async () => {
    emulator.registerEnrollment('new-device-001', secret, { pendingPolls: 2 });
    const { key, options } = await enrollOptions('new-device-001');
    const retries: string[] = [];
    const answer = await enrollWhenRegistered(options, { retryEveryMs: 20, maxWaitMs: 10_000, onRetry: ({ error }) => retries.push(error.code) });
    expect(retries).toEqual(['EST_UNAUTHORIZED', 'EST_UNAUTHORIZED']);
    const issued = checkIssuedCertificate(answer.certificates, { key, commonName: 'new-device-001', nowMs: Date.now(), url: answer.url.href });
    expect(issued.leaf.subject).toBe('CN=new-device-001');
    expect(est().requests.at(-1)).toMatchObject({ path: '/.well-known/est/simpleenroll', authScheme: 'Basic', status: 200 });
  });

  it('keeps polling through a 202 (pending)', async () => {
    emulator.registerEnrollment('pending-device', secret);
    est().fault = 'http202';
    est().faultCount = 1;
    const { options } = await enrollOptions('pending-device');
    const retries: string[] = [];
    const answer = await enrollWhenRegistered(options, { retryEveryMs: 10, maxWaitMs: 10_000, onRetry: ({ error }) => retries.push(error.code) });
    expect(retries).toEqual(['EST_PENDING']);
    expect(answer.certificates).toHaveLength(1);
  });

  it('the one-time password is used up after the certificate was issued', async () => {
    emulator.registerEnrollment('once-device', secret);
    await simpleEnroll((await enrollOptions('once-device')).options);
    const err = await caught(simpleEnroll((await enrollOptions('once-device')).options));
    expect(err.code).toBe('EST_UNAUTHORIZED');
  });

  it('gives up after max-wait with EST_NOT_REGISTERED (exit 7); the password appears nowhere', async () => {
    const { options } = await enrollOptions('never-registered');
    let clock = 0;
    const err = await caught(
      enrollWhenRegistered(options, {
        retryEveryMs: 1000,
        maxWaitMs: 3000,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      }),
    );
    expect(err.code).toBe('EST_NOT_REGISTERED');
    expect(err.exitCode).toBe(7);
    expect(err.facts).toHaveProperty('attempts', 4);
    expect(wordsOf(err).message).toMatch(/never-registered.*after 4 attempt/);
    const everything = `${wordsOf(err).message} ${wordsOf(err).hint} ${JSON.stringify(err.facts)} ${String((err.cause as Error).message)}`;
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(Buffer.from(`never-registered:${secret}`).toString('base64'));
  });

  it('stops at once on a refusal waiting cannot change (400)', async () => {
    emulator.registerEnrollment('csr-refused', secret);
    est().fault = 'http400';
    est().faultCount = 1;
    let attempts = 0;
    const { options } = await enrollOptions('csr-refused');
    const err = await caught(enrollWhenRegistered(options, { retryEveryMs: 10, maxWaitMs: 10_000, onRetry: () => attempts++ }));
    expect(err.code).toBe('EST_CSR_REJECTED');
    expect(attempts).toBe(0);
  });

  it('a CN other than the device id is refused (403)', async () => {
    emulator.registerEnrollment('cn-device', secret);
    const { options } = await enrollOptions('cn-device');
    const err = await caught(simpleEnroll({ ...options, csrDer: buildCsr((await generateDeviceKey()).key, commonNameOf('other', 'the test CN')) }));
    expect(err.code).toBe('EST_FORBIDDEN');
  });

  it('refuses a device id with ":" and an OTP with control characters before any request', async () => {
    const before = est().requests.length;
    expect((await caught(async () => simpleEnroll((await enrollOptions('a:b')).options))).code).toBe('USAGE');
    const err = await caught(simpleEnroll((await enrollOptions('dev', 'zq8\nW7x')).options));
    expect(err.code).toBe('USAGE');
    expect(wordsOf(err).message).not.toContain('zq8');
    expect(est().requests.length).toBe(before);
  });
});

describe('the token endpoint on an EST port still refuses untrusted client certificates', () => {
  it('a stranger certificate: the connection is reset after the handshake (CLIENT_CERT_REJECTED)', async () => {
    const err = await caught(tokenFor(emulator, pki('stranger-device.chain.pem'), pki('stranger-device.key')));
    expect(err.code).toBe('CLIENT_CERT_REJECTED');
  });
  it('under TLS 1.2 too', async () => {
    const tls12 = await new Emulator({ est: true, maxVersion: 'TLSv1.2' }).start();
    try {
      expect((await caught(tokenFor(tls12, pki('stranger-device.chain.pem'), pki('stranger-device.key')))).code).toBe('CLIENT_CERT_REJECTED');
    } finally {
      await tls12.stop();
    }
  });
  it('a renewed certificate is accepted (issued under the device root)', async () => {
    expect(await tokenFor(emulator, pki('device-est.chain.pem'), pki('device-est.key'))).toMatch(/^eyJ/);
  });
});
