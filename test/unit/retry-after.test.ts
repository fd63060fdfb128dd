import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_SECONDS, retryAfterSeconds } from '../../src/core/platform/retry-after.js';

describe('Retry-After', () => {
  const received = Date.parse('2026-06-01T12:00:00Z');

  it('reads delay-seconds', () => {
    expect(retryAfterSeconds('120', undefined, received)).toBe(120);
    expect(retryAfterSeconds(' 5 ', undefined, received)).toBe(5);
  });

  it("reads an HTTP date against the answer's Date header, not this device's clock", () => {
    // The device clock is a day behind: only the platform's two stamps matter.
    const deviceClock = received - 86_400_000;
    expect(retryAfterSeconds('Mon, 01 Jun 2026 12:02:00 GMT', 'Mon, 01 Jun 2026 12:00:00 GMT', deviceClock)).toBe(120);
  });

  it('bounds what the network asks for, and ignores what cannot be a wait', () => {
    expect(retryAfterSeconds('99999999', undefined, received)).toBe(MAX_RETRY_AFTER_SECONDS);
    for (const bad of [undefined, '', '0', '-5', '1.5', 'soon', '9'.repeat(40), 'Mon, 01 Jun 2026 11:00:00 GMT']) {
      expect(retryAfterSeconds(bad, 'Mon, 01 Jun 2026 12:00:00 GMT', received)).toBeUndefined();
    }
  });
});
