/**
 * EST answers in every form they come in, from a real OpenSSL PKCS#7 (fixtures/pki/est-answer.p7b, made by
 * `openssl crl2pkcs7`) re-encoded as the platform sends it (BER, indefinite lengths); and property tests:
 * random bytes and mutated answers give certificates or an EstAnswerError, never another exception.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDer, type Node } from '../../../src/core/encoding/der.js';
import { certificatesFromEstAnswer, EstAnswerError, reencodeDer } from '../../../src/core/est/pkcs7.js';
import { certsOnlyBer, certsOnlyDer } from '../../emulator/est.js';
import { pki } from '../../helpers/paths.js';

const p7b = readFileSync(pki('est-answer.p7b'));
const device = new X509Certificate(readFileSync(pki('device-est.crt')));
const ca = new X509Certificate(readFileSync(pki('est-ca.crt')));

/** BER with indefinite lengths on the constructed elements `where` says, definite elsewhere. */
function indefinite(node: Node, where: (n: Node, depth: number) => boolean, depth = 0): Buffer {
  if (!node.constructed || !where(node, depth)) return Buffer.from(node.bytes);
  const tag = node.bytes[0]!; // low tag numbers only in these structures
  return Buffer.concat([Buffer.from([tag, 0x80]), ...node.children.map((c) => indefinite(c, where, depth + 1)), Buffer.from([0, 0])]);
}

/** The platform's shape: ContentInfo, [0], SignedData and the certificate set indefinite; certificates DER. */
const realShape = (der: Buffer): Buffer => indefinite(parseDer(der), (_n, depth) => depth <= 3);
const everything = (der: Buffer): Buffer => indefinite(parseDer(der), () => true);
const base64Lines = (b: Buffer, eol = '\n'): string => (b.toString('base64').match(/.{1,64}/g) ?? []).join(eol) + eol;

describe('every answer form', () => {
  const ber = realShape(p7b);
  const forms: [string, Buffer][] = [
    ['base64 of DER, with line breaks', Buffer.from(base64Lines(p7b))],
    ['base64 of DER, one line, no newline', Buffer.from(p7b.toString('base64'))],
    ['base64 with CRLF line breaks', Buffer.from(base64Lines(p7b, '\r\n'))],
    ['base64 of BER with indefinite lengths (the platform)', Buffer.from(base64Lines(ber))],
    ['base64url alphabet', Buffer.from(p7b.toString('base64url'))],
    ['raw DER', p7b],
    ['raw BER, indefinite lengths', ber],
    ['BER with indefinite lengths everywhere, certificates included', everything(p7b)],
    ['PEM PKCS7 block', Buffer.from(`-----BEGIN PKCS7-----\n${base64Lines(p7b)}-----END PKCS7-----\n`)],
    ['PEM CERTIFICATE block', Buffer.from(device.toString())],
    ['PEM CERTIFICATE blocks with text around (openssl x509 -text)', Buffer.from(`Certificate:\n  Subject: x\n${device.toString()}\nsome trailer\n`)],
    ['one bare DER certificate', device.raw],
    ['base64 of one bare DER certificate', Buffer.from(device.raw.toString('base64'))],
  ];
  for (const [name, body] of forms) {
    it(name, () => {
      const certs = certificatesFromEstAnswer(body);
      expect(certs.map((c) => c.fingerprint256)).toEqual([device.fingerprint256]);
      expect(certs[0]!.verify(ca.publicKey)).toBe(true);
    });
  }

  it('the platform shape is what the fixture re-encoding makes: 30 80 06 09 ... a0 80 30 80', () => {
    expect(ber.subarray(0, 2).toString('hex')).toBe('3080');
    expect(ber.subarray(13, 17).toString('hex')).toBe('a0803080');
    expect(ber.subarray(-6).toString('hex')).toBe('000000000000');
  });

  it('chains in order, from our own writers (DER and BER)', () => {
    for (const p7 of [certsOnlyDer([device.raw, ca.raw]), certsOnlyBer([device.raw, ca.raw])]) {
      expect(certificatesFromEstAnswer(Buffer.from(p7.toString('base64'))).map((c) => c.subject)).toEqual([device.subject, ca.subject]);
    }
  });

  it('re-encoding a DER tree gives the same bytes', () => {
    expect(reencodeDer(parseDer(everything(p7b))).equals(p7b)).toBe(true);
  });
});

describe('what is not an answer', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['an empty body', Buffer.alloc(0), /empty/],
    ['an HTML page', Buffer.from('<html><body>Welcome</body></html>'), /neither base64 nor PEM/],
    ['JSON', Buffer.from('{"error":"x"}'), /neither base64 nor PEM/],
    ['base64 of text', Buffer.from(Buffer.from('hello world').toString('base64')), /not well-formed|not an ASN.1 SEQUENCE/],
    ['PKCS#7 without certificates', certsOnlyDer([]), /no certificate/],
    ['a PEM private key', Buffer.from('-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n'), /no certificate \(blocks: PRIVATE KEY\)/],
    ['a PKCS#7 of another type', Buffer.from('3011060b2a864886f70d010910012fa0020400', 'hex'), /not signed data/],
    ['a body over 256 KiB', Buffer.alloc(300 * 1024, 0x41), /more than/],
    ['a truncated answer', p7b.subarray(0, 200), /not well-formed/],
  ];
  for (const [name, body, says] of cases) {
    it(name, () => {
      expect(() => certificatesFromEstAnswer(body)).toThrow(EstAnswerError);
      expect(() => certificatesFromEstAnswer(body)).toThrow(says);
    });
  }

  it('too many ASN.1 elements', () => {
    const many = Buffer.concat([Buffer.from([0x30, 0x83, 0x01, 0x86, 0xa0]), Buffer.alloc(100_000, 0x05).fill(Buffer.from([0x05, 0x00]))]);
    expect(() => certificatesFromEstAnswer(many)).toThrow(/more than 20000 ASN.1 elements/);
  });
});

/** Certificates, or the typed error: anything else is a bug (a crash on the field's answers). */
function certificatesOrTypedError(body: Buffer): void {
  try {
    const certs = certificatesFromEstAnswer(body);
    expect(certs.length).toBeGreaterThan(0);
    for (const c of certs) expect(c).toBeInstanceOf(X509Certificate);
  } catch (err) {
    if (!(err instanceof EstAnswerError)) throw err;
  }
}

describe('properties', () => {
  it('random bytes: certificates or EstAnswerError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => certificatesOrTypedError(Buffer.from(bytes))),
      { numRuns: 1500 },
    );
  });

  it('random bytes behind a SEQUENCE header, and random base64 text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), fc.boolean(), (bytes, asText) => {
        const body = Buffer.concat([Buffer.from([0x30, 0x80]), Buffer.from(bytes)]);
        certificatesOrTypedError(asText ? Buffer.from(body.toString('base64')) : body);
      }),
      { numRuns: 1000 },
    );
  });

  const valid = [p7b, realShape(p7b), everything(p7b), Buffer.from(base64Lines(realShape(p7b))), Buffer.from(device.toString()), certsOnlyBer([device.raw, ca.raw])];
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  );

  it('mutated valid answers (flipped, truncated, inserted, deleted bytes): certificates or EstAnswerError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 4 }), (answer, mutations) => {
        let body = Buffer.from(answer);
        for (const m of mutations) {
          const at = body.length ? m.at % body.length : 0;
          if (m.kind === 'flip' && body.length) body[at] = m.value;
          if (m.kind === 'truncate') body = body.subarray(0, at);
          if (m.kind === 'insert') body = Buffer.concat([body.subarray(0, at), Buffer.from(m.bytes), body.subarray(at)]);
          if (m.kind === 'delete') body = Buffer.concat([body.subarray(0, at), body.subarray(at + m.count)]);
        }
        certificatesOrTypedError(body);
      }),
      { numRuns: 2000 },
    );
  });
});
