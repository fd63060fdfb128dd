/**
 * Certificates out of an EST answer, whatever form it comes in: PKCS#7 certs-only (RFC 7030 4.2.3) as
 * base64 (with or without line breaks, with or without Content-Transfer-Encoding), as raw DER or BER
 * (real answers use indefinite lengths), inside PEM PKCS7 blocks; or PEM CERTIFICATE blocks (the answer
 * to `Accept: application/pkcs10`), or one bare DER certificate. The form is detected from the bytes,
 * not from headers, because servers and proxies label these answers inconsistently.
 *
 * The input is untrusted: it is bounded in size and in ASN.1 elements, and anything that is not one of
 * these forms ends in an EstAnswerError, never in another exception.
 */
import { X509Certificate } from 'node:crypto';
import { DerError, parseDer, readOid, Tag, type Node } from '../encoding/der.js';
import { pemBlocks } from '../encoding/pem.js';
import { LIMITS } from '../limits.js';

/** Why an answer holds no readable certificate; the client turns it into EST_BAD_RESPONSE. */
export class EstAnswerError extends Error {
  override name = 'EstAnswerError';
  constructor(readonly problem: string) {
    super(problem);
  }
}

/** Bounds on an untrusted answer. */
export interface AnswerLimits {
  /** Largest body read (an answer with a chain is a few KiB). */
  maxBytes: number;
  /** Most ASN.1 elements in the decoded answer (a certificate has about 100). */
  maxElements: number;
  /** Most certificates taken from one answer. */
  maxCertificates: number;
}

/** Generous for a certificate with its chain, small enough that a hostile answer costs little. */
export const DEFAULT_ANSWER_LIMITS: AnswerLimits = { maxBytes: LIMITS.estAnswerBytes, maxElements: LIMITS.derElements, maxCertificates: LIMITS.estAnswerCertificates };

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const PEM_CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const PEM_PKCS7_LABELS = new Set(['PKCS7', 'CMS', 'PKCS #7 SIGNED DATA', 'CERTIFICATE CHAIN']);

/** The certificates of an EST answer body, in answer order; throws EstAnswerError when there are none. */
export function certificatesFromEstAnswer(body: Buffer, limits: AnswerLimits = DEFAULT_ANSWER_LIMITS): X509Certificate[] {
  if (body.length === 0) throw new EstAnswerError('the answer is empty');
  if (body.length > limits.maxBytes) throw new EstAnswerError(`the answer has ${body.length} bytes, more than the ${limits.maxBytes} an EST answer may have`);
  const certs = readAnyForm(body, limits);
  if (certs.length === 0) throw new EstAnswerError('the answer holds no certificate');
  if (certs.length > limits.maxCertificates) throw new EstAnswerError(`the answer holds ${certs.length} certificates, more than ${limits.maxCertificates}`);
  return certs;
}

function readAnyForm(body: Buffer, limits: AnswerLimits): X509Certificate[] {
  const head = body.subarray(0, 64).toString('latin1');
  if (/-----BEGIN /.test(head) || (isText(body) && body.includes('-----BEGIN '))) return fromPem(body.toString('latin1'), limits);
  // Binary DER/BER starts with a SEQUENCE; base64 text never has a 0x30 that parses as one to its end.
  if (body[0] === 0x30) {
    try {
      return fromBinary(body, limits);
    } catch (err) {
      if (!(err instanceof EstAnswerError) || !isBase64Text(body)) throw err;
    }
  }
  if (!isBase64Text(body)) {
    throw new EstAnswerError(isText(body) ? 'the answer is text but neither base64 nor PEM' : 'the answer is binary but not DER/BER PKCS#7 or a certificate');
  }
  return fromBinary(decodeBase64(body.toString('latin1')), limits);
}

function isText(body: Buffer): boolean {
  for (const byte of body) if (byte > 0x7e || (byte < 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09)) return false;
  return true;
}

/** Base64 (standard or URL-safe alphabet), line breaks and blanks anywhere, padding at the end only. */
function isBase64Text(body: Buffer): boolean {
  const text = body.toString('latin1').replace(/\s+/g, '');
  return text.length > 0 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(text);
}

function decodeBase64(text: string): Buffer {
  const clean = text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Buffer.from(clean, 'base64');
  if (bytes.length === 0) throw new EstAnswerError('the base64 answer decodes to nothing');
  return bytes;
}

function fromPem(text: string, limits: AnswerLimits): X509Certificate[] {
  const certs: X509Certificate[] = [];
  const blocks = pemBlocks(text);
  for (const block of blocks) {
    const der = decodeBase64(block.text.replace(/-----[^-]+-----/g, '').replace(/^[A-Za-z-]+:.*$/gm, ''));
    if (PEM_CERT_LABELS.has(block.label)) certs.push(...fromBinary(der, limits));
    else if (PEM_PKCS7_LABELS.has(block.label)) certs.push(...fromBinary(der, limits));
  }
  if (certs.length === 0) {
    const labels = blocks.map((b) => b.label).join(', ');
    throw new EstAnswerError(labels ? `the PEM answer holds no certificate (blocks: ${labels})` : 'the answer has a PEM header but no complete PEM block');
  }
  return certs;
}

/** DER or BER: a PKCS#7 ContentInfo with signed data, or one certificate. */
function fromBinary(der: Buffer, limits: AnswerLimits): X509Certificate[] {
  try {
    return readBinary(der, limits);
  } catch (err) {
    // Constructed elements are read when first asked for: a damaged one can fail anywhere below.
    if (err instanceof DerError) throw new EstAnswerError(`the answer is not well-formed ASN.1 (${err.message})`);
    throw err;
  }
}

function readBinary(der: Buffer, limits: AnswerLimits): X509Certificate[] {
  if (der.length > limits.maxBytes) throw new EstAnswerError(`the decoded answer has ${der.length} bytes, more than ${limits.maxBytes}`);
  let top: Node;
  try {
    top = parseDer(der);
  } catch (err) {
    if (err instanceof DerError) throw new EstAnswerError(`the answer is not well-formed ASN.1 (${err.message})`);
    throw err;
  }
  countElements(top, limits.maxElements);
  if (!isUniversal(top, Tag.sequence)) throw new EstAnswerError('the answer is not an ASN.1 SEQUENCE (neither PKCS#7 nor a certificate)');
  const first = top.children[0];
  if (first && isUniversal(first, Tag.oid)) {
    let type: string;
    try {
      type = readOid(first);
    } catch (err) {
      if (err instanceof DerError) throw new EstAnswerError('the PKCS#7 content type is not a readable OID');
      throw err;
    }
    if (type !== SIGNED_DATA) throw new EstAnswerError(`the PKCS#7 content is of type ${type}, not signed data with certificates`);
    return certificatesOfSignedData(top);
  }
  if (first && isUniversal(first, Tag.sequence)) return [certificate(top, 1)];
  throw new EstAnswerError('the answer is an ASN.1 SEQUENCE but neither PKCS#7 nor a certificate');
}

function certificatesOfSignedData(contentInfo: Node): X509Certificate[] {
  // ContentInfo { contentType, [0] EXPLICIT SignedData }; SignedData { version, digestAlgorithms,
  // encapContentInfo, [0] IMPLICIT certificates OPTIONAL, [1] crls OPTIONAL, signerInfos }.
  const wrapper = contentInfo.children[1];
  if (!wrapper || wrapper.tagClass !== 2 || wrapper.tagNumber !== 0) throw new EstAnswerError('the PKCS#7 signed data has no content');
  const signedData = wrapper.children[0];
  if (!signedData || !isUniversal(signedData, Tag.sequence)) throw new EstAnswerError('the PKCS#7 signed data is not a SEQUENCE');
  const certSet = signedData.children.find((c) => c.tagClass === 2 && c.tagNumber === 0 && c.constructed);
  if (!certSet || certSet.children.length === 0) throw new EstAnswerError('the PKCS#7 answer holds no certificate');
  return certSet.children.map((node, i) => certificate(node, i + 1));
}

function certificate(node: Node, position: number): X509Certificate {
  // A certificate is signed as DER. One sent with indefinite lengths is re-encoded (OpenSSL would read
  // the BER too, but keep it, and its signature would not verify); otherwise the bytes stay as sent.
  const bytes = usesIndefiniteLength(node) ? reencodeDer(node) : node.bytes;
  try {
    return new X509Certificate(bytes);
  } catch {
    throw new EstAnswerError(`certificate ${position} of the answer cannot be read as X.509`);
  }
}

function usesIndefiniteLength(node: Node): boolean {
  let i = 1;
  if ((node.bytes[0]! & 0x1f) === 0x1f) while ((node.bytes[i] ?? 0) & 0x80) i++;
  if ((node.bytes[0]! & 0x1f) === 0x1f) i++;
  return node.bytes[i] === 0x80 || node.children.some(usesIndefiniteLength);
}

function isUniversal(node: Node, tag: number): boolean {
  return node.tagClass === 0 && node.tagNumber === tag;
}

function countElements(root: Node, max: number): void {
  let count = 0;
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (++count > max) throw new EstAnswerError(`the answer has more than ${max} ASN.1 elements`);
    for (const c of node.children) stack.push(c);
  }
}

/** The DER encoding of a parsed (possibly BER) element: definite lengths throughout. */
export function reencodeDer(node: Node): Buffer {
  const isOctets = node.tagClass === 0 && node.tagNumber === Tag.octetString;
  const constructed = node.constructed && !isOctets; // the reader already joined a constructed OCTET STRING
  const content = constructed ? Buffer.concat(node.children.map(reencodeDer)) : node.content;
  return Buffer.concat([identifier(node.tagClass, constructed, node.tagNumber), length(content.length), content]);
}

function identifier(tagClass: number, constructed: boolean, tagNumber: number): Buffer {
  const lead = (tagClass << 6) | (constructed ? 0x20 : 0);
  if (tagNumber < 31) return Buffer.from([lead | tagNumber]);
  const groups = [tagNumber & 0x7f];
  for (let n = Math.floor(tagNumber / 128); n > 0; n = Math.floor(n / 128)) groups.unshift((n & 0x7f) | 0x80);
  return Buffer.from([lead | 0x1f, ...groups]);
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
