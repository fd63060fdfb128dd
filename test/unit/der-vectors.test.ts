/**
 * Named vectors for the ASN.1 reader (src/core/encoding/der.ts), after sigstore-js's asn1
 * malformed.test.ts: each input is written out in hex with what the reader must do with it, an error
 * code (DerError.code) or "accepted", and the BER forms accepted on purpose say why. A parse is walked
 * to the leaves, since constructed elements read their children only when asked.
 */
import { describe, expect, it } from 'vitest';
import { DerError, parseDer, readBmpString, readOid, readSmallInt, type DerProblem, type Node } from '../../src/core/encoding/der.js';
import { LIMITS } from '../../src/core/limits.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Parses and reads every element; the error code, or the root. */
function walk(input: Buffer): { node: Node } | { code: DerProblem } {
  try {
    const node = parseDer(input);
    const visit = (n: Node): void => n.children.forEach(visit);
    visit(node);
    return { node };
  } catch (err) {
    if (err instanceof DerError) return { code: err.code };
    throw err;
  }
}

/** n SEQUENCEs, each holding the next, the innermost empty (definite lengths). */
function nested(n: number): Buffer {
  let inner = hex('3000');
  for (let i = 1; i < n; i++) inner = Buffer.concat([lengthHeader(0x30, inner.length), inner]);
  return inner;
}
function lengthHeader(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l % 256);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

const malformed: [string, Buffer, DerProblem][] = [
  // The end of the data.
  ['empty input', hex(''), 'truncated'],
  ['a tag without a length', hex('30'), 'truncated'],
  ['a long-form length cut short', hex('30 82 01'), 'truncated'],
  ['a multi-byte tag cut short', hex('1f 81'), 'truncated'],
  ['a length past the end', hex('04 05 0102'), 'past-end'],
  ['a child past the end of its parent', hex('30 03 04 05 01'), 'past-end'],
  ['a child header cut by its parent', hex('30 01 04'), 'truncated'],
  ['an indefinite length without its end-of-contents', hex('30 80 0500'), 'truncated'],
  ['an end-of-contents cut in half', hex('30 80 0500 00'), 'truncated'],
  // Lengths.
  ['a length of five bytes', hex('04 85 0000000001 00'), 'length-too-large'],
  ['the reserved length byte 0xff', hex('04 ff'), 'length-too-large'],
  ['a four-byte length beyond the data', hex('04 84 7fffffff 00'), 'past-end'],
  // Indefinite lengths.
  ['an indefinite length on a primitive element', hex('04 80 01 0000'), 'indefinite-primitive'],
  ['an indefinite primitive inside an indefinite constructed one', hex('30 80 04 80 0000 0000'), 'indefinite-primitive'],
  // Tags.
  ['a tag number beyond 24 bits', hex('1f ffffffff 7f 00'), 'tag-too-large'],
  // Nesting and size.
  [`nesting ${LIMITS.derDepth + 2} deep (definite lengths)`, nested(LIMITS.derDepth + 2), 'too-deep'],
  [`nesting ${LIMITS.derDepth + 2} deep (indefinite lengths)`, Buffer.from(Array.from({ length: LIMITS.derDepth + 2 }, () => [0x30, 0x80]).flat()), 'too-deep'],
  [`more than ${LIMITS.derElements} elements`, Buffer.concat([lengthHeader(0x30, (LIMITS.derElements + 1) * 2), Buffer.alloc((LIMITS.derElements + 1) * 2).fill(hex('0500'))]), 'too-many-elements'],
];

describe('the ASN.1 reader refuses', () => {
  for (const [name, input, code] of malformed) {
    it(`${name}: ${code}`, () => {
      expect(walk(input)).toEqual({ code });
    });
  }
});

describe('the ASN.1 reader accepts', () => {
  const accepted: [string, string, Buffer, (n: Node) => void][] = [
    ['a DER SEQUENCE', 'the baseline', hex('30 06 0201 05 0101 ff'), (n) => expect(n.children.map((c) => c.tagNumber)).toEqual([2, 1])],
    [
      'a non-minimal long-form length (81 05 for 5)',
      'BER allows any length form, and keystores from several tools use one; the content is what is read',
      hex('04 81 05 0102030405'),
      (n) => expect(n.content).toEqual(hex('0102030405')),
    ],
    ['a length with leading zero bytes (82 00 03)', 'as above: BER', hex('04 82 0003 616263'), (n) => expect(n.content.toString()).toBe('abc')],
    [
      'indefinite lengths, nested',
      'BER; Windows-made PKCS#12 files and the platform’s EST answers use them',
      hex('30 80 30 80 0500 0000 0201 07 0000'),
      (n) => expect(n.children.map((c) => c.tagNumber)).toEqual([0x10, 2]),
    ],
    [
      'a constructed OCTET STRING',
      'BER; Windows-made PKCS#12 files split their content so: the parts are joined',
      hex('24 80 04 02 6162 04 01 63 0000'),
      (n) => expect([n.constructed, n.content.toString()]).toEqual([false, 'abc']),
    ],
    ['a constructed OCTET STRING of definite length', 'as above', hex('24 07 04 02 6162 04 01 63'), (n) => expect(n.content.toString()).toBe('abc')],
    ['a low tag number in the multi-byte form (1f 05)', 'BER: the tag number is what is read', hex('1f 05 00'), (n) => expect([n.tagClass, n.tagNumber]).toEqual([0, 5])],
    [
      'bytes after the element',
      'parseDer reads the element at the start; its `bytes` end where it ends, and a caller that needs the whole buffer compares lengths',
      hex('0500 ffff'),
      (n) => expect(n.bytes).toEqual(hex('0500')),
    ],
    [`nesting ${LIMITS.derDepth + 1} deep`, 'the limit itself', nested(LIMITS.derDepth + 1), (n) => expect(n.tagNumber).toBe(0x10)],
    [
      `${LIMITS.derElements} elements`,
      'the limit itself',
      Buffer.concat([lengthHeader(0x30, (LIMITS.derElements - 1) * 2), Buffer.alloc((LIMITS.derElements - 1) * 2).fill(hex('0500'))]),
      (n) => expect(n.children).toHaveLength(LIMITS.derElements - 1),
    ],
  ];
  for (const [name, why, input, check] of accepted) {
    it(`${name} (${why})`, () => {
      const r = walk(input);
      expect(r).toHaveProperty('node');
      check((r as { node: Node }).node);
    });
  }
});

describe('the value readers refuse', () => {
  const values: [string, () => unknown, DerProblem][] = [
    ['an empty OID', () => readOid(parseDer(hex('0600'))), 'bad-value'],
    ['an INTEGER of 7 bytes as a small integer', () => readSmallInt(parseDer(hex('0207 01000000000000'))), 'bad-value'],
    ['a BMPString of odd length', () => readBmpString(parseDer(hex('1e03 004100'))), 'bad-value'],
    ['an OID read from an INTEGER', () => readOid(parseDer(hex('020101'))), 'wrong-tag'],
  ];
  for (const [name, read, code] of values) {
    it(`${name}: ${code}`, () => {
      expect(read).toThrow(expect.objectContaining({ code }) as Error);
    });
  }
});
