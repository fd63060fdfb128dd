import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanToken, decodeJwt, JwtError, numericDate, tokenStatus, tokenTimes } from '../../src/core/token/jwt.js';
import { C8yError } from '../../src/core/errors.js';

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const b64json = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (claims: unknown, header: unknown = { alg: 'RS256' }): string => `${b64(header)}.${b64(claims)}.c2ln`;

function problemOf(token: string): string {
  try {
    decodeJwt(token);
  } catch (err) {
    expect(err).toBeInstanceOf(JwtError);
    expect((err as C8yError).code).toBe('TOKEN_MALFORMED');
    return (err as JwtError).problem;
  }
  throw new Error('decoded a malformed token');
}

describe('decodeJwt', () => {
  it('decodes header and claims, base64url without padding, UTF-8', () => {
    const d = decodeJwt(jwt({ sub: 'device_ü', n: 1 }, { alg: 'RS256', typ: 'JWT' }));
    expect(d.header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(d.claims).toEqual({ sub: 'device_ü', n: 1 });
    expect(d.signature).toBe('c2ln');
  });

  it('names each malformed form', () => {
    expect(problemOf('')).toBe('empty');
    expect(problemOf('abc')).toBe('parts');
    expect(problemOf('a.b.c.d')).toBe('parts');
    expect(problemOf(`${b64({})}.***.sig`)).toBe('base64url');
    expect(problemOf(`${b64({})}.a.sig`)).toBe('base64url'); // length 1 mod 4
    expect(problemOf(`${b64({})}..sig`)).toBe('base64url');
    expect(problemOf(`${b64({})}.${b64('not json')}.sig`)).toBe('json');
    expect(problemOf(`${b64({})}.${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.sig`)).toBe('json');
    expect(problemOf(`${b64({})}.${b64([1, 2])}.sig`)).toBe('not-object');
    expect(problemOf(`${b64({})}.${b64('null')}.sig`)).toBe('not-object');
    expect(problemOf(`${b64({})}.${b64({})}.si+g`)).toBe('base64url');
  });

  it('tolerates what people paste around a token', () => {
    const t = jwt({ a: 1 });
    for (const s of [` ${t}\n`, `Bearer ${t}`, `Authorization: Bearer ${t}\r\n`, `authorization:bearer  ${t}`]) expect(cleanToken(s)).toBe(t);
  });

  it('never crashes: random strings give a result or a typed error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          decodeJwt(cleanToken(s));
        } catch (err) {
          expect(err).toBeInstanceOf(JwtError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never crashes: random JSON payloads decode, and times never throw', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (header, payload) => {
        const token = `${b64json(header)}.${b64json(payload)}.sig`;
        try {
          const d = decodeJwt(token);
          const times = tokenTimes(d.claims);
          tokenStatus(times, Date.now() / 1000, 300);
          expect(Array.isArray(times.problems)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(JwtError);
          expect((err as JwtError).problem).toBe('not-object');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('never crashes on random bytes in each part', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (h, p) => {
        const token = `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}.x`;
        try {
          decodeJwt(token);
        } catch (err) {
          expect(err).toBeInstanceOf(JwtError);
        }
      }),
    );
  });
});

describe('token times', () => {
  it('computes lifetime and the half-life refresh moment', () => {
    const t = tokenTimes({ iat: 1000, nbf: 1000, exp: 4600 });
    expect(t).toMatchObject({ issuedAt: 1000, expiresAt: 4600, lifetimeSeconds: 3600, refreshAfter: 2800, problems: [] });
  });

  it('shows odd claims as problems, never throws', () => {
    expect(tokenTimes({ iat: 1000, exp: 'soon' }).problems).toEqual(['exp is not a usable date ("soon")']);
    expect(tokenTimes({ iat: 1000 }).problems[0]).toMatch(/exp is missing/);
    expect(tokenTimes({ iat: 1000, exp: 1e300 }).problems[0]).toMatch(/exp is not a usable date/);
    expect(tokenTimes({ iat: 2000, exp: 1000 }).problems).toEqual(['exp is before iat']);
    expect(tokenTimes({ iat: 1000.5, exp: 4600.5 }).lifetimeSeconds).toBe(3600);
    expect(tokenTimes({ iat: 1000, nbf: '1000', exp: 4600 }).notBefore).toBe(1000); // a string nbf has been seen
    expect(numericDate(-1)).toBeUndefined();
    expect(numericDate(true)).toBeUndefined();
  });

  it('judges status against the given clock', () => {
    const t = tokenTimes({ iat: 1000, nbf: 1000, exp: 4600 });
    expect(tokenStatus(t, 999)).toBe('not-yet-valid');
    expect(tokenStatus(t, 2000)).toBe('valid');
    expect(tokenStatus(t, 4400, 300)).toBe('expiring-soon');
    expect(tokenStatus(t, 4600)).toBe('expired');
    expect(tokenStatus(tokenTimes({}), 0)).toBe('unknown');
  });
});
