/**
 * A small DER writer: the few ASN.1 types a PKCS#10 request, an X.509 certificate and a PKCS#7/PKCS#12
 * container need. Our own instead of a library (docs/adr/0003-est-asn1.md): about 100 lines load in well
 * under a millisecond, where node-forge or @peculiar/asn1-schema cost 13–45 ms at start-up, and signing
 * stays with node:crypto, which handles EC keys. Reading goes through ../encoding/der.ts (BER included).
 */

/** The length octets of DER: short form below 128, else 0x80 + n big-endian bytes. */
function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element with a definite length: tag byte, length, then the content (parts are concatenated). */
export function tlv(tag: number, content: Buffer | readonly Buffer[]): Buffer {
  const body = Buffer.isBuffer(content) ? content : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthOctets(body.length), body]);
}

/** One constructed element with a BER indefinite length (ends with 00 00), as real EST answers come. */
export function indefinite(tag: number, content: readonly Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([tag, 0x80]), ...content, Buffer.from([0, 0])]);
}

/** SEQUENCE of the given elements. */
export function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, items);
}

/** SET of the given elements, sorted as DER requires for SET OF. */
export function setOf(...items: Buffer[]): Buffer {
  return tlv(
    0x31,
    [...items].sort((a, b) => Buffer.compare(a, b)),
  );
}

/** [n] constructed context-specific: an EXPLICIT tag, or an IMPLICIT SEQUENCE/SET. */
export function context(n: number, ...items: Buffer[]): Buffer {
  return tlv(0xa0 | n, items);
}

/** [n] primitive context-specific (IMPLICIT on a primitive type, e.g. a key identifier). */
export function contextPrimitive(n: number, content: Buffer): Buffer {
  return tlv(0x80 | n, content);
}

/** A non-negative INTEGER from a number or big-endian magnitude bytes (a 0x00 is prefixed when needed). */
export function integer(value: number | Buffer): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('integer must be a non-negative safe integer');
    const list: number[] = [];
    for (let n = value; n > 0; n = Math.floor(n / 256)) list.unshift(n & 0xff);
    bytes = Buffer.from(list.length ? list : [0]);
  } else {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    bytes = value.length ? value.subarray(start) : Buffer.from([0]);
  }
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

/** OBJECT IDENTIFIER from dotted form ("1.2.840.10045.4.3.2"). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [];
  const push = (value: number): void => {
    const groups: number[] = [value & 0x7f];
    for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(0x06, Buffer.from(out));
}

/** UTF8String. */
export function utf8(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

/** BMPString (UTF-16BE), as PKCS#12 friendly names are. */
export function bmp(text: string): Buffer {
  const b = Buffer.from(text, 'utf16le');
  b.swap16();
  return tlv(0x1e, b);
}

/** BIT STRING holding whole bytes (no unused bits): signatures, public keys, DER-wrapped values. */
export function bitString(bytes: Buffer): Buffer {
  return tlv(0x03, [Buffer.from([0]), bytes]);
}

/** BIT STRING for named bits such as keyUsage: bit 0 is the most significant bit of the first byte. */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return tlv(0x03, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  // DER: trailing zero bits of the last byte are declared unused.
  const unused = 7 - (highest & 7);
  return tlv(0x03, [Buffer.from([unused]), bytes]);
}

/** OCTET STRING. */
export function octetString(bytes: Buffer): Buffer {
  return tlv(0x04, bytes);
}

/** NULL. */
export const NULL = Buffer.from([0x05, 0x00]);

/** BOOLEAN (DER: TRUE is 0xff). */
export function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

/** Time as RFC 5280 wants it: UTCTime through 2049, GeneralizedTime from 2050, whole seconds, Z. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-06-01T12:00:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20260601120000
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1'));
  return tlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}
