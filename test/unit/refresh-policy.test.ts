import { describe, expect, it } from 'vitest';
import { backoffDelay, refreshTime, reusableToken } from '../../src/core/token/refresh-policy.js';
import { decodeJwt, tokenTimes } from '../../src/core/token/jwt.js';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => decodeJwt(`${b64({ alg: 'RS256' })}.${b64(claims)}.c2ln`);

describe('refreshTime', () => {
  it('is the half-life plus at most 5% of the lifetime (at most 60 s) of jitter', () => {
    const t = tokenTimes({ iat: 1000, exp: 4600 });
    expect(refreshTime(t, { random: 0 })).toBe(2800_000);
    expect(refreshTime(t, { random: 1 })).toBe(2860_000); // 5% of 3600 s is 180 s, capped at 60 s
    const short = tokenTimes({ iat: 0, exp: 300 }); // the platform's minimum lifetime, 5 min
    expect(refreshTime(short, { random: 1 })).toBe(165_000);
    expect(refreshTime(tokenTimes({ iat: 0 }), { random: 0 })).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, stays between the minimum and the cap', () => {
    const opts = { minMs: 1000, maxMs: 60_000 };
    expect(backoffDelay(1, opts, 1)).toBe(1000);
    expect(backoffDelay(4, opts, 1)).toBe(8000);
    expect(backoffDelay(4, opts, 0)).toBe(4000);
    expect(backoffDelay(30, opts, 1)).toBe(60_000);
    expect(backoffDelay(1000, opts, 0.5)).toBeLessThanOrEqual(60_000);
  });
});

describe('reusableToken', () => {
  const claims = { sub: 'device_a', iss: 'host.example', iat: 1000, exp: 4600 };
  it('reuses a token for this device and host before its half-life only', () => {
    expect(reusableToken(jwt(claims), 'device_a', 'host.example', 2000_000).reusable).toBe(true);
    expect(reusableToken(jwt(claims), 'device_a', 'host.example', 2800_000).reason).toBe('is past its half-life');
    expect(reusableToken(jwt(claims), 'device_b', 'host.example', 2000_000).reason).toBe('is for device_a, not device_b');
    expect(reusableToken(jwt(claims), 'device_a', 'other.example', 2000_000).reusable).toBe(false);
    expect(reusableToken(jwt(claims), 'device_a', 'host.example', 5000_000).reason).toBe('has expired');
    expect(reusableToken(jwt({ sub: 'device_a' }), 'device_a', 'host.example', 0).reusable).toBe(false);
  });
});
