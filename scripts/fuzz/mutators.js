// Mutators: generic byte-level ones, ASN.1-aware ones on an asn1.js tree, PEM text ones and JWT ones.
// Each returns what it did as { name, detail }, the detail naming the element touched and the value put
// there, so that a finding can be read without replaying it.
import { KNOWN_OIDS, T, clone, contentOf, decodeOid, encode, encodeOid, enumerate, intBytes, lengthBytes, make, oidName, replaceNode, typeName } from './asn1.js';

// ---- bytes ----------------------------------------------------------------------------------------

export const BYTE_MUTATORS = ['bitflip', 'byte-set', 'truncate', 'insert-random', 'duplicate-region', 'remove-region'];

/** One byte-level mutation of buf; returns { bytes, name, detail }. */
export function mutateBytes(rng, buf, name = rng.pick(BYTE_MUTATORS)) {
  const len = buf.length;
  const out = Buffer.from(buf);
  switch (name) {
    case 'bitflip': {
      const n = rng.weighted([
        [6, 1],
        [3, 2],
        [1, rng.range(3, 16)],
      ]);
      const at = [];
      for (let i = 0; i < n && len; i++) {
        const p = rng.int(len);
        out[p] ^= 1 << rng.int(8);
        at.push(p);
      }
      return { bytes: out, name, detail: `${n} bit(s) at ${at.slice(0, 4).join(',')}` };
    }
    case 'byte-set': {
      const n = rng.weighted([
        [6, 1],
        [3, 2],
        [1, rng.range(3, 8)],
      ]);
      const value = rng.pick([0x00, 0xff, 0x7f, 0x80]);
      const at = [];
      for (let i = 0; i < n && len; i++) {
        const p = rng.int(len);
        out[p] = value;
        at.push(p);
      }
      return { bytes: out, name, detail: `${n} byte(s) := 0x${value.toString(16)} at ${at.slice(0, 4).join(',')}` };
    }
    case 'truncate': {
      const keep = rng.chance(0.5) ? rng.int(len) : Math.max(0, len - rng.range(1, 32));
      return { bytes: buf.subarray(0, keep), name, detail: `to ${keep} of ${len} bytes` };
    }
    case 'insert-random': {
      const p = rng.int(len + 1);
      const add = rng.bytes(rng.smallSize(512));
      return { bytes: Buffer.concat([buf.subarray(0, p), add, buf.subarray(p)]), name, detail: `${add.length} byte(s) at ${p}` };
    }
    case 'duplicate-region': {
      const a = rng.int(len);
      const l = Math.min(len - a, rng.smallSize(Math.max(1, len >> 1)));
      const times = rng.weighted([
        [8, 1],
        [2, rng.range(2, 64)],
      ]);
      const p = rng.chance(0.5) ? a + l : rng.int(len + 1);
      const region = buf.subarray(a, a + l);
      return { bytes: Buffer.concat([buf.subarray(0, p), ...Array(times).fill(region), buf.subarray(p)]), name, detail: `${l} byte(s) from ${a} x${times} at ${p}` };
    }
    case 'remove-region': {
      const a = rng.int(len);
      const l = Math.min(len - a, rng.smallSize(Math.max(1, len >> 1)));
      return { bytes: Buffer.concat([buf.subarray(0, a), buf.subarray(a + l)]), name, detail: `${l} byte(s) at ${a}` };
    }
    default:
      throw new Error(`unknown byte mutator ${name}`);
  }
}

// ---- ASN.1 ----------------------------------------------------------------------------------------

export const ASN1_MUTATORS = ['asn1-length', 'asn1-int', 'asn1-octets', 'asn1-oid', 'asn1-tag', 'asn1-struct', 'asn1-nest'];

const INT_VALUES = [0, 1, 2, -1, 127, 128, 255, 256, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 48 - 1, 2 ** 53, 2n ** 64n, 2n ** 160n - 1n];

/** A value for an INTEGER: the interesting boundaries, or near the original. Returns [content, text]. */
export function intValue(rng, original) {
  const kind = rng.weighted([
    [7, 'table'],
    [1, 'empty'],
    [1, 'leading-zeros'],
    [1, 'near'],
  ]);
  if (kind === 'empty') return [Buffer.alloc(0), '(empty)'];
  if (kind === 'leading-zeros') return [Buffer.concat([Buffer.alloc(rng.range(1, 8)), original]), `00.. ${original.toString('hex')}`];
  if (kind === 'near') {
    let v = 0n;
    for (const b of original) v = v * 256n + BigInt(b);
    const nv = rng.pick([v + 1n, v - 1n, v * 1000n, v * 2n ** 16n]);
    return [intBytes(nv), String(nv)];
  }
  const value = rng.pick(INT_VALUES);
  return [intBytes(value), String(value)];
}

function octetValue(rng, original) {
  const kind = rng.pick(['empty', 'one', 'half', 'double', 'random', 'long', 'zeros', 'ones']);
  const big = rng.pick([256, 4096, 65536, 1 << 20]);
  switch (kind) {
    case 'empty':
      return [Buffer.alloc(0), 'empty'];
    case 'one':
      return [rng.bytes(1), '1 byte'];
    case 'half':
      return [original.subarray(0, original.length >> 1), `first ${original.length >> 1} bytes`];
    case 'double':
      return [Buffer.concat([original, original]), `doubled to ${original.length * 2}`];
    case 'random':
      return [rng.bytes(original.length), `random ${original.length} bytes`];
    case 'long':
      return [Buffer.concat([original, rng.bytes(big)]), `+${big} random bytes`];
    case 'zeros':
      return [Buffer.alloc(rng.chance(0.5) ? original.length : big), 'zeros'];
    default:
      return [Buffer.alloc(rng.chance(0.5) ? original.length : big, 0xff), '0xff bytes'];
  }
}

function oidValue(rng) {
  const kind = rng.weighted([
    [7, 'swap'],
    [3, 'malformed'],
  ]);
  if (kind === 'swap') {
    const oid = rng.pick(KNOWN_OIDS);
    return [encodeOid(oid), oidName(oid)];
  }
  const m = rng.pick(['empty', 'continuation', 'huge-arc', 'random', 'long']);
  switch (m) {
    case 'empty':
      return [Buffer.alloc(0), 'empty OID'];
    case 'continuation':
      return [Buffer.from([0x2a, 0x86, 0x48, 0x86]), 'OID ending in a continuation byte'];
    case 'huge-arc':
      return [Buffer.from([0x2a, ...Array(rng.range(5, 40)).fill(0xff), 0x7f]), 'OID with a huge arc'];
    case 'random':
      return [rng.bytes(rng.range(1, 24)), 'random OID bytes'];
    default:
      return [Buffer.from([0x2a, ...Array(rng.pick([200, 5000, 100000])).fill(0x01)]), 'OID with very many arcs'];
  }
}

function lengthHeader(rng, len) {
  const kind = rng.pick(['long-nonminimal', 'indefinite', 'indefinite-no-eoc', 'huge', 'plus', 'minus', 'zero', 'len-of-len']);
  switch (kind) {
    case 'long-nonminimal': {
      const n = rng.range(len < 256 ? 1 : 2, 4);
      const b = Buffer.alloc(n + 1);
      b[0] = 0x80 | n;
      b.writeUIntBE(len, 1, n);
      return [b, false, `length ${len} in ${n}-byte long form`];
    }
    case 'indefinite':
      return [Buffer.from([0x80]), true, 'indefinite length (with end-of-contents)'];
    case 'indefinite-no-eoc':
      return [Buffer.from([0x80]), false, 'indefinite length without end-of-contents'];
    case 'huge': {
      const b = rng.pick([
        [0x84, 0xff, 0xff, 0xff, 0xff],
        [0x84, 0x7f, 0xff, 0xff, 0xff],
        [0x85, 0x01, 0, 0, 0, 0],
        [0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        [0xff],
        [0x83, 0xff, 0xff, 0xff],
      ]);
      return [Buffer.from(b), false, `huge length ${Buffer.from(b).toString('hex')}`];
    }
    case 'plus': {
      const d = rng.pick([1, 1, 2, rng.range(3, 300)]);
      return [lengthBytes(len + d), false, `length ${len}+${d}`];
    }
    case 'minus': {
      const d = Math.min(len, rng.pick([1, 1, 2, rng.range(3, 300)]));
      return [lengthBytes(len - d), false, `length ${len}-${d}`];
    }
    case 'zero':
      return [Buffer.from([0]), false, 'length 0'];
    default:
      return [Buffer.from([0x84, 0, 0, 0, 0].slice(0, rng.range(1, 5)).map((x, i) => (i === 0 ? 0x80 | rng.range(0, 4) : x))), false, 'odd length-of-length'];
  }
}

const isType = (n, tag) => n.cls === 0 && n.tagNum === tag && !n.raw;

/**
 * One ASN.1-aware mutation of a tree (modified in place; the possibly new root is returned).
 * `filter(entry)` restricts the elements considered (targeted mutations).
 */
export function mutateTree(rng, root, { name = rng.pick(ASN1_MUTATORS), aliases = {}, filter = () => true } = {}) {
  const all = enumerate(root, aliases).filter(filter);
  const pickWhere = (pred) => {
    const c = all.filter((e) => pred(e.node));
    return c.length ? rng.pick(c) : null;
  };
  const done = (entry, detail) => ({ root, name, detail: `${entry.label}: ${detail}` });
  switch (name) {
    case 'asn1-int': {
      const e = pickWhere((n) => isType(n, T.integer));
      if (!e) break;
      const [content, text] = intValue(rng, e.node.content);
      e.node.content = content;
      return done(e, `:= ${text}`);
    }
    case 'asn1-octets': {
      const e = pickWhere((n) => (isType(n, T.octetString) || (n.cls === 2 && !n.constructed)) && !n.children);
      if (!e) break;
      const [content, text] = octetValue(rng, contentOf(e.node));
      e.node.encap = null;
      e.node.content = content;
      return done(e, `:= ${text}`);
    }
    case 'asn1-oid': {
      const e = pickWhere((n) => isType(n, T.oid));
      if (!e) break;
      const before = oidName(decodeOid(e.node.content));
      const [content, text] = oidValue(rng);
      e.node.content = content;
      return done(e, `${before} -> ${text}`);
    }
    case 'asn1-length': {
      const e = rng.pick(all);
      const content = contentOf(e.node);
      const [header, eoc, text] = lengthHeader(rng, content.length);
      e.node.raw = Buffer.concat([e.node.tagBytes, header, content, eoc ? Buffer.alloc(2) : Buffer.alloc(0)]);
      return done(e, text);
    }
    case 'asn1-tag': {
      const e = rng.pick(all);
      const content = contentOf(e.node);
      const first = e.node.tagBytes[0];
      const kind = rng.pick(['constructed-bit', 'universal', 'class', 'high-tag']);
      let tag;
      if (kind === 'constructed-bit') tag = Buffer.from([first ^ 0x20]);
      else if (kind === 'universal') tag = Buffer.from([(first & 0x20) | rng.pick([1, 2, 3, 4, 5, 6, 12, 16, 17, 19, 23, 24, 30, 0])]);
      else if (kind === 'class') tag = Buffer.from([(first & 0x3f) | (rng.range(1, 3) << 6)]);
      else tag = Buffer.from([(first & 0xe0) | 0x1f, ...Array(rng.range(1, 6)).fill(0x81), 0x00]);
      e.node.raw = Buffer.concat([tag, lengthBytes(content.length), content]);
      return done(e, `tag ${first.toString(16)} -> ${tag.toString('hex')} (${kind})`);
    }
    case 'asn1-struct': {
      const e = pickWhere((n) => n.children && n.children.length > 0);
      if (!e) break;
      const kids = e.node.children;
      const i = rng.int(kids.length);
      const kind = rng.pick(['remove', 'duplicate', 'duplicate-many', 'swap', 'insert', 'clear']);
      if (kind === 'remove') kids.splice(i, 1);
      else if (kind === 'duplicate') kids.splice(i, 0, clone(kids[i]));
      else if (kind === 'duplicate-many') {
        const n = rng.pick([10, 100, 1000, 10000]);
        const one = encode(kids[i]);
        if (one.length * n > 8 << 20) return done(e, 'nothing (too large)');
        kids.splice(i, 0, ...Array.from({ length: n }, () => clone(kids[i])));
        return done(e, `child ${i} (${typeName(kids[i])}) x${n}`);
      } else if (kind === 'swap') {
        const j = rng.int(kids.length);
        [kids[i], kids[j]] = [kids[j], kids[i]];
        return done(e, `swap children ${i} and ${j}`);
      } else if (kind === 'insert') {
        const n = rng.pick([make(0x05, Buffer.alloc(0)), make(0x02, Buffer.from([0])), make(0x30, []), make(0x04, Buffer.alloc(0)), make(0x06, encodeOid(rng.pick(KNOWN_OIDS))), make(0xa0, [])]);
        kids.splice(i, 0, n);
        return done(e, `insert ${typeName(n)} at ${i}`);
      } else e.node.children = [];
      return done(e, `${kind} child ${i}`);
    }
    case 'asn1-nest': {
      const e = rng.pick(all);
      const depth = rng.pick([1, 10, 63, 64, 65, 100, 1000, 10000]);
      const inner = encode(e.node);
      if (rng.chance(0.7)) {
        // Headers computed inside out, emitted outside in: no recursion, no repeated copying.
        const headers = [];
        let len = inner.length;
        for (let d = 0; d < depth; d++) {
          const h = Buffer.concat([Buffer.from([0x30]), lengthBytes(len)]);
          headers.push(h);
          len += h.length;
        }
        const holder = make(0x30, Buffer.alloc(0));
        holder.raw = Buffer.concat([...headers.reverse(), inner]);
        root = replaceNode(e, holder, root);
        return { root, name, detail: `${e.label}: wrapped in ${depth} SEQUENCEs` };
      }
      const raw = Buffer.concat([Buffer.from(Array(depth).fill([0x30, 0x80]).flat()), inner, Buffer.alloc(rng.chance(0.5) ? 2 * depth : 0)]);
      const holder = make(0x30, Buffer.alloc(0));
      holder.raw = raw;
      root = replaceNode(e, holder, root);
      return { root, name, detail: `${e.label}: wrapped in ${depth} indefinite-length SEQUENCEs` };
    }
    default:
      throw new Error(`unknown ASN.1 mutator ${name}`);
  }
  // Nothing of the wanted kind: fall back to a length mutation, which any tree has.
  return mutateTree(rng, root, { name: 'asn1-length', aliases, filter });
}

// ---- PEM text -------------------------------------------------------------------------------------

export const PEM_MUTATORS = [
  'pem-base64',
  'pem-dup-begin',
  'pem-unterminated',
  'pem-mixed-labels',
  'pem-many-blocks',
  'pem-many-begins',
  'pem-line-endings',
  'pem-garbage',
  'pem-headers',
  'pem-empty-block',
  'pem-label-variant',
];

const BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----\n([\s\S]*?)-----END \1-----\n?/g;
const LABELS = [
  'CERTIFICATE',
  'TRUSTED CERTIFICATE',
  'PRIVATE KEY',
  'RSA PRIVATE KEY',
  'EC PRIVATE KEY',
  'ENCRYPTED PRIVATE KEY',
  'DSA PRIVATE KEY',
  'PUBLIC KEY',
  'X509 CRL',
  'CERTIFICATE REQUEST',
  'EC PARAMETERS',
];

export function pemBlocksOf(text) {
  return [...text.matchAll(BLOCK_RE)].map((m) => ({ start: m.index, end: m.index + m[0].length, label: m[1], body: m[2], text: m[0] }));
}

const replaceRange = (s, a, b, x) => s.slice(0, a) + x + s.slice(b);

/** One PEM text mutation; returns { text, name, detail } (text is latin1 so bytes survive). */
export function mutatePem(rng, text, name = rng.pick(PEM_MUTATORS)) {
  const blocks = pemBlocksOf(text);
  const b = blocks.length ? rng.pick(blocks) : null;
  const res = (t, detail) => ({ text: t, name, detail });
  const MAX = 4 << 20;
  switch (name) {
    case 'pem-base64': {
      if (!b) break;
      const bodyStart = text.indexOf('\n', b.start) + 1;
      const bodyEnd = bodyStart + b.body.length;
      let body = b.body;
      const kind = rng.pick(['bad-char', 'delete', 'padding', 'rewrap', 'no-newlines', 'case-flip']);
      if (kind === 'bad-char') {
        const ch = rng.pick(['!', '*', '~', '.', '-', '_', ' ', '\t', '\u00e9', '\0', '%', '"', '=']);
        const p = rng.int(body.length);
        body = replaceRange(body, p, p, ch.repeat(rng.pick([1, 1, 3, 100])));
        return res(replaceRange(text, bodyStart, bodyEnd, body), `${b.label}: ${JSON.stringify(ch)} at ${p}`);
      }
      if (kind === 'delete') {
        const n = rng.range(1, 5);
        const p = rng.int(Math.max(1, body.length - n));
        return res(replaceRange(text, bodyStart, bodyEnd, replaceRange(body, p, p + n, '')), `${b.label}: deleted ${n} char(s) at ${p}`);
      }
      if (kind === 'padding') {
        const pad = rng.pick(['', '=', '==', '===', '====']);
        body = body.replace(/=+\n?$/, '').replace(/\n$/, '') + pad + '\n';
        if (rng.chance(0.3)) body = replaceRange(body, body.length >> 1, body.length >> 1, '==');
        return res(replaceRange(text, bodyStart, bodyEnd, body), `${b.label}: padding ${JSON.stringify(pad)}`);
      }
      if (kind === 'rewrap' || kind === 'no-newlines') {
        const flat = body.replace(/\s+/g, '');
        const width = kind === 'no-newlines' ? flat.length : rng.pick([1, 4, 63, 65, 76, 1000]);
        const lines = flat.match(new RegExp(`.{1,${Math.max(1, width)}}`, 'g')) ?? [];
        return res(replaceRange(text, bodyStart, bodyEnd, lines.join('\n') + '\n'), `${b.label}: rewrapped at ${width}`);
      }
      const p = rng.int(body.length);
      const ch = body[p];
      const flipped = ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
      return res(replaceRange(text, bodyStart, bodyEnd, replaceRange(body, p, p + 1, flipped)), `${b.label}: case flip at ${p}`);
    }
    case 'pem-dup-begin': {
      if (!b) break;
      const line = `-----BEGIN ${b.label}-----\n`;
      const n = rng.pick([1, 1, 2, 100]);
      return res(replaceRange(text, b.start, b.start, line.repeat(n)), `${b.label}: BEGIN line x${n + 1}`);
    }
    case 'pem-unterminated': {
      if (!b) break;
      const all = rng.chance(0.3);
      const t = all ? text.replace(/-----END [A-Z0-9 ]+-----\n?/g, '') : text.replace(`-----END ${b.label}-----`, '');
      return res(t, all ? 'every END line removed' : `${b.label}: END line removed`);
    }
    case 'pem-mixed-labels': {
      if (!b) break;
      const other = rng.pick(LABELS.filter((l) => l !== b.label));
      const where = rng.pick(['end', 'both', 'begin']);
      let t = b.text;
      if (where !== 'begin') t = t.replace(`-----END ${b.label}-----`, `-----END ${other}-----`);
      if (where !== 'end') t = t.replace(`-----BEGIN ${b.label}-----`, `-----BEGIN ${other}-----`);
      return res(replaceRange(text, b.start, b.end, t), `${b.label}: ${where} label -> ${other}`);
    }
    case 'pem-many-blocks': {
      if (!b) break;
      const n = Math.min(rng.pick([10, 100, 1000, 5000]), Math.floor(MAX / b.text.length));
      return res(replaceRange(text, b.end, b.end, b.text.endsWith('\n') ? b.text.repeat(n) : `\n${b.text}`.repeat(n)), `${b.label}: block x${n + 1}`);
    }
    case 'pem-many-begins': {
      const label = b ? b.label : 'CERTIFICATE';
      const n = rng.pick([100, 1000, 10000, 50000]);
      const line = rng.chance(0.5) ? `-----BEGIN ${label}-----\n` : `-----BEGIN ${label}-----\nMIIB\n`;
      const at = rng.chance(0.5) ? 0 : text.length;
      return res(replaceRange(text, at, at, line.repeat(n)), `${n} unterminated BEGIN ${label} lines at ${at === 0 ? 'start' : 'end'}`);
    }
    case 'pem-line-endings': {
      const kind = rng.pick(['crlf', 'cr', 'mixed', 'trailing-space', 'none-after-end']);
      if (kind === 'crlf') return res(text.replace(/\n/g, '\r\n'), 'CRLF');
      if (kind === 'cr') return res(text.replace(/\n/g, '\r'), 'CR only');
      if (kind === 'mixed')
        return res(
          text.replace(/\n/g, () => rng.pick(['\n', '\r\n', '\r', '\n\n'])),
          'mixed line ends',
        );
      if (kind === 'trailing-space') return res(text.replace(/\n/g, ' \t\n'), 'trailing whitespace');
      return res(text.replace(/\n+$/, ''), 'no final newline');
    }
    case 'pem-garbage': {
      const g = rng.pick([
        'Bag Attributes\n    localKeyId: 01 02\n',
        '\0\0\0',
        '\xff\xfe',
        'x'.repeat(100000) + '\n',
        '-----\n',
        '-----BEGIN-----\n',
        '----- BEGIN CERTIFICATE -----\n',
        rng.bytes(64).toString('latin1'),
      ]);
      const at = b ? rng.pick([b.start, b.end, 0, text.length]) : rng.int(text.length + 1);
      return res(replaceRange(text, at, at, g), `${JSON.stringify(g.slice(0, 30))}${g.length > 30 ? '...' : ''} at ${at}`);
    }
    case 'pem-headers': {
      if (!b) break;
      const existing = /DEK-Info: ([^\n]*)\n/.exec(b.text);
      let t;
      let what;
      if (existing && rng.chance(0.7)) {
        const v = rng.pick([
          'AES-256-CBC,',
          'AES-256-CBC,00',
          'AES-256-CBC,ZZ' + '0'.repeat(30),
          'NOPE-CBC,0011223344556677',
          'DES-EDE3-CBC,' + '0'.repeat(16),
          'AES-128-CBC,' + '0'.repeat(10000),
          '',
          ',',
          'AES-256-CBC',
          existing[1].toLowerCase(),
        ]);
        t = b.text.replace(existing[0], `DEK-Info: ${v}\n`);
        what = `DEK-Info -> ${JSON.stringify(v.slice(0, 40))}`;
      } else {
        const h = rng.pick([
          'Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n',
          'Proc-Type: 4,ENCRYPTED\n\n',
          'Proc-Type: 4,ENCRYPTED\nDEK-Info: \n\n',
          'Comment: x\n\n',
          'Proc-Type: 99,WHAT\n\n',
        ]);
        t = b.text.replace(/-----\n/, `-----\n${h}`);
        what = `headers ${JSON.stringify(h.slice(0, 40))}`;
      }
      return res(replaceRange(text, b.start, b.end, t), `${b.label}: ${what}`);
    }
    case 'pem-empty-block': {
      const label = b ? b.label : 'CERTIFICATE';
      const body = rng.pick(['', '\n', '   \n', '====\n', 'A\n', 'AA==\n', 'MA==\n', 'MAA=\n', 'MIA=\n', 'MIQAAAAA\n']);
      const block = `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
      const at = rng.chance(0.5) ? 0 : text.length;
      return res(replaceRange(text, at, at, block), `empty-ish ${label} block ${JSON.stringify(body)} at ${at === 0 ? 'start' : 'end'}`);
    }
    case 'pem-label-variant': {
      if (!b) break;
      const v = rng.pick([b.label.toLowerCase(), ` ${b.label}`, `${b.label} `, b.label.replace(' ', '  '), `${b.label}X`]);
      const dashes = rng.pick(['-----', '-----', '----', '------']);
      const t = b.text
        .replace(`-----BEGIN ${b.label}-----`, `${dashes}BEGIN ${v}${dashes}`)
        .replace(`-----END ${b.label}-----`, rng.chance(0.5) ? `${dashes}END ${v}${dashes}` : `-----END ${b.label}-----`);
      return res(replaceRange(text, b.start, b.end, t), `${b.label}: label ${JSON.stringify(v)} with ${dashes}`);
    }
    default:
      throw new Error(`unknown PEM mutator ${name}`);
  }
  return mutatePem(rng, text, 'pem-line-endings');
}

// ---- JWT ------------------------------------------------------------------------------------------

export const JWT_MUTATORS = ['jwt-base64url', 'jwt-json', 'jwt-deep-nesting', 'jwt-huge-number', 'jwt-odd-types', 'jwt-drop-claims', 'jwt-parts', 'jwt-claims', 'jwt-not-object', 'jwt-huge'];

const b64u = (s) => Buffer.from(s, typeof s === 'string' ? 'utf8' : undefined).toString('base64url');
const unb64u = (s) => Buffer.from(s, 'base64url');

/** Builds JSON text of an object whose values are given as JSON text (so non-JSON-safe numbers survive). */
function objectText(entries) {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

function nested(depth, leaf, kind) {
  if (kind === 'array') return '['.repeat(depth) + leaf + ']'.repeat(depth);
  return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

const TIME_CLAIMS = ['iat', 'exp', 'nbf'];

/** One JWT mutation of a compact token (text). Returns { text, name, detail }. */
export function mutateJwt(rng, token, name = rng.pick(JWT_MUTATORS)) {
  const [h, p, s] = token.split('.');
  const header = unb64u(h).toString('utf8');
  const payload = unb64u(p).toString('utf8');
  const claims = Object.entries(JSON.parse(payload)).map(([k, v]) => [k, JSON.stringify(v)]);
  const set = (entries, key, valueText) => {
    const i = entries.findIndex(([k]) => k === key);
    const copy = entries.slice();
    if (i >= 0) copy[i] = [key, valueText];
    else copy.push([key, valueText]);
    return copy;
  };
  const withPayload = (text) => `${h}.${b64u(text)}.${s}`;
  const res = (text, detail) => ({ text, name, detail });
  switch (name) {
    case 'jwt-base64url': {
      const parts = [h, p, s];
      const i = rng.int(3);
      const kind = rng.pick(['bad-char', 'length-1-mod-4', 'padding', 'empty', 'standard-base64']);
      let part = parts[i];
      if (kind === 'bad-char') {
        const pos = rng.int(part.length + 1);
        part = replaceRange(part, pos, pos, rng.pick(['+', '/', '=', ' ', '%', '\u00e9', '\n', '*', '\0']));
      } else if (kind === 'length-1-mod-4') {
        while (part.length % 4 !== 1) part = part.slice(0, -1);
      } else if (kind === 'padding') part += rng.pick(['=', '==', '===']);
      else if (kind === 'empty') part = '';
      else part = part.replace(/-/g, '+').replace(/_/g, '/') + '=';
      parts[i] = part;
      return res(parts.join('.'), `part ${i}: ${kind}`);
    }
    case 'jwt-json': {
      const which = rng.chance(0.7) ? 'payload' : 'header';
      let t = which === 'payload' ? payload : header;
      const kind = rng.pick(['delete-char', 'truncate', 'insert-char', 'duplicate', 'bom', 'invalid-utf8', 'lone-surrogate', 'nul', 'trailing']);
      let bytes;
      if (kind === 'delete-char') {
        const i = rng.int(t.length);
        t = replaceRange(t, i, i + 1, '');
      } else if (kind === 'truncate') t = t.slice(0, rng.int(t.length));
      else if (kind === 'insert-char') {
        const i = rng.int(t.length + 1);
        t = replaceRange(t, i, i, rng.pick(['{', '}', '[', ']', '"', ',', ':', '\\', '\\u', '\n']));
      } else if (kind === 'duplicate') {
        const i = rng.int(t.length);
        t = replaceRange(t, i, i, t.slice(i, i + rng.range(1, 20)));
      } else if (kind === 'bom') t = '\ufeff' + t;
      else if (kind === 'invalid-utf8') bytes = Buffer.concat([Buffer.from(t.slice(0, -1)), Buffer.from(rng.pick([[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82]])), Buffer.from('"}')]);
      else if (kind === 'lone-surrogate') t = t.replace(/}$/, ',"x":"\\ud800"}');
      else if (kind === 'nul') t = t.replace(/}$/, ',"x":"\u0000"}');
      else t = `${t}${rng.pick([' ', '}', ',', 'x', '{}'])}`;
      const enc = bytes ? bytes.toString('base64url') : b64u(t);
      return res(which === 'payload' ? `${h}.${enc}.${s}` : `${enc}.${p}.${s}`, `${which}: ${kind}`);
    }
    case 'jwt-deep-nesting': {
      const depth = rng.pick([10, 100, 1000, 3000, 5000, 10000, 100000]);
      const kind = rng.pick(['array', 'object']);
      const key = rng.pick([...TIME_CLAIMS, 'ten', 'sub', 'xsrfToken', 'x']);
      if (rng.chance(0.8)) return res(withPayload(objectText(set(claims, key, nested(depth, '1', kind)))), `${key} := ${kind} nested ${depth} deep`);
      const hdr = objectText([
        ['alg', '"RS256"'],
        ['x', nested(depth, '1', kind)],
      ]);
      return res(`${b64u(hdr)}.${p}.${s}`, `header x := ${kind} nested ${depth} deep`);
    }
    case 'jwt-huge-number': {
      const key = rng.pick([...TIME_CLAIMS, ...TIME_CLAIMS, 'tfa', 'x']);
      const v = rng.pick([
        '1e308',
        '-1e308',
        '1e400',
        '-1e400',
        '9007199254740993',
        '8640000000000',
        '8640000000001',
        '8639999999999.999',
        '-0',
        '0',
        '0.5',
        '1e-300',
        '-1',
        '4294967296',
        '1'.repeat(400),
        '1'.repeat(100000),
        '123456789012345678901234567890',
      ]);
      const v2 = rng.chance(0.3) ? rng.pick(['1e308', '-1', '0', '1e400']) : undefined;
      let entries = set(claims, key, v);
      if (v2) entries = set(entries, rng.pick(TIME_CLAIMS), v2);
      return res(withPayload(objectText(entries)), `${key} := ${v.length > 24 ? `${v.slice(0, 12)}... (${v.length} digits)` : v}${v2 ? ` and another := ${v2}` : ''}`);
    }
    case 'jwt-odd-types': {
      const inHeader = rng.chance(0.25);
      const key = inHeader ? rng.pick(['alg', 'typ', 'kid']) : rng.pick([...TIME_CLAIMS, ...TIME_CLAIMS, 'ten', 'sub', 'tci', 'iss', 'aud', 'xsrfToken', 'jti']);
      const v = rng.pick([
        '"123"',
        '" 123 "',
        '"abc"',
        '"1e3"',
        '"0x10"',
        '""',
        '"-5"',
        '"99999999999999999999"',
        'true',
        'false',
        'null',
        '{}',
        '[]',
        '[1,2]',
        '{"a":1}',
        '{"toString":1}',
        '[[]]',
        `"${'x'.repeat(100000)}"`,
        '"\\u0000"',
        '"\\u001b[31mred"',
        '"line\\nbreak"',
      ]);
      if (inHeader) {
        const hdr = objectText(
          set(
            Object.entries(JSON.parse(header)).map(([k, x]) => [k, JSON.stringify(x)]),
            key,
            v,
          ),
        );
        return res(`${b64u(hdr)}.${p}.${s}`, `header ${key} := ${v.slice(0, 30)}`);
      }
      return res(withPayload(objectText(set(claims, key, v))), `${key} := ${v.slice(0, 30)}`);
    }
    case 'jwt-drop-claims': {
      // Claims deleted whole (each with even odds, at least one), and perhaps one of the rest retyped: the
      // readers must explain whatever claims exist (inspect crashed on aud without iss).
      let kept = claims.filter(() => rng.chance(0.5));
      if (kept.length === claims.length && claims.length > 0) kept = claims.filter((_, i) => i !== rng.int(claims.length));
      const dropped = claims.filter(([k]) => !kept.some(([j]) => j === k)).map(([k]) => k);
      const retype = kept.length > 0 && rng.chance(0.5) ? rng.pick(kept)[0] : undefined;
      if (retype !== undefined) kept = set(kept, retype, rng.pick(['1', '"1"', 'null', 'true', '[]', '{}', '["a","b"]']));
      return res(withPayload(objectText(kept)), `without ${dropped.join(', ') || 'nothing'}${retype ? `; ${retype} retyped` : ''}`);
    }
    case 'jwt-parts': {
      const kind = rng.pick(['one', 'two', 'four', 'five', 'six', 'many', 'empty-parts', 'trailing-dot', 'leading-dot', 'whitespace', 'bearer', 'two-tokens', 'empty', 'only-dots']);
      const t = {
        one: h,
        two: `${h}.${p}`,
        four: `${h}.${p}.${s}.${s}`,
        five: `${h}.${p}.${s}.${s}.${s}`,
        six: `${h}.${p}.${s}.${h}.${p}.${s}`,
        many: Array(rng.pick([100, 10000]))
          .fill(h)
          .join('.'),
        'empty-parts': `${h}..${s}`,
        'trailing-dot': `${token}.`,
        'leading-dot': `.${token}`,
        whitespace: `${h}.\n${p} .${s}`,
        bearer: rng.pick([`Bearer ${token}`, `Authorization: Bearer ${token}`, `bearer\t${token}`, `Bearer`, `Authorization: `, `Bearer Bearer ${token}`]),
        'two-tokens': `${token}\n${token}`,
        empty: rng.pick(['', ' ', '\n', '\0']),
        'only-dots': '..',
      }[kind];
      return res(t, kind);
    }
    case 'jwt-claims': {
      const kind = rng.pick(['proto', 'constructor', 'many-keys', 'long-key', 'duplicate-keys', 'unicode-key', 'empty-key', 'no-claims']);
      let entries = claims;
      if (kind === 'proto') entries = set(claims, '__proto__', rng.pick(['{"exp":1}', 'null', '1', '{"toString":1}']));
      else if (kind === 'constructor') entries = set(set(claims, 'constructor', '{"prototype":{"x":1}}'), rng.pick(['toString', 'hasOwnProperty', 'valueOf', 'toJSON']), rng.pick(['1', '"x"', '{}']));
      else if (kind === 'many-keys') entries = [...claims, ...Array.from({ length: rng.pick([1000, 10000, 100000]) }, (_, i) => [`k${i}`, String(i)])];
      else if (kind === 'long-key') entries = set(claims, 'k'.repeat(rng.pick([1000, 100000])), '1');
      else if (kind === 'duplicate-keys') entries = [...claims, ['exp', rng.pick(['"x"', '0', '1e308', 'null'])], ['iat', '{}']];
      else if (kind === 'unicode-key') entries = set(claims, rng.pick(['\u202eexp', 'e\u0301xp', '\ud83d\ude00', '\u0000']), '1');
      else if (kind === 'empty-key') entries = set(claims, '', '1');
      else entries = [];
      return res(withPayload(objectText(entries)), kind);
    }
    case 'jwt-not-object': {
      const v = rng.pick(['[]', '[1]', '"x"', '1', 'null', 'true', '""', '[{"exp":1}]']);
      return res(rng.chance(0.7) ? withPayload(v) : `${b64u(v)}.${p}.${s}`, `${v}`);
    }
    case 'jwt-huge': {
      const n = rng.pick([100000, 1 << 20, 3 << 20]);
      return res(withPayload(objectText(set(claims, 'x', `"${'A'.repeat(n)}"`))), `payload with a ${n}-char string`);
    }
    default:
      throw new Error(`unknown JWT mutator ${name}`);
  }
}
