/**
 * Facts tied to codes (src/core/errors.ts FactsByCode): the @ts-expect-error lines are the test that a
 * throw site with a fact missing or a fact of another code does not compile (`npm test` type-checks the
 * tests); the rest checks that what compiles is worded with its facts.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { C8yError, ERROR_CODES, isC8yError, type FactsByCode, type FactsOf, type Problem, type TravelFacts, type TypedCode, type UntypedCode } from '../../src/core/errors.js';
import { describeFacts } from '../../src/output/messages.js';
import { wordsOf } from '../helpers/errors.js';

const est = { url: 'https://t1.example/.well-known/est/simpleenroll', host: 't1.example', port: '443', operation: 'simpleenroll' } as const;
const proxy = { proxy: 'http://user:***@proxy.corp:3128', proxySource: 'HTTPS_PROXY', target: 't1.example:8443', proxyTls: false, proxyCredentials: true } as const;

describe('facts tied to codes', () => {
  it('a code takes its own facts, and compiles only with them', () => {
    const found = new C8yError('FILE_NOT_FOUND', { path: 'device.key', role: 'key' });
    expect(wordsOf(found).message).toContain('device.key');
    // @ts-expect-error the role is missing
    void new C8yError('FILE_NOT_FOUND', { path: 'device.key' });
    // @ts-expect-error a fact of the HTTP codes
    void new C8yError('FILE_NOT_FOUND', { path: 'device.key', role: 'key', status: 404 });
    // @ts-expect-error a code with required facts cannot go without them
    void new C8yError('FILE_TOO_LARGE');

    const refused = new C8yError('EST_UNAUTHORIZED', { ...est, status: 401 });
    expect(wordsOf(refused).message).toContain('t1.example');
    // @ts-expect-error an EST refusal names where the request went
    void new C8yError('EST_UNAUTHORIZED', { status: 401 });
    // @ts-expect-error a file fact on an EST answer
    void new C8yError('EST_BAD_RESPONSE', { ...est, status: 200, reason: 'empty', actual: 0, path: 'answer.p7' });
  });

  it('the network, proxy, platform, keystore, token and config codes take their own facts too', () => {
    const wrong = new C8yError('WRONG_PASSWORD', { path: 'device.p12', role: 'keystore', format: 'PKCS#12', password: 'keystore', reason: 'integrity check' });
    expect(wordsOf(wrong).message).toBe('The keystore password for device.p12 is wrong (the integrity check failed).');
    // @ts-expect-error which password is wrong must be said
    void new C8yError('WRONG_PASSWORD', { path: 'device.p12', role: 'keystore' });

    const refused = new C8yError('PROXY_REFUSED', { ...proxy, stage: 'proxy', proxyStatus: 403, problem: 'forbidden' });
    expect(wordsOf(refused).message).toContain('answered CONNECT t1.example:8443 with 403');
    // @ts-expect-error a proxy's refusal names the proxy
    void new C8yError('PROXY_REFUSED', { stage: 'proxy', proxyStatus: 403, problem: 'forbidden' });
    // @ts-expect-error a proxy's answer on a DNS failure of the platform
    void new C8yError('DNS_FAILED', { url: 'https://t1.example:8443', host: 't1.example', proxyStatus: 407 });
    // @ts-expect-error a timeout waiting for the proxy names the proxy
    void new C8yError('TIMEOUT', { url: 'https://t1.example:8443', stage: 'proxy', timeoutMs: 1000 });
    // @ts-expect-error a refused client certificate says how far the connection got
    void new C8yError('CLIENT_CERT_REJECTED', { url: 'https://t1.example:8443' });
    // @ts-expect-error a keystore's fact on a platform answer
    void new C8yError('PLATFORM_UNAUTHORIZED', { url: 'https://t1.example:8443', status: 401, alias: 'device' });
    // @ts-expect-error a token that is not a JWT says which part is wrong
    void new C8yError('TOKEN_MALFORMED', { where: 'in token.jwt' });
    // @ts-expect-error a PKCS#11 token that did not answer says how long it had
    void new C8yError('PKCS11_NO_ANSWER', { path: 'pkcs11:object=device', role: 'PKCS#11 key', module: 'libsofthsm2.so' });
    // @ts-expect-error an HTTP status on a tenant URL that is not one
    void new C8yError('BAD_URL', { source: '--url', reason: 'not a URL', status: 400 });
    // @ts-expect-error a bug carries its message
    void new C8yError('INTERNAL');
  });

  it('a problem reported rather than thrown is checked as its code, and worded the same', () => {
    const problem: Problem = { code: 'NO_TOKEN', facts: { url: 'https://t1.example:8443/x', status: 200, reason: 'no accessToken' } };
    expect(describeFacts(problem)).toEqual(wordsOf(new C8yError('NO_TOKEN', problem.facts)));
    // @ts-expect-error NO_TOKEN says why
    const missing: Problem = { code: 'NO_TOKEN', facts: { url: 'https://t1.example:8443/x' } };
    void missing;
  });

  it('facts any error gains on its way up are allowed on every code', () => {
    const err = new C8yError('KEY_UNSUPPORTED', { keyType: 'Ed25519', unchanged: ['device.pem'] });
    expect(wordsOf(err).message).toContain('Nothing was changed');
    const through = new C8yError('HOSTNAME_MISMATCH', { url: 'https://t1.example:8443', host: 't1.example', stage: 'handshake', reason: 'no', ...proxy, serverIssuer: 'CN=Corp CA' });
    expect(wordsOf(through).hint).toContain('issued by CN=Corp CA');
  });

  it('an error of any code reads one of the codes’ facts, never `any`; isC8yError narrows to a code’s own', () => {
    expectTypeOf<FactsOf<'NETWORK_FAILED'>>().toEqualTypeOf<FactsByCode['NETWORK_FAILED'] & TravelFacts>();
    const err: unknown = new C8yError('EST_PENDING', { ...est, status: 202, retryAfterSeconds: 30 });
    // instanceof knows no code: one of the codes' facts, never `any`.
    if (err instanceof C8yError) expectTypeOf(err.facts).not.toBeAny();
    if (!isC8yError(err, 'EST_PENDING')) throw new Error('not an EST_PENDING');
    expectTypeOf(err.facts.retryAfterSeconds).toEqualTypeOf<number | undefined>();
    expect(err.facts.status).toBe(202);
  });

  it('every code has facts of its own: none is left untyped', () => {
    expectTypeOf<UntypedCode>().toBeNever();
    expectTypeOf<TypedCode>().toEqualTypeOf<(typeof ERROR_CODES)[number]>();
  });
});
