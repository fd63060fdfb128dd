/**
 * A small ASN.1 reader for the containers Node's crypto does not open itself (PKCS#12, JKS key blobs,
 * certificate extensions). It reads DER and the BER forms that real keystores use: indefinite lengths
 * and constructed OCTET STRINGs (Windows-made PKCS#12 files have both).
 *
 * Bounded by the program, not by the input: one parse reads at most LIMITS.derElements elements nested at
 * most LIMITS.derDepth deep, and a constructed element's children are read only when asked for, so a
 * file of a million NULLs costs nothing until someone walks it, and then stops at the limit.
 */
import { LIMITS } from '../limits.js';

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
  /** The elements inside a constructed element, read on first access; [] for a primitive one. */
  readonly children: readonly Node[];
}

/** What is wrong, for tests and callers that tell problems apart (the message says it in words). */
export type DerProblem =
  /** The data ends inside a header, or before an indefinite length's end-of-contents. */
  | 'truncated'
  /** A definite length reaches past the end of the data. */
  | 'past-end'
  /** Nested deeper than LIMITS.derDepth. */
  | 'too-deep'
  /** More than LIMITS.derElements elements in one parse. */
  | 'too-many-elements'
  | 'tag-too-large'
  /** A length of more than four bytes (or the reserved 0xff). */
  | 'length-too-large'
  /** The indefinite form on a primitive element (BER allows it on constructed ones only). */
  | 'indefinite-primitive'
  | 'missing-element'
  | 'wrong-tag'
  /** A value that does not read as its type (an empty OID, an odd BMPString, an integer beyond 6 bytes). */
  | 'bad-value'
  /** A structure built on this reader found its content wrong (keystores). */
  | 'malformed';

/** Raised for input that is not well-formed ASN.1 (or beyond the reader's limits); callers turn it into a domain error. */
export class DerError extends Error {
  override name = 'DerError';
  constructor(
    message: string,
    readonly code: DerProblem = 'malformed',
  ) {
    super(message);
  }
}

/** Elements left to read in one parse: shared by every lazily read part of the tree. */
interface Budget {
  left: number;
}

/** Parses one element at the start of buf; throws DerError on malformed input. */
export function parseDer(buf: Buffer): Node {
  const [node] = readNode(buf, 0, 0, { left: LIMITS.derElements });
  return node;
}

class Element implements Node {
  private kids: Node[] | undefined;
  constructor(
    readonly tagClass: number,
    readonly tagNumber: number,
    readonly constructed: boolean,
    readonly content: Buffer,
    readonly bytes: Buffer,
    private readonly depth: number,
    private readonly budget: Budget,
    kids?: Node[],
  ) {
    this.kids = kids;
  }

  get children(): readonly Node[] {
    this.kids ??= this.constructed ? readAll(this.content, this.depth + 1, this.budget) : [];
    return this.kids;
  }
}

/** Every element in buf, back to back (the content of a definite-length constructed element). */
function readAll(buf: Buffer, depth: number, budget: Budget): Node[] {
  const out: Node[] = [];
  for (let p = 0; p < buf.length;) {
    const [node, next] = readNode(buf, p, depth, budget);
    out.push(node);
    p = next;
  }
  return out;
}

function readNode(buf: Buffer, start: number, depth: number, budget: Budget): [Node, number] {
  if (depth > LIMITS.derDepth) throw new DerError(`ASN.1 nested more than ${LIMITS.derDepth} deep`, 'too-deep');
  if (--budget.left < 0) throw new DerError(`more than ${LIMITS.derElements} ASN.1 elements`, 'too-many-elements');
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
      if (tagNumber > 0xffffff) throw new DerError('ASN.1 tag number too large', 'tag-too-large');
    } while (b & 0x80);
  }
  const lenByte = byteAt(buf, pos++);
  let kids: Node[] | undefined;
  let contentStart = pos;
  let contentEnd: number;
  if (lenByte === 0x80) {
    // BER indefinite length: children until an end-of-contents marker (00 00); read now, to find the end.
    if (!constructed) throw new DerError('indefinite length on a primitive element', 'indefinite-primitive');
    kids = [];
    while (!(byteAt(buf, pos) === 0 && byteAt(buf, pos + 1) === 0)) {
      const [child, next] = readNode(buf, pos, depth + 1, budget);
      kids.push(child);
      pos = next;
    }
    contentEnd = pos;
    pos += 2;
  } else {
    let length = lenByte;
    if (lenByte & 0x80) {
      const n = lenByte & 0x7f;
      if (n > 4) throw new DerError('ASN.1 length too large', 'length-too-large');
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + byteAt(buf, pos++);
      contentStart = pos;
    }
    contentEnd = contentStart + length;
    if (contentEnd > buf.length) throw new DerError('ASN.1 element runs past the end of the data', 'past-end');
    pos = contentEnd;
  }
  let content = buf.subarray(contentStart, contentEnd);
  // A constructed OCTET STRING (BER) is the concatenation of its parts.
  if (constructed && tagClass === 0 && tagNumber === Tag.octetString) {
    const parts = kids ?? readAll(content, depth + 1, budget);
    content = Buffer.concat(parts.map((c) => c.content));
    return [new Element(tagClass, tagNumber, false, content, buf.subarray(start, pos), depth, budget, []), pos];
  }
  return [new Element(tagClass, tagNumber, constructed, content, buf.subarray(start, pos), depth, budget, kids), pos];
}

function byteAt(buf: Buffer, pos: number): number {
  const b = buf[pos];
  if (b === undefined) throw new DerError('ASN.1 data ends early', 'truncated');
  return b;
}

/** The i-th child of a node; throws DerError when it is missing. */
export function child(node: Node, i: number): Node {
  const c = node.children[i];
  if (!c) throw new DerError(`expected an ASN.1 element at position ${i}`, 'missing-element');
  return c;
}

/** Asserts a universal tag and returns the node. */
export function expect(node: Node, tagNumber: number): Node {
  if (node.tagClass !== 0 || node.tagNumber !== tagNumber) {
    throw new DerError(`expected ASN.1 tag ${tagNumber}, found ${node.tagClass}/${node.tagNumber}`, 'wrong-tag');
  }
  return node;
}

/** Decodes an OBJECT IDENTIFIER node to dotted form. */
export function readOid(node: Node): string {
  const b = expect(node, Tag.oid).content;
  if (b.length === 0) throw new DerError('empty OID', 'bad-value');
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
  if (b.length > 6) throw new DerError('integer too large', 'bad-value');
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
  if (node.tagClass !== 2 || node.tagNumber !== n) throw new DerError(`expected [${n}]`, 'wrong-tag');
  return child(node, 0);
}

/** Decodes a BMPString (UTF-16BE) node. */
export function readBmpString(node: Node): string {
  const b = expect(node, Tag.bmpString).content;
  if (b.length % 2 !== 0) throw new DerError('BMPString of odd length', 'bad-value');
  const swapped = Buffer.from(b);
  swapped.swap16();
  return swapped.toString('utf16le');
}
