/**
 * A small ASN.1 reader for the containers Node's crypto does not open itself (PKCS#12, JKS key blobs,
 * certificate extensions). It reads DER and the BER forms that real keystores use: indefinite lengths
 * and constructed OCTET STRINGs (Windows-made PKCS#12 files have both).
 */

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x10,
  set: 0x11,
  printableString: 0x13,
  ia5String: 0x16,
  bmpString: 0x1e,
} as const;

/** One ASN.1 element. `bytes` is the whole encoding (header included), `content` its value. */
export interface Node {
  tagClass: number; // 0 universal, 1 application, 2 context-specific, 3 private
  tagNumber: number;
  constructed: boolean;
  content: Buffer;
  bytes: Buffer;
  children: Node[];
}

/** Raised for input that is not well-formed ASN.1; callers turn it into a domain error. */
export class DerError extends Error {
  override name = 'DerError';
}

/** Parses one element at the start of buf; throws DerError on malformed input. */
export function parseDer(buf: Buffer): Node {
  const [node] = readNode(buf, 0, 0);
  return node;
}

const MAX_DEPTH = 64;

function readNode(buf: Buffer, start: number, depth: number): [Node, number] {
  if (depth > MAX_DEPTH) throw new DerError('ASN.1 nesting too deep');
  let pos = start;
  const first = byteAt(buf, pos++);
  const tagClass = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    let b: number;
    do {
      b = byteAt(buf, pos++);
      tagNumber = tagNumber * 128 + (b & 0x7f);
    } while (b & 0x80);
  }
  const lenByte = byteAt(buf, pos++);
  let children: Node[] = [];
  let contentStart = pos;
  let contentEnd: number;
  if (lenByte === 0x80) {
    // BER indefinite length: children until an end-of-contents marker (00 00).
    if (!constructed) throw new DerError('indefinite length on a primitive element');
    while (!(byteAt(buf, pos) === 0 && byteAt(buf, pos + 1) === 0)) {
      const [child, next] = readNode(buf, pos, depth + 1);
      children.push(child);
      pos = next;
    }
    contentEnd = pos;
    pos += 2;
  } else {
    let length = lenByte;
    if (lenByte & 0x80) {
      const n = lenByte & 0x7f;
      if (n > 4) throw new DerError('ASN.1 length too large');
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + byteAt(buf, pos++);
      contentStart = pos;
    }
    contentEnd = contentStart + length;
    if (contentEnd > buf.length) throw new DerError('ASN.1 element runs past the end of the data');
    if (constructed) {
      let p = contentStart;
      while (p < contentEnd) {
        const [child, next] = readNode(buf.subarray(0, contentEnd), p, depth + 1);
        children.push(child);
        p = next;
      }
    }
    pos = contentEnd;
  }
  let content = buf.subarray(contentStart, contentEnd);
  // A constructed OCTET STRING (BER) is the concatenation of its parts.
  if (constructed && tagClass === 0 && tagNumber === Tag.octetString) {
    content = Buffer.concat(children.map((c) => c.content));
    children = [];
  }
  return [{ tagClass, tagNumber, constructed, content, bytes: buf.subarray(start, pos), children }, pos];
}

function byteAt(buf: Buffer, pos: number): number {
  const b = buf[pos];
  if (b === undefined) throw new DerError('ASN.1 data ends early');
  return b;
}

/** The i-th child of a node; throws DerError when it is missing. */
export function child(node: Node, i: number): Node {
  const c = node.children[i];
  if (!c) throw new DerError(`expected an ASN.1 element at position ${i}`);
  return c;
}

/** Asserts a universal tag and returns the node. */
export function expect(node: Node, tagNumber: number): Node {
  if (node.tagClass !== 0 || node.tagNumber !== tagNumber) {
    throw new DerError(`expected ASN.1 tag ${tagNumber}, found ${node.tagClass}/${node.tagNumber}`);
  }
  return node;
}

/** Decodes an OBJECT IDENTIFIER node to dotted form. */
export function readOid(node: Node): string {
  const b = expect(node, Tag.oid).content;
  if (b.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let value = 0;
  for (const byte of b) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

/** Decodes a non-negative INTEGER that fits a JavaScript number. */
export function readSmallInt(node: Node): number {
  const b = expect(node, Tag.integer).content;
  if (b.length > 6) throw new DerError('integer too large');
  let v = 0;
  for (const byte of b) v = v * 256 + byte;
  return v;
}

/** Content of an OCTET STRING node. */
export function readOctets(node: Node): Buffer {
  return expect(node, Tag.octetString).content;
}

/** The single child of an EXPLICIT context-specific tag [n]. */
export function explicit(node: Node, n: number): Node {
  if (node.tagClass !== 2 || node.tagNumber !== n) throw new DerError(`expected [${n}]`);
  return child(node, 0);
}

/** Decodes a BMPString (UTF-16BE) node. */
export function readBmpString(node: Node): string {
  const b = expect(node, Tag.bmpString).content;
  if (b.length % 2 !== 0) throw new DerError('BMPString of odd length');
  const swapped = Buffer.from(b);
  swapped.swap16();
  return swapped.toString('utf16le');
}
