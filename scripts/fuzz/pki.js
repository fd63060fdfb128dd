// The fuzzer's own keystore crypto, written from the specifications (RFC 7292, RFC 8018, OpenJDK's
// JavaKeyStore), not imported from the product: MAC and digest fixups (so a mutation inside a keystore
// gets past the integrity check and reaches the parsers behind it) and decrypt/re-encrypt of protected
// bags and keys (so their plaintext can be mutated too).
import { createCipheriv, createDecipheriv, createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { decodeOid, locate } from './asn1.js';

/** Above this many KDF rounds a fixup is not computed: the product would spend its time there anyway. */
export const MAX_FIXUP_ITERATIONS = 200_000;

const HASHES = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '1.2.840.113549.2.5': 'md5',
};
const HMAC_PRF = { '1.2.840.113549.2.7': 'sha1', '1.2.840.113549.2.8': 'sha224', '1.2.840.113549.2.9': 'sha256', '1.2.840.113549.2.10': 'sha384', '1.2.840.113549.2.11': 'sha512' };
const PBES2_CIPHERS = {
  '2.16.840.1.101.3.4.1.2': ['aes-128-cbc', 16],
  '2.16.840.1.101.3.4.1.22': ['aes-192-cbc', 24],
  '2.16.840.1.101.3.4.1.42': ['aes-256-cbc', 32],
  '1.2.840.113549.3.7': ['des-ede3-cbc', 24],
};
const PKCS12_PBE = { '1.2.840.113549.1.12.1.3': ['des-ede3-cbc', 24, 8] };
const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';

export function bmpPassword(password) {
  return Buffer.from(password + '\0', 'utf16le').swap16();
}

function uint(buf) {
  let v = 0;
  for (const b of buf) v = v * 256 + b;
  return v;
}

/** RFC 7292 appendix B.2. */
export function pkcs12Kdf(hash, password, salt, id, iterations, length) {
  const u = createHash(hash).digest().length;
  const v = hash === 'sha384' || hash === 'sha512' ? 128 : 64;
  const fill = (src) => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length];
    return out;
  };
  const d = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const blocks = [];
  for (let produced = 0; produced < length; produced += u) {
    let a = createHash(hash).update(d).update(I).digest();
    for (let r = 1; r < iterations; r++) a = createHash(hash).update(a).digest();
    blocks.push(a);
    if (produced + u >= length) break;
    const b = fill(a);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + b[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

const slice = (buf, loc) => buf.subarray(loc.contentStart, loc.end);

/**
 * Recomputes a PKCS#12 file's MAC over its (possibly mutated) authSafe content, with the (possibly
 * mutated) MAC parameters, and patches it in place. Returns { bytes, ok, why }.
 */
export function fixPkcs12Mac(bytes, password) {
  const pfx = locate(bytes);
  if (!pfx || pfx.children.length < 3) return { bytes, ok: false, why: 'outer structure or macData unreadable' };
  try {
    const wrapper = pfx.children[1].children[1];
    const octets = wrapper.children[0];
    let content;
    if (octets.tag === 0x04) content = slice(bytes, octets);
    else if (octets.tag === 0x24) content = Buffer.concat(octets.children.map((c) => slice(bytes, c)));
    else return { bytes, ok: false, why: 'authSafe content is not an OCTET STRING' };
    const mac = pfx.children[2];
    const digestInfo = mac.children[0];
    const hash = HASHES[decodeOid(slice(bytes, digestInfo.children[0].children[0]))];
    if (!hash) return { bytes, ok: false, why: 'MAC hash unknown' };
    const digest = digestInfo.children[1];
    const salt = slice(bytes, mac.children[1]);
    const iterations = mac.children[2] ? uint(slice(bytes, mac.children[2])) : 1;
    if (iterations > MAX_FIXUP_ITERATIONS) return { bytes, ok: false, why: `MAC iterations ${iterations} too many to compute` };
    const expectedLength = digest.end - digest.contentStart;
    // A MAC value of another length than the hash's can never match: no fixup (and no KDF run for a
    // key as long as that value, which for a mutated 64 KiB value would take this process minutes).
    if (createHash(hash).digest().length !== expectedLength) return { bytes, ok: false, why: 'MAC value length differs from the hash length' };
    const key = pkcs12Kdf(hash, bmpPassword(password), salt, 3, iterations, expectedLength);
    const value = createHmac(hash, key).update(content).digest();
    const out = Buffer.from(bytes);
    value.copy(out, digest.contentStart);
    return { bytes: out, ok: true };
  } catch (err) {
    return { bytes, ok: false, why: `macData unreadable (${err.message})` };
  }
}

/**
 * Key and IV of a PBES2 or PKCS#12-PBE AlgorithmIdentifier (a parsed asn1.js node), or null when the
 * scheme is one the fuzzer does not re-encrypt (RC2) or the parameters are unusable.
 */
export function pbeCipher(alg, password) {
  try {
    const oid = decodeOid(alg.children[0].content);
    const params = alg.children[1];
    if (oid === PBES2) {
      const kdf = params.children[0];
      if (decodeOid(kdf.children[0].content) !== PBKDF2) return null;
      const kp = kdf.children[1];
      const salt = kp.children[0].content;
      const iterations = uint(kp.children[1].content);
      if (iterations < 1 || iterations > MAX_FIXUP_ITERATIONS) return null;
      let prf = 'sha1';
      for (const extra of kp.children.slice(2)) if (extra.tagNum === 16) prf = HMAC_PRF[decodeOid(extra.children[0].content)] ?? prf;
      const enc = params.children[1];
      const cipher = PBES2_CIPHERS[decodeOid(enc.children[0].content)];
      if (!cipher) return null;
      const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher[1], prf);
      return { name: cipher[0], key, iv: enc.children[1].content, scheme: `pbes2/${cipher[0]}` };
    }
    const scheme = PKCS12_PBE[oid];
    if (!scheme) return null;
    const salt = params.children[0].content;
    const iterations = Math.max(1, uint(params.children[1].content));
    if (iterations > MAX_FIXUP_ITERATIONS) return null;
    const pw = bmpPassword(password);
    return { name: scheme[0], key: pkcs12Kdf('sha1', pw, salt, 1, iterations, scheme[1]), iv: pkcs12Kdf('sha1', pw, salt, 2, iterations, scheme[2]), scheme: `pkcs12-pbe/${scheme[0]}` };
  } catch {
    return null;
  }
}

export function decrypt(c, data) {
  try {
    const d = createDecipheriv(c.name, c.key, c.iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    return null;
  }
}

export function encrypt(c, data) {
  const e = createCipheriv(c.name, c.key, c.iv);
  return Buffer.concat([e.update(data), e.final()]);
}

// ---- JKS ------------------------------------------------------------------------------------------

export const JKS_MAGIC = 0xfeedfeed;

export function javaPassword(password) {
  return Buffer.from(password, 'utf16le').swap16();
}

/** Parses a JKS file into a model; throws when it does not parse (as far as the digest). */
export function parseJks(buf) {
  let pos = 0;
  const need = (n) => {
    if (pos + n > buf.length) throw new Error('ends early');
  };
  const u16 = () => (need(2), (pos += 2), buf.readUInt16BE(pos - 2));
  const u32 = () => (need(4), (pos += 4), buf.readUInt32BE(pos - 4));
  const bytes = (n) => (need(n), (pos += n), buf.subarray(pos - n, pos));
  const magic = u32();
  const version = u32();
  const count = u32();
  if (count > 10_000) throw new Error('too many entries');
  const entries = [];
  const cert = () => {
    const type = version === 2 ? bytes(u16()).toString('utf8') : undefined;
    return { type, der: Buffer.from(bytes(u32())) };
  };
  for (let i = 0; i < count; i++) {
    const tag = u32();
    const alias = bytes(u16()).toString('utf8');
    const time = Buffer.from(bytes(8));
    if (tag === 1) {
      const blob = Buffer.from(bytes(u32()));
      const n = u32();
      if (n > 10_000) throw new Error('too many certificates');
      const certs = [];
      for (let j = 0; j < n; j++) certs.push(cert());
      entries.push({ tag, alias, time, blob, certs });
    } else if (tag === 2) {
      entries.push({ tag, alias, time, certs: [cert()] });
    } else {
      throw new Error(`entry tag ${tag}`);
    }
  }
  return { magic, version, entries, signedEnd: pos };
}

/** Serialises a model (without the digest), recording where each field is, for field mutations. */
export function serializeJks(model) {
  const parts = [];
  const fields = [];
  let off = 0;
  const put = (buf, name, kind) => {
    if (name) fields.push({ name, off, size: buf.length, kind });
    parts.push(buf);
    off += buf.length;
  };
  const u16 = (v, name) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v & 0xffff);
    put(b, name, 'u16');
  };
  const u32 = (v, name) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    put(b, name, 'u32');
  };
  u32(model.magic, 'magic');
  u32(model.version, 'version');
  u32(model.entries.length, 'entryCount');
  model.entries.forEach((e, i) => {
    const p = `entry[${i}]`;
    u32(e.tag, `${p}.tag`);
    const alias = Buffer.from(e.alias, 'utf8');
    u16(alias.length, `${p}.aliasLength`);
    put(alias, `${p}.alias`, 'bytes');
    put(e.time, `${p}.time`, 'bytes');
    const putCert = (c, cp) => {
      if (model.version === 2) {
        const type = Buffer.from(c.type ?? 'X.509', 'utf8');
        u16(type.length, `${cp}.typeLength`);
        put(type, `${cp}.type`, 'bytes');
      }
      u32(c.der.length, `${cp}.length`);
      put(c.der, `${cp}.der`, 'bytes');
    };
    if (e.tag === 1) {
      u32(e.blob.length, `${p}.keyLength`);
      put(e.blob, `${p}.key`, 'bytes');
      u32(e.certs.length, `${p}.certCount`);
      e.certs.forEach((c, j) => putCert(c, `${p}.cert[${j}]`));
    } else {
      putCert(e.certs[0], `${p}.cert`);
    }
  });
  return { bytes: Buffer.concat(parts), fields };
}

export function jksDigest(signed, password) {
  return createHash('sha1').update(javaPassword(password)).update('Mighty Aphrodite', 'utf8').update(signed).digest();
}

/** Recomputes the integrity digest of (possibly mutated) JKS bytes; { bytes, ok, why }. */
export function fixJksDigest(bytes, password) {
  let model;
  try {
    model = parseJks(bytes);
  } catch (err) {
    return { bytes, ok: false, why: `JKS does not parse (${err.message})` };
  }
  const end = model.signedEnd;
  const digest = jksDigest(bytes.subarray(0, end), password);
  return { bytes: Buffer.concat([bytes.subarray(0, end), digest, bytes.subarray(Math.min(bytes.length, end + 20))]), ok: true };
}

/** JKS key protector (OpenJDK KeyProtector): returns the PKCS#8 plaintext, or null when the check fails. */
export function jksUnprotect(protectedKey, password) {
  if (protectedKey.length < 41) return null;
  const salt = protectedKey.subarray(0, 20);
  const enc = protectedKey.subarray(20, protectedKey.length - 20);
  const check = protectedKey.subarray(protectedKey.length - 20);
  const pw = javaPassword(password);
  const plain = keystream(pw, salt, enc);
  return createHash('sha1').update(pw).update(plain).digest().equals(check) ? plain : null;
}

export function jksProtect(plain, password, salt) {
  const pw = javaPassword(password);
  const enc = keystream(pw, salt, plain);
  return Buffer.concat([salt, enc, createHash('sha1').update(pw).update(plain).digest()]);
}

function keystream(pw, salt, data) {
  const out = Buffer.alloc(data.length);
  let digest = salt;
  for (let off = 0; off < data.length; off += 20) {
    digest = createHash('sha1').update(pw).update(digest).digest();
    for (let i = 0; i < 20 && off + i < data.length; i++) out[off + i] = data[off + i] ^ digest[i];
  }
  return out;
}
