// A DER tree for the fuzzer's structure-aware mutators, independent of the product's reader: parse
// (definite lengths only: every seed is DER), look inside OCTET STRING / BIT STRING values that are DER
// themselves (PKCS#12 authSafe, bags, certificate extensions, public keys), re-encode with lengths fixed up
// around whatever was mutated. A mutated node may carry `raw` bytes (say, a lying length header): those
// bytes are emitted as they are, and only the enclosing elements get lengths that cover them.

const MAX_DEPTH = 100;

export const T = { boolean: 1, integer: 2, bitString: 3, octetString: 4, null: 5, oid: 6, utf8: 12, sequence: 16, set: 17 };

export class ParseError extends Error {}

/** Parses exactly one element spanning the whole buffer; throws ParseError otherwise. */
export function parseTree(buf, depth = 0) {
  const [node, end] = parseAt(buf, 0, buf.length, depth);
  if (end !== buf.length) throw new ParseError('trailing bytes');
  return node;
}

function parseAt(buf, start, limit, depth) {
  if (depth > MAX_DEPTH) throw new ParseError('too deep');
  let pos = start;
  if (pos >= limit) throw new ParseError('ends early');
  const first = buf[pos++];
  let tagNum = first & 0x1f;
  if (tagNum === 0x1f) {
    tagNum = 0;
    let b;
    do {
      if (pos >= limit) throw new ParseError('ends early');
      b = buf[pos++];
      tagNum = tagNum * 128 + (b & 0x7f);
    } while (b & 0x80);
  }
  const tagBytes = buf.subarray(start, pos);
  if (pos >= limit) throw new ParseError('ends early');
  const lb = buf[pos++];
  let len = lb;
  if (lb === 0x80) throw new ParseError('indefinite');
  if (lb & 0x80) {
    const n = lb & 0x7f;
    if (n > 4) throw new ParseError('long');
    len = 0;
    for (let i = 0; i < n; i++) {
      if (pos >= limit) throw new ParseError('ends early');
      len = len * 256 + buf[pos++];
    }
  }
  const end = pos + len;
  if (end > limit) throw new ParseError('past end');
  const node = {
    cls: first >> 6,
    constructed: (first & 0x20) !== 0,
    tagNum,
    tagBytes: Buffer.from(tagBytes),
    children: null,
    content: Buffer.from(buf.subarray(pos, end)),
    encap: null,
    encapPrefix: null,
    raw: null,
  };
  if (node.constructed) {
    node.children = [];
    let p = pos;
    while (p < end) {
      const [c, next] = parseAt(buf, p, end, depth + 1);
      node.children.push(c);
      p = next;
    }
  } else if (node.cls === 0 && node.tagNum === T.octetString && len >= 2) {
    node.encap = tryParse(node.content, depth + 1);
    if (node.encap) node.encapPrefix = Buffer.alloc(0);
  } else if (node.cls === 0 && node.tagNum === T.bitString && len >= 3 && node.content[0] === 0) {
    node.encap = tryParse(node.content.subarray(1), depth + 1);
    if (node.encap) node.encapPrefix = Buffer.from([0]);
  }
  return [node, end];
}

function tryParse(buf, depth) {
  // Only what plausibly is DER: a constructed element, or a small set of primitives extension values use.
  if (!(buf[0] & 0x20) && ![T.integer, T.bitString, T.octetString, T.oid, T.boolean].includes(buf[0])) return null;
  try {
    return parseTree(buf, depth);
  } catch {
    return null;
  }
}

export function lengthBytes(n) {
  if (n < 0x80) return Buffer.from([n]);
  const out = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Buffer.from([0x80 | out.length, ...out]);
}

/** The content bytes of a node as they would be encoded now. */
export function contentOf(node) {
  if (node.children) return Buffer.concat(node.children.map(encode));
  if (node.encap) return Buffer.concat([node.encapPrefix, encode(node.encap)]);
  return node.content;
}

export function encode(node) {
  if (node.raw) return node.raw;
  const content = contentOf(node);
  return Buffer.concat([node.tagBytes, lengthBytes(content.length), content]);
}

/** A fresh node. */
export function make(tagByte, contentOrChildren) {
  const constructed = (tagByte & 0x20) !== 0;
  return {
    cls: tagByte >> 6,
    constructed,
    tagNum: tagByte & 0x1f,
    tagBytes: Buffer.from([tagByte]),
    children: Array.isArray(contentOrChildren) ? contentOrChildren : null,
    content: Array.isArray(contentOrChildren) ? Buffer.alloc(0) : contentOrChildren,
    encap: null,
    encapPrefix: null,
    raw: null,
  };
}

export function clone(node) {
  return {
    ...node,
    children: node.children ? node.children.map(clone) : null,
    encap: node.encap ? clone(node.encap) : null,
  };
}

const OID_NAMES = {
  '1.2.840.113549.1.7.1': 'data',
  '1.2.840.113549.1.7.6': 'encryptedData',
  '1.2.840.113549.1.7.3': 'envelopedData',
  '1.2.840.113549.1.12.10.1.1': 'keyBag',
  '1.2.840.113549.1.12.10.1.2': 'shroudedKeyBag',
  '1.2.840.113549.1.12.10.1.3': 'certBag',
  '1.2.840.113549.1.12.10.1.6': 'safeContentsBag',
  '1.2.840.113549.1.9.22.1': 'x509Certificate',
  '1.2.840.113549.1.9.20': 'friendlyName',
  '1.2.840.113549.1.9.21': 'localKeyId',
  '1.2.840.113549.1.5.13': 'pbes2',
  '1.2.840.113549.1.5.12': 'pbkdf2',
  '1.2.840.113549.1.12.1.3': 'pbeSha1And3DES',
  '1.2.840.113549.1.12.1.4': 'pbeSha1And2DES',
  '1.2.840.113549.1.12.1.5': 'pbeSha1AndRC2-128',
  '1.2.840.113549.1.12.1.6': 'pbeSha1AndRC2-40',
  '2.16.840.1.101.3.4.1.2': 'aes128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes192-cbc',
  '2.16.840.1.101.3.4.1.42': 'aes256-cbc',
  '1.2.840.113549.3.7': 'des-ede3-cbc',
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.2.840.113549.2.7': 'hmacSha1',
  '1.2.840.113549.2.9': 'hmacSha256',
  '1.2.840.113549.1.1.1': 'rsaEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSA',
  '1.2.840.10045.2.1': 'ecPublicKey',
  '1.2.840.10045.4.3.2': 'ecdsaSha256',
  '1.2.840.10045.4.3.3': 'ecdsaSha384',
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.15': 'keyUsage',
  '2.5.29.37': 'extKeyUsage',
  '2.5.29.14': 'subjectKeyId',
  '2.5.29.35': 'authorityKeyId',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.30': 'nameConstraints',
  '2.5.4.3': 'CN',
  '2.5.4.10': 'O',
  '1.3.6.1.4.1.42.2.17.1.1': 'jksKeyProtector',
};

/** Known OIDs by name, for swapping. */
export const KNOWN_OIDS = Object.keys(OID_NAMES);

export function oidName(dotted) {
  return OID_NAMES[dotted] ?? dotted;
}

export function decodeOid(buf) {
  if (buf.length === 0) return '';
  const parts = [];
  let v = 0;
  for (const b of buf) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

export function encodeOid(dotted) {
  const arcs = dotted.split('.').map(Number);
  const values = [arcs[0] * 40 + arcs[1], ...arcs.slice(2)];
  const out = [];
  for (const value of values) {
    const groups = [];
    let v = value;
    do {
      groups.unshift(v % 128);
      v = Math.floor(v / 128);
    } while (v > 0);
    groups.forEach((g, i) => out.push(i < groups.length - 1 ? g | 0x80 : g));
  }
  return Buffer.from(out);
}

const TYPE_NAMES = {
  1: 'BOOLEAN',
  2: 'INTEGER',
  3: 'BIT STRING',
  4: 'OCTET STRING',
  5: 'NULL',
  6: 'OID',
  12: 'UTF8String',
  16: 'SEQUENCE',
  17: 'SET',
  19: 'PrintableString',
  23: 'UTCTime',
  24: 'GeneralizedTime',
  30: 'BMPString',
};

export function typeName(node) {
  if (node.cls === 0) return TYPE_NAMES[node.tagNum] ?? `UNIVERSAL ${node.tagNum}`;
  return `[${['U', 'APP', '', 'PRIV'][node.cls]}${node.tagNum}]`;
}

/**
 * Every node with a readable location: the nearest enclosing SEQUENCE that starts with an OID names the
 * context ("pbkdf2/1/1" is PBKDF2's iteration count), else the path from the root ("root/2/2").
 * `rootName` relabels paths from the root (e.g. {"2": "macData"} for PKCS#12).
 */
export function enumerate(root, rootAliases = {}) {
  const out = [];
  const walk = (node, parent, index, path, ctxName, ctxPath, inEncap) => {
    const rel = path.slice(ctxPath.length);
    const label = `${ctxName}${rel.length ? `/${rel.join('/')}` : ''}`;
    out.push({ node, parent, index, path, label, inEncap });
    let nextCtx = ctxName;
    let nextCtxPath = ctxPath;
    if (node.children && node.children[0] && node.children[0].cls === 0 && node.children[0].tagNum === T.oid && !node.children[0].raw) {
      nextCtx = oidName(decodeOid(node.children[0].content));
      nextCtxPath = path;
    }
    if (node.children) node.children.forEach((c, i) => walk(c, node, i, [...path, i], nextCtx, nextCtxPath, inEncap));
    if (node.encap) walk(node.encap, node, 'encap', [...path, 'e'], nextCtx, nextCtxPath, true);
  };
  walk(root, null, null, [], 'root', [], false);
  for (const entry of out) {
    if (entry.label.startsWith('root/')) {
      const first = entry.label.split('/')[1];
      if (rootAliases[first]) entry.label = entry.label.replace(`root/${first}`, rootAliases[first]);
    }
    entry.label = `${typeName(entry.node)}@${entry.label}`;
  }
  return out;
}

/** Replaces entry.node within its parent (or returns the new root when it was the root). */
export function replaceNode(entry, replacement, root) {
  if (!entry.parent) return replacement;
  if (entry.index === 'encap') entry.parent.encap = replacement;
  else entry.parent.children[entry.index] = replacement;
  return root;
}

/** A non-negative or negative integer's minimal two's-complement content bytes. */
export function intBytes(value) {
  let v = BigInt(value);
  const out = [];
  if (v === 0n) return Buffer.from([0]);
  if (v > 0n) {
    while (v > 0n) {
      out.unshift(Number(v & 0xffn));
      v >>= 8n;
    }
    if (out[0] & 0x80) out.unshift(0);
  } else {
    do {
      out.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (!(v === -1n && out[0] & 0x80));
  }
  return Buffer.from(out);
}

/**
 * Offsets of elements in encoded bytes, for fixups that patch bytes in place (a MAC over content that
 * must stay byte-identical). Lenient: definite lengths only; returns null when the bytes do not parse.
 */
export function locate(buf, start = 0, limit = buf.length, depth = 0) {
  try {
    return locateAt(buf, start, limit, depth);
  } catch {
    return null;
  }
}

function locateAt(buf, start, limit, depth) {
  if (depth > MAX_DEPTH) throw new ParseError('too deep');
  let pos = start;
  if (pos >= limit) throw new ParseError('ends early');
  const first = buf[pos++];
  if ((first & 0x1f) === 0x1f) {
    while (pos < limit && buf[pos] & 0x80) pos++;
    pos++;
  }
  if (pos >= limit) throw new ParseError('ends early');
  const lb = buf[pos++];
  if (lb === 0x80) throw new ParseError('indefinite');
  let len = lb;
  if (lb & 0x80) {
    const n = lb & 0x7f;
    if (n > 4) throw new ParseError('long');
    len = 0;
    for (let i = 0; i < n; i++) {
      if (pos >= limit) throw new ParseError('ends early');
      len = len * 256 + buf[pos++];
    }
  }
  const end = pos + len;
  if (end > limit) throw new ParseError('past end');
  const loc = { tag: first, start, contentStart: pos, end, children: [] };
  if (first & 0x20) {
    let p = pos;
    while (p < end) {
      const c = locateAt(buf, p, end, depth + 1);
      loc.children.push(c);
      p = c.end;
    }
  }
  return loc;
}
