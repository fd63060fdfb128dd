// Seeds, the commands each format is driven through, and the per-format case generators: which layer
// of the file is mutated (raw bytes, ASN.1 structure, decrypted plaintext, JKS fields), and the fixups
// (PKCS#12 MAC, JKS digest, key re-encryption) that carry a mutation past the integrity checks.
import { createPrivateKey, createSign } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { contentOf, decodeOid, encode, enumerate, oidName, parseTree, T } from './asn1.js';
import { ASN1_MUTATORS, BYTE_MUTATORS, mutateBytes, mutateJwt, mutatePem, mutateTree, pemBlocksOf } from './mutators.js';
import { decrypt, encrypt, fixJksDigest, fixPkcs12Mac, jksDigest, jksProtect, jksUnprotect, parseJks, pbeCipher, serializeJks } from './pki.js';
import { Rng } from './rng.js';

export const FORMATS = ['pkcs12', 'jks', 'pem-cert', 'pem-key', 'der-cert', 'jwt'];
export const STORE_PASSWORD = 'changeit';
export const KEY_PASSWORD = 'keysecret';
const URL = 'https://127.0.0.1:9';

// ---- seeds ----------------------------------------------------------------------------------------

/** The fixture key that belongs to a certificate/chain file (by name), or a mismatching fallback. */
function keyFor(name) {
  const base = name.replace(/^bad\//, '').replace(/\.(chain\.pem|crt|pem)$/, '');
  const known = {
    'device-rsa': 'device-rsa.key',
    'device-ec256': 'device-ec256.key',
    'device-ec384': 'device-ec384.key',
    'device-expired': 'device-expired.key',
    'device-selfsigned': 'device-selfsigned.key',
    server: 'server.key',
    'server-wronghost': 'server-wronghost.key',
    'stranger-device': 'stranger-device.key',
    'missing-intermediate': 'device-rsa.key',
    unordered: 'device-rsa.key',
  };
  return known[base] ?? 'device-rsa.key';
}

/** The certificate chain that belongs to a key file (by name). */
function chainFor(name) {
  const m = /^(device-rsa|device-ec256|device-ec384|device-expired|stranger-device)\./.exec(name);
  if (m) return `${m[1]}.chain.pem`;
  return { 'device-selfsigned.key': 'device-selfsigned.crt', 'server.key': 'server.crt', 'server-wronghost.key': 'server-wronghost.crt' }[name] ?? 'device-rsa.chain.pem';
}

function pemToDer(text) {
  return pemBlocksOf(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => Buffer.from(b.body.replace(/\s+/g, ''), 'base64'));
}

/** Tokens as the local endpoint mints them (test/emulator/server.ts), with seeded claims. */
function mintTokens(pki) {
  const key = createPrivateKey(readFileSync(join(pki, 'token-signing.key')));
  const rng = new Rng('jwt-seeds');
  const iat = 1_767_225_600; // 2026-01-01T00:00:00Z: fixed, so seeds do not change from run to run
  const make = (name, claims, header = { alg: 'RS256' }) => {
    const enc = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${enc(header)}.${enc(claims)}`;
    return { name, data: Buffer.from(`${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`) };
  };
  const claims = (cn, lifetime, extra = {}) => ({
    jti: rng.bytes(16).toString('hex'),
    iss: 't12345.eu-latest.cumulocity.com',
    aud: 't12345.eu-latest.cumulocity.com',
    sub: `device_${cn}`,
    tci: 'device_token_config',
    iat,
    nbf: iat,
    exp: iat + lifetime,
    tfa: false,
    ten: 't12345',
    xsrfToken: rng.bytes(15).toString('base64url'),
    ...extra,
  });
  return [
    make('minted-rsa-1h.jwt', claims('rsa-device', 3600)),
    make('minted-ec-1d.jwt', claims('ec256-device', 86400)),
    make('minted-long-life.jwt', { ...claims('rsa-device', 0), exp: 4_102_444_800 }),
    make('minted-string-nbf.jwt', claims('rsa-device', 3600, { nbf: String(iat) })),
    make('minted-no-exp.jwt', (({ exp: _exp, ...c }) => c)(claims('rsa-device', 3600))),
    make('minted-kid.jwt', claims('ec384-device', 600), { alg: 'RS256', typ: 'JWT', kid: 'c8y-1' }),
  ];
}

/** Every seed, by format: { name, data, key?, chain? } with names relative to fixtures/pki. */
export function loadSeeds(pki) {
  // Every file of fixtures/pki and its sub-folders (bad/, names/, ...), by its path relative to pki.
  const walk = (dir) => readdirSync(join(pki, dir), { withFileTypes: true }).flatMap((e) => (e.name.startsWith('.') ? [] : e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  const files = walk('');
  const bad = [];
  const read = (f) => readFileSync(join(pki, f));
  const seeds = { pkcs12: [], jks: [], 'pem-cert': [], 'pem-key': [], 'der-cert': [], jwt: mintTokens(pki) };
  for (const f of [...files, ...bad]) {
    const data = read(f);
    if (/\.(p12|jks)$/.test(f)) {
      // By content, not by name: a .jks may hold PKCS#12.
      (data.readUInt32BE(0) === 0xfeedfeed ? seeds.jks : seeds.pkcs12).push({ name: f, data });
    } else if (/\.(crt|pem)$/.test(f)) {
      seeds['pem-cert'].push({ name: f, data, key: keyFor(f) });
      pemToDer(data.toString('latin1')).forEach((der, i) => seeds['der-cert'].push({ name: `${f}#${i}.der`, data: der, key: i === 0 ? keyFor(f) : 'device-rsa.key' }));
    } else if (/\.key$/.test(f)) {
      seeds['pem-key'].push({ name: f, data, chain: chainFor(f) });
    }
  }
  return seeds;
}

// ---- commands -------------------------------------------------------------------------------------

/**
 * The commands a format is driven through: argv for bin/c8ytoken.js, with FILE for the case file and
 * fixtures as pki(...). `stdin: true` pipes the file to stdin.
 */
export function commandsFor(format, seed, pki) {
  const p = (f) => join(pki, f);
  switch (format) {
    case 'pkcs12':
    case 'jks':
      return [
        { name: 'fetch --keystore', args: ['fetch', '--url', URL, '--keystore', 'FILE', '--timeout', '2s'] },
        { name: 'verify-chain --keystore', args: ['verify-chain', '--keystore', 'FILE'] },
        { name: 'fetch --truststore', args: ['fetch', '--url', URL, '--cert', p('device-rsa.chain.pem'), '--key', p('device-rsa.key'), '--truststore', 'FILE'] },
      ];
    case 'pem-cert':
    case 'der-cert':
      return [
        { name: 'verify-chain --cert', args: ['verify-chain', '--cert', 'FILE'] },
        { name: 'fetch --cert', args: ['fetch', '--url', URL, '--cert', 'FILE', '--key', p(seed.key)] },
      ];
    case 'pem-key':
      return [{ name: 'fetch --key', args: ['fetch', '--url', URL, '--cert', p(seed.chain), '--key', 'FILE', '--key-password-file', p('key.pass')] }];
    case 'jwt':
      return [
        { name: 'inspect FILE', args: ['inspect', 'FILE'] },
        { name: 'inspect --json FILE', args: ['inspect', '--json', 'FILE'] },
        { name: 'inspect < FILE', args: ['inspect'], stdin: true },
      ];
    default:
      throw new Error(`unknown format ${format}`);
  }
}

export const EXTENSIONS = { pkcs12: 'p12', jks: 'jks', 'pem-cert': 'pem', 'pem-key': 'key', 'der-cert': 'der', jwt: 'jwt' };

// ---- generators -----------------------------------------------------------------------------------

const P12_ALIASES = { 0: 'pfx.version', 1: 'authSafe', 2: 'macData' };

/** Elements a targeted PKCS#12 mutation aims at: iteration counts, salts, IVs, the MAC value, OIDs. */
const P12_TARGETS = {
  'asn1-int': (e) => /INTEGER@(pbkdf2\/1\/[12]|pbeSha[^/]*\/1\/1|macData\/2)$/.test(e.label),
  'asn1-octets': (e) => /OCTET STRING@(pbkdf2\/1\/0|pbeSha[^/]*\/1\/0|macData\/1|macData\/0\/1|(aes|des)[^/]*\/1)$/.test(e.label),
  'asn1-oid': (e) =>
    /OID@(pbes2|pbkdf2|pbeSha[^/]*|aes[^/]*|des[^/]*|hmac[^/]*|sha[0-9]+|data|encryptedData|keyBag|shroudedKeyBag|certBag|safeContentsBag|x509Certificate|friendlyName|localKeyId|macData\/0\/0)(\/0)?$/.test(
      e.label,
    ),
  'asn1-length': (e) => /(pbkdf2|pbeSha|macData|pbes2|authSafe)/.test(e.label),
};

/** Protected blobs of a PKCS#12 tree that the fuzzer can decrypt: [{ label, alg, holder }]. */
function pkcs12Encrypted(root) {
  const out = [];
  for (const e of enumerate(root, P12_ALIASES)) {
    const n = e.node;
    if (!n.children || n.children.length < 2 || !n.children[0] || n.children[0].tagNum !== T.oid || n.children[0].raw) continue;
    const name = oidName(decodeOid(n.children[0].content));
    if (!/^(pbes2|pbeSha)/.test(name) || !e.parent || typeof e.index !== 'number') continue;
    const holder = e.parent.children[e.index + 1];
    if (holder && !holder.children) out.push({ label: e.label, alg: n, holder });
  }
  return out;
}

/** Mutates a plaintext (PKCS#8 or SafeContents DER): ASN.1-aware when it parses, else bytes. */
function mutatePlain(rng, plain) {
  if (rng.chance(0.65)) {
    try {
      const m = mutateTree(rng, parseTree(plain));
      return { bytes: encode(m.root), name: m.name, detail: m.detail };
    } catch {
      // not DER: bytes below
    }
  }
  return mutateBytes(rng, plain);
}

function genPkcs12(rng, seed) {
  const layer = rng.weighted([
    [25, 'raw'],
    [35, 'asn1'],
    [20, 'targeted'],
    [20, 'decrypted'],
  ]);
  let bytes;
  let name;
  let detail;
  if (layer === 'raw') {
    ({ bytes, name, detail } = mutateBytes(rng, seed.data));
  } else {
    let root = parseTree(seed.data);
    if (layer === 'decrypted') {
      const blobs = pkcs12Encrypted(root)
        .map((b) => ({ ...b, cipher: pbeCipher(b.alg, STORE_PASSWORD) }))
        .filter((b) => b.cipher);
      const plainOf = (b) => b.cipher && decrypt(b.cipher, contentOf(b.holder));
      const usable = blobs.filter(plainOf);
      if (usable.length) {
        const b = rng.pick(usable);
        const m = mutatePlain(rng, plainOf(b));
        b.holder.content = encrypt(b.cipher, m.bytes);
        b.holder.encap = null;
        name = m.name;
        detail = `inside ${b.label} (${b.cipher.scheme}, re-encrypted): ${m.detail}`;
      }
    }
    if (!name) {
      const which = layer === 'targeted' ? rng.pick(['asn1-int', 'asn1-int', 'asn1-octets', 'asn1-oid', 'asn1-length']) : rng.pick(ASN1_MUTATORS);
      const filter = layer === 'targeted' ? P12_TARGETS[which] : undefined;
      const m = mutateTree(rng, root, { name: which, aliases: P12_ALIASES, ...(filter ? { filter } : {}) });
      root = m.root;
      name = m.name;
      detail = m.detail;
    }
    bytes = encode(root);
  }
  let fixup = 'none';
  if (rng.chance(layer === 'raw' ? 0.5 : 0.85)) {
    const f = fixPkcs12Mac(bytes, STORE_PASSWORD);
    if (f.ok) {
      bytes = f.bytes;
      fixup = 'mac';
    } else fixup = `mac-failed: ${f.why}`;
  }
  return { bytes, layer, mutator: name, detail, fixup };
}

function genJks(rng, seed) {
  const model = parseJks(seed.data);
  let layer = rng.weighted([
    [20, 'raw'],
    [30, 'fields'],
    [15, 'cert-asn1'],
    [10, 'keyblob-asn1'],
    [15, 'key-plaintext'],
    [10, 'entries'],
  ]);
  let name;
  let detail;
  let body; // serialised without digest
  const keyEntries = model.entries.filter((e) => e.tag === 1);
  const digestOf = (b) => jksDigest(b, STORE_PASSWORD);
  if (layer === 'raw') {
    const m = mutateBytes(rng, seed.data);
    let bytes = m.bytes;
    let fixup = 'none';
    if (rng.chance(0.5)) {
      const f = fixJksDigest(bytes, STORE_PASSWORD);
      fixup = f.ok ? 'digest' : `digest-failed: ${f.why}`;
      bytes = f.bytes;
    }
    return { bytes, layer, mutator: m.name, detail: m.detail, fixup };
  }
  if (layer === 'fields') {
    const ser = serializeJks(model);
    const numeric = ser.fields.filter((f) => f.kind !== 'bytes' || /alias$/.test(f.name));
    const f = rng.pick(numeric);
    const out = Buffer.from(ser.bytes);
    if (f.kind === 'bytes') {
      // An alias: replace its bytes (same length) with odd content.
      const v = rng.pick([
        Buffer.alloc(f.size),
        Buffer.alloc(f.size, 0xff),
        Buffer.from(
          out
            .subarray(f.off, f.off + f.size)
            .toString('latin1')
            .toUpperCase(),
          'latin1',
        ),
      ]);
      v.copy(out, f.off, 0, f.size);
      name = 'jks-field';
      detail = `${f.name}: bytes replaced`;
    } else {
      const orig = f.kind === 'u16' ? out.readUInt16BE(f.off) : out.readUInt32BE(f.off);
      const max = f.kind === 'u16' ? 0xffff : 0xffffffff;
      const v = rng.pick([0, 1, 2, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, orig + 1, orig - 1, orig * 2, rng.int(max + 1), 0xcececece]) & max;
      if (f.kind === 'u16') out.writeUInt16BE(v >>> 0, f.off);
      else out.writeUInt32BE(v >>> 0, f.off);
      name = /Count|count/.test(f.name) ? 'jks-count' : /[Ll]ength/.test(f.name) ? 'jks-length' : 'jks-field';
      detail = `${f.name}: ${orig} -> ${v >>> 0}`;
    }
    body = out;
  } else if (layer === 'cert-asn1') {
    const certs = model.entries.flatMap((e) => e.certs);
    const c = rng.pick(certs);
    const m = mutateTree(rng, parseTree(c.der));
    c.der = encode(m.root);
    name = m.name;
    detail = `certificate: ${m.detail}`;
  } else if (layer === 'keyblob-asn1' && keyEntries.length) {
    const e = rng.pick(keyEntries);
    const m = mutateTree(rng, parseTree(e.blob));
    e.blob = encode(m.root);
    name = m.name;
    detail = `key blob of "${e.alias}": ${m.detail}`;
  } else if (layer === 'key-plaintext' && keyEntries.length) {
    const e = rng.pick(keyEntries);
    const epki = parseTree(e.blob);
    const protectedKey = epki.children[1].content;
    const plain = jksUnprotect(protectedKey, STORE_PASSWORD) ?? jksUnprotect(protectedKey, KEY_PASSWORD);
    const m = mutatePlain(rng, plain);
    epki.children[1].content = jksProtect(m.bytes, STORE_PASSWORD, protectedKey.subarray(0, 20));
    epki.children[1].encap = null;
    e.blob = encode(epki);
    name = m.name;
    detail = `key of "${e.alias}" (re-protected): ${m.detail}`;
  } else {
    const kind = rng.pick(['duplicate-entry', 'duplicate-alias-case', 'remove-entry', 'version-1', 'many-entries', 'swap-tag']);
    const i = rng.int(model.entries.length);
    const e = model.entries[i];
    if (kind === 'duplicate-entry') model.entries.splice(i, 0, { ...e });
    else if (kind === 'duplicate-alias-case') model.entries.push({ ...e, alias: e.alias.toUpperCase() });
    else if (kind === 'remove-entry') model.entries.splice(i, 1);
    else if (kind === 'version-1') model.version = 1;
    else if (kind === 'many-entries') {
      const n = rng.pick([100, 1000, 10000]);
      const cert = model.entries.flatMap((x) => x.certs)[0];
      for (let k = 0; k < n; k++) model.entries.push({ tag: 2, alias: `ca-${k}`, time: e.time, certs: [cert] });
    } else {
      e.tag = e.tag === 1 ? 2 : 1;
      if (e.tag === 2) e.certs = e.certs.slice(0, 1);
      else e.blob = Buffer.alloc(0);
    }
    name = 'jks-entries';
    layer = 'entries';
    detail = `${kind} (entry ${i})`;
  }
  if (!body) body = serializeJks(model).bytes;
  let fixup = 'none';
  let bytes;
  if (rng.chance(0.85)) {
    const f = fixJksDigest(Buffer.concat([body, Buffer.alloc(20)]), STORE_PASSWORD);
    bytes = f.bytes;
    fixup = f.ok ? 'digest' : `digest-failed: ${f.why}`;
    if (!f.ok) bytes = Buffer.concat([body, digestOf(serializeJks(parseJks(seed.data)).bytes)]);
  } else bytes = Buffer.concat([body, seed.data.subarray(seed.data.length - 20)]);
  return { bytes, layer, mutator: name, detail, fixup };
}

/** PEM: text mutations, or an ASN.1 mutation of one block's DER, or bytes. */
function genPem(rng, seed) {
  const text = seed.data.toString('latin1');
  const layer = rng.weighted([
    [45, 'pem-text'],
    [40, 'block-der'],
    [15, 'raw'],
  ]);
  if (layer === 'raw') {
    const m = mutateBytes(rng, seed.data);
    return { bytes: m.bytes, layer, mutator: m.name, detail: m.detail, fixup: 'none' };
  }
  if (layer === 'block-der') {
    const blocks = pemBlocksOf(text);
    const b = blocks.length ? rng.pick(blocks) : null;
    if (b && !/Proc-Type/.test(b.body)) {
      try {
        const m = mutateTree(rng, parseTree(Buffer.from(b.body.replace(/\s+/g, ''), 'base64')));
        const b64 = encode(m.root).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
        const block = `-----BEGIN ${b.label}-----\n${b64}-----END ${b.label}-----\n`;
        return {
          bytes: Buffer.from(text.slice(0, b.start) + block + text.slice(b.end), 'latin1'),
          layer,
          mutator: m.name,
          detail: `${b.label} block ${blocks.indexOf(b) + 1}: ${m.detail}`,
          fixup: 'none',
        };
      } catch {
        // the block is not DER (an encrypted traditional key): a text mutation instead
      }
    }
  }
  const m = mutatePem(rng, text);
  return { bytes: Buffer.from(m.text, 'latin1'), layer: 'pem-text', mutator: m.name, detail: m.detail, fixup: 'none' };
}

function genDer(rng, seed) {
  if (rng.chance(0.7)) {
    const m = mutateTree(rng, parseTree(seed.data));
    return { bytes: encode(m.root), layer: 'asn1', mutator: m.name, detail: m.detail, fixup: 'none' };
  }
  const m = mutateBytes(rng, seed.data);
  return { bytes: m.bytes, layer: 'raw', mutator: m.name, detail: m.detail, fixup: 'none' };
}

function genJwt(rng, seed) {
  const token = seed.data.toString('utf8');
  if (rng.chance(0.12)) {
    const m = mutateBytes(rng, seed.data, rng.pick(BYTE_MUTATORS));
    return { bytes: m.bytes, layer: 'raw', mutator: m.name, detail: m.detail, fixup: 'none' };
  }
  const m = mutateJwt(rng, token);
  const newline = rng.chance(0.3) ? '\n' : '';
  return { bytes: Buffer.from(m.text + newline, 'utf8'), layer: 'jwt', mutator: m.name, detail: m.detail, fixup: 'none' };
}

const GENERATORS = { pkcs12: genPkcs12, jks: genJks, 'pem-cert': genPem, 'pem-key': genPem, 'der-cert': genDer, jwt: genJwt };

/**
 * Case number i of a campaign: format round-robin over the chosen formats, seed and command picked by the
 * case's own random stream, so a case depends only on (seed, i, formats).
 */
export function generateCase(campaignSeed, i, formats, seeds, pki) {
  const format = formats[i % formats.length];
  const rng = new Rng(`${campaignSeed}:${i}:${format}`);
  const seed = rng.pick(seeds[format]);
  const commands = commandsFor(format, seed, pki);
  const command = commands[Math.floor(i / formats.length) % commands.length];
  let generated;
  try {
    generated = GENERATORS[format](rng, seed);
  } catch (err) {
    // A generator bug must not stop a campaign: fall back to a byte mutation and say so.
    const m = mutateBytes(rng, seed.data);
    generated = { bytes: m.bytes, layer: 'raw', mutator: m.name, detail: `${m.detail} (generator failed: ${err.message})`, fixup: 'none' };
  }
  return { id: i, format, seed: seed.name, command, ...generated };
}
