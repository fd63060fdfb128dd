/**
 * Facts tied to codes (src/core/errors.ts FactsByCode): the @ts-expect-error lines are the test that a
 * throw site with a fact missing or a fact of another code does not compile (`npm test` type-checks the
 * tests); the rest checks that what compiles is worded with its facts.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { C8yError, ERROR_CODES, isC8yError, type ErrorFacts, type FactsOf, type TypedCode, type UntypedCode } from '../../src/core/errors.js';
import { wordsOf } from '../helpers/errors.js';

const est = { url: 'https://t1.example/.well-known/est/simpleenroll', host: 't1.example', port: '443', operation: 'simpleenroll' } as const;

describe('facts tied to codes', () => {
  it('a typed code takes its own facts, and compiles only with them', () => {
    const found = new C8yError('FILE_NOT_FOUND', { path: 'device.key', role: 'key' });
    expect(wordsOf(found).message).toContain('device.key');
    // @ts-expect-error the role is missing
    void new C8yError('FILE_NOT_FOUND', { path: 'device.key' });
    // @ts-expect-error a fact of the HTTP codes
    void new C8yError('FILE_NOT_FOUND', { path: 'device.key', role: 'key', status: 404 });
    // @ts-expect-error a typed code with required facts cannot go without them
    void new C8yError('FILE_TOO_LARGE');

    const refused = new C8yError('EST_UNAUTHORIZED', { ...est, status: 401 });
    expect(wordsOf(refused).message).toContain('t1.example');
    // @ts-expect-error an EST refusal names where the request went
    void new C8yError('EST_UNAUTHORIZED', { status: 401 });
    // @ts-expect-error a file fact on an EST answer
    void new C8yError('EST_BAD_RESPONSE', { ...est, status: 200, reason: 'empty', actual: 0, path: 'answer.p7' });
  });

  it('facts any error gains on its way up are allowed on every code', () => {
    const err = new C8yError('KEY_UNSUPPORTED', { keyType: 'Ed25519', unchanged: ['device.pem'] });
    expect(wordsOf(err).message).toContain('Nothing was changed');
  });

  it('an untyped code, or an error of any code, reads the general bag', () => {
    expectTypeOf<FactsOf<'NETWORK_FAILED'>>().toEqualTypeOf<ErrorFacts>();
    expectTypeOf<FactsOf<(typeof ERROR_CODES)[number]>>().toEqualTypeOf<ErrorFacts>();
    const err: unknown = new C8yError('EST_PENDING', { ...est, status: 202, retryAfterSeconds: 30 });
    // instanceof knows no code: the general bag, never `any`.
    if (err instanceof C8yError) expectTypeOf(err.facts).toEqualTypeOf<ErrorFacts>();
    if (!isC8yError(err, 'EST_PENDING')) throw new Error('not an EST_PENDING');
    expectTypeOf(err.facts.retryAfterSeconds).toEqualTypeOf<number | undefined>();
    expect(err.facts.status).toBe(202);
  });

  it('every code is either typed or left on the general bag, and the two lists do not overlap', () => {
    expectTypeOf<TypedCode & UntypedCode>().toBeNever();
    expectTypeOf<TypedCode | UntypedCode>().toEqualTypeOf<(typeof ERROR_CODES)[number]>();
  });
});
