/** The DER writer against the project's reader and OpenSSL's conventions, with property tests. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDer, readOid, readSmallInt } from '../../../src/core/encoding/der.js';
import { bitString, bmp, integer, namedBits, oid, seq, setOf, time, tlv, utf8 } from '../../../src/core/est/der-writer.js';
import { reencodeDer } from '../../../src/core/est/pkcs7.js';
import { pki } from '../../helpers/paths.js';

describe('der-writer', () => {
  it('known encodings', () => {
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
    expect(oid('2.5.4.3').toString('hex')).toBe('0603550403');
    expect(integer(0).toString('hex')).toBe('020100');
    expect(integer(128).toString('hex')).toBe('02020080');
    expect(integer(Buffer.from([0, 0, 0x7f])).toString('hex')).toBe('02017f');
    expect(namedBits([0]).toString('hex')).toBe('03020780'); // keyUsage digitalSignature
    expect(namedBits([0, 2]).toString('hex')).toBe('030205a0');
    expect(utf8('é').toString('hex')).toBe('0c02c3a9');
    expect(bmp('ab').toString('hex')).toBe('1e0400610062');
    expect(time(new Date('2049-12-31T23:59:59Z')).toString('latin1').slice(2)).toBe('491231235959Z');
    expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1').slice(2)).toBe('20500101000000Z');
    expect(tlv(0x04, Buffer.alloc(200)).subarray(0, 3).toString('hex')).toBe('0481c8');
    expect(tlv(0x04, Buffer.alloc(70000)).subarray(0, 5).toString('hex')).toBe('0483011170');
    expect(bitString(Buffer.from([1])).toString('hex')).toBe('03020001');
  });

  it('SET OF is sorted, as DER wants', () => {
    expect(setOf(integer(2), integer(1)).toString('hex')).toBe('3106020101020102');
  });

  it('a certificate re-encoded from its parsed tree is the same bytes', () => {
    const cert = new X509Certificate(readFileSync(pki('device-rsa.crt')));
    expect(reencodeDer(parseDer(cert.raw)).equals(cert.raw)).toBe(true);
  });

  it('property: OIDs and integers read back as written', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { maxLength: 8 }), (a, b, rest) => {
        const dotted = [a, b, ...rest].join('.');
        expect(readOid(parseDer(oid(dotted)))).toBe(dotted);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 47 - 1 }), (n) => {
        expect(readSmallInt(parseDer(integer(n)))).toBe(n);
      }),
    );
  });

  it('property: nested sequences of random octets parse back to the same tree', () => {
    const tree: fc.Arbitrary<Buffer> = fc.letrec<{ node: Buffer }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.uint8Array({ maxLength: 300 }).map((b) => tlv(0x04, Buffer.from(b))),
        fc.array(tie('node'), { maxLength: 4 }).map((items) => seq(...items)),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (der) => {
        const parsed = parseDer(der);
        expect(parsed.bytes.equals(der)).toBe(true);
        expect(reencodeDer(parsed).equals(der)).toBe(true);
      }),
    );
  });
});
