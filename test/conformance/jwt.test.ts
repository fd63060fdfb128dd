/**
 * The shared JWT vectors (RFC 7520 JWS, RFC 8037, auth0/jwt-decode), when ../shared/conformance exists.
 * c8ytoken decodes JWTs whose payload is a JSON claims set; documented choices for the cases the corpus
 * marks implementation-defined: a non-JSON JWS payload and Latin-1 payload bytes are reported as
 * "payload does not decode to JSON", a JWE as "encrypted", both as TOKEN_MALFORMED errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeJwt, JwtError } from '../../src/core/token/jwt.js';
import { conformanceDir, hasConformance } from '../helpers/paths.js';

interface Vector {
  id: string;
  token: string | null;
  expect: {
    header?: Record<string, unknown>;
    payload?: Record<string, unknown>;
    payload_is_json?: boolean;
    parts?: number;
    error?: string;
    implementation_defined?: string;
    error_or_lenient?: string;
  };
}

const vectors: Vector[] = hasConformance ? (JSON.parse(readFileSync(join(conformanceDir, 'jwt/vectors.json'), 'utf8')) as { vectors: Vector[] }).vectors : [];

describe.skipIf(!hasConformance)('JWT conformance vectors', () => {
  for (const v of vectors) {
    it(`${v.id} ${JSON.stringify(v.token ?? null).slice(0, 30)}`, () => {
      if (v.token === null) return void expect(() => decodeJwt(null as unknown as string)).toThrow(JwtError);
      const e = v.expect;
      if (e.error !== undefined || e.payload_is_json === false || e.implementation_defined !== undefined || e.error_or_lenient !== undefined) {
        let error: unknown;
        try {
          decodeJwt(v.token);
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(JwtError);
        if (e.parts === 5) expect((error as JwtError).message).toMatch(/encrypted JWT \(JWE\)/);
        return;
      }
      const d = decodeJwt(v.token);
      if (e.header) expect(d.header).toEqual(e.header);
      if (e.payload) expect(d.claims).toEqual(e.payload);
    });
  }
});
