/**
 * The WebAssembly modules of the PKCS#12 KDF's rounds (digest-rounds.ts), assembled from the algorithm
 * (FIPS 180-4 §6.1.2 and §6.2.2) with a small emitter of the dozen opcodes needed: a reviewer reads the
 * steps, not bytes. This runs at development time, not in the product: `npm run wasm` writes the modules'
 * bytes to digest-rounds-modules.ts, and test/unit/pbe.test.ts checks that the committed bytes are what
 * this file assembles (ADR 0010).
 */

// WebAssembly opcodes used below (WebAssembly Core Specification §5.4).
const op = { block: 0x02, loop: 0x03, end: 0x0b, brIf: 0x0d, get: 0x20, set: 0x21, tee: 0x22, load: 0x28, store: 0x36, const: 0x41, eqz: 0x45 } as const;
const i32 = { ne: 0x47, ltU: 0x49, add: 0x6a, sub: 0x6b, and: 0x71, or: 0x72, xor: 0x73, shl: 0x74, shrU: 0x76, rotl: 0x77, rotr: 0x78 } as const;

/** Function body bytes, written by the steps of the algorithm. */
class Body {
  private bytes = new Uint8Array(16384);
  length = 0;
  op(a: number, b = -1, c = -1, d = -1): this {
    this.bytes[this.length++] = a;
    if (b >= 0) this.bytes[this.length++] = b;
    if (c >= 0) this.bytes[this.length++] = c;
    if (d >= 0) this.bytes[this.length++] = d;
    return this;
  }
  get(local: number): this {
    return this.op(op.get, local);
  }
  set(local: number): this {
    return this.op(op.set, local);
  }
  const(value: number): this {
    // Signed LEB128 of the value as a 32-bit integer.
    let v = value | 0;
    this.op(op.const);
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && !(byte & 0x40)) || (v === -1 && byte & 0x40)) return this.op(byte);
      this.op(byte | 0x80);
    }
  }
  /** i32.load or i32.store of word `index` of memory, from the address on the stack. */
  memory(code: number, index: number): this {
    this.op(code, 2);
    for (const byte of uleb(index * 4)) this.op(byte);
    return this;
  }
  content(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n ? byte | 0x80 : byte);
  } while (n);
  return out;
};
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const name = (text: string): number[] => vector([...Buffer.from(text)].map((c) => [c]));

/**
 * A module exporting `memory` and `rounds(n)`, which hashes the digest held in memory[0..) as
 * little-endian 32-bit words n times over. Local 0 is n; locals 1.. hold the digest words, then
 * `locals` more are the function's own. `data` words are in memory from word `at` on (constants).
 */
function moduleOf(words: number, locals: number, round: (body: Body) => void, data?: { at: number; words: readonly number[] }): Uint8Array {
  const body = new Body();
  for (let i = 0; i < words; i++)
    body
      .const(0)
      .memory(op.load, i)
      .set(1 + i);
  body.op(op.block, 0x40).get(0).op(op.eqz, op.brIf, 0).op(op.loop, 0x40);
  round(body);
  body.get(0).const(1).op(i32.sub, op.tee, 0).op(op.brIf, 0, op.end, op.end);
  for (let i = 0; i < words; i++)
    body
      .const(0)
      .get(1 + i)
      .memory(op.store, i);
  const code = body.op(op.end).content();
  const locals32 = [1, ...uleb(words + locals), 0x7f]; // one run of i32 locals
  const codeEntry = uleb(locals32.length + code.length);
  const head = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([[0x60, 1, 0x7f, 0]])), // type 0: (i32) -> ()
    ...section(3, vector([[0]])), // function 0 has type 0
    ...section(5, vector([[0x00, 1]])), // one page of memory
    ...section(
      7,
      vector([
        [...name('rounds'), 0x00, 0],
        [...name('memory'), 0x02, 0],
      ]),
    ), // function 0, memory 0
    ...[10, ...uleb(1 + codeEntry.length + locals32.length + code.length), 1, ...codeEntry, ...locals32],
  ];
  // An active data segment: memory 0, at the offset `i32.const at*4`, the words little-endian.
  const bytes = data ? data.words.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24]) : [];
  const tail = data
    ? section(
        11,
        vector([
          [
            0x00,
            ...new Body()
              .const(data.at * 4)
              .op(op.end)
              .content(),
            ...vector(bytes.map((x) => [x])),
          ],
        ]),
      )
    : [];
  return Uint8Array.from([...head, ...code, ...tail]);
}

const SHA1_IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

/** SHA-1 of a 20-byte message: words 0-4 the digest, then 0x80 padding and the length, 160 bits. */
export function sha1Module(): Uint8Array {
  const H = 1; // the digest, 5 locals
  const W = 6; // the message schedule, a ring of 16
  const S = 22; // the working variables a-e
  return moduleOf(5, 21, (b) => {
    for (let i = 0; i < 5; i++) b.get(H + i).set(W + i);
    b.const(0x80000000).set(W + 5);
    for (let i = 6; i < 15; i++) b.const(0).set(W + i);
    b.const(160).set(W + 15);
    for (let i = 0; i < 5; i++) b.const(SHA1_IV[i]!).set(S + i);
    // The variables are renamed instead of moved: after a step, a is the slot that held e.
    let [a, bb, c, d, e] = [S, S + 1, S + 2, S + 3, S + 4];
    for (let t = 0; t < 80; t++) {
      const w = W + (t & 15);
      if (t >= 16)
        b.get(W + ((t - 3) & 15))
          .get(W + ((t - 8) & 15))
          .op(i32.xor)
          .get(W + ((t - 14) & 15))
          .op(i32.xor)
          .get(w)
          .op(i32.xor)
          .const(1)
          .op(i32.rotl)
          .set(w);
      b.get(a).const(5).op(i32.rotl);
      if (t < 20)
        b.get(d).get(bb).get(c).get(d).op(i32.xor, i32.and, i32.xor); // Ch = d ^ (b & (c ^ d))
      else if (t >= 40 && t < 60)
        b.get(bb).get(c).op(i32.and).get(d).get(bb).get(c).op(i32.or, i32.and, i32.or); // Maj
      else b.get(bb).get(c).op(i32.xor).get(d).op(i32.xor); // Parity
      b.op(i32.add)
        .get(e)
        .op(i32.add)
        .const([0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6][Math.floor(t / 20)]!)
        .op(i32.add)
        .get(w)
        .op(i32.add)
        .set(e);
      b.get(bb).const(30).op(i32.rotl).set(bb);
      [a, bb, c, d, e] = [e, a, bb, c, d];
    }
    [a, bb, c, d, e].forEach((slot, i) =>
      b
        .const(SHA1_IV[i]!)
        .get(slot)
        .op(i32.add)
        .set(H + i),
    );
  });
}

const SHA256_IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
// prettier-ignore
const SHA256_K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/**
 * SHA-256 of a 32-byte message: words 0-7 the digest, then 0x80 padding and the length, 256 bits. The 64
 * steps are one loop (the working variables moved along, the schedule a ring of 16 words in memory, the
 * constants a data segment) rather than written out: V8 runs the first rounds in its baseline compiler
 * and its optimising compile of 64 written-out steps took 3 ms, during which the baseline code ran 1,500
 * rounds at 2.2 µs; the loop's compiles in well under a millisecond and runs at 0.28 µs a round instead
 * of 0.2 (10,000 rounds: 4.3-4.7 ms instead of 6.3).
 */
export function sha256Module(): Uint8Array {
  const H = 1; // the digest, 8 locals
  const S = 9; // the working variables a-h
  const [T, T1, T2, X] = [17, 18, 19, 20]; // the step t, T1, T2, a scratch word
  const W = 16; // memory words 16-31: the message schedule, a ring of 16
  const K = 32; // memory words 32-95: the round constants
  const [a, bb, c, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => S + i) as [number, number, number, number, number, number, number, number];
  const rotrXor = (b: Body, x: number, r1: number, r2: number, r3: number, shift: boolean): Body =>
    b
      .get(x)
      .const(r1)
      .op(i32.rotr)
      .get(x)
      .const(r2)
      .op(i32.rotr)
      .op(i32.xor)
      .get(x)
      .const(r3)
      .op(shift ? i32.shrU : i32.rotr)
      .op(i32.xor);
  /** The byte address in the ring of W[t + k], k from -16 to 0 (as t + k + 16, mod 16). */
  const ring = (b: Body, k: number): Body =>
    b
      .get(T)
      .const(k + 16)
      .op(i32.add)
      .const(15)
      .op(i32.and)
      .const(2)
      .op(i32.shl);
  return moduleOf(
    8,
    12,
    (b) => {
      for (let i = 0; i < 8; i++)
        b.const(0)
          .get(H + i)
          .memory(op.store, W + i);
      b.const(0)
        .const(0x80000000)
        .memory(op.store, W + 8);
      for (let i = 9; i < 15; i++)
        b.const(0)
          .const(0)
          .memory(op.store, W + i);
      b.const(0)
        .const(256)
        .memory(op.store, W + 15);
      for (let i = 0; i < 8; i++) b.const(SHA256_IV[i]!).set(S + i);
      b.const(0).set(T).op(op.loop, 0x40);
      // From t = 16: W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], in the slot of W[t-16].
      b.op(op.block, 0x40).get(T).const(16).op(i32.ltU, op.brIf, 0);
      ring(b, 0);
      ring(b, -16).memory(op.load, W);
      rotrXor(ring(b, -15).memory(op.load, W).set(X), X, 7, 18, 3, true).op(i32.add);
      rotrXor(ring(b, -2).memory(op.load, W).set(X), X, 17, 19, 10, true).op(i32.add);
      ring(b, -7).memory(op.load, W).op(i32.add).memory(op.store, W).op(op.end);
      // T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]; T2 = Σ0(a) + Maj(a, b, c)
      rotrXor(b.get(h), e, 6, 11, 25, false).op(i32.add);
      b.get(g).get(e).get(f).get(g).op(i32.xor, i32.and, i32.xor, i32.add);
      b.get(T).const(2).op(i32.shl).memory(op.load, K).op(i32.add);
      ring(b, 0).memory(op.load, W).op(i32.add).set(T1);
      rotrXor(b, a, 2, 13, 22, false);
      b.get(a).get(bb).op(i32.and).get(c).get(a).get(bb).op(i32.or, i32.and, i32.or).op(i32.add).set(T2);
      // h = g, g = f, f = e, e = d + T1, d = c, c = b, b = a, a = T1 + T2
      b.get(g).set(h).get(f).set(g).get(e).set(f);
      b.get(d).get(T1).op(i32.add).set(e);
      b.get(c).set(d).get(bb).set(c).get(a).set(bb);
      b.get(T1).get(T2).op(i32.add).set(a);
      b.get(T).const(1).op(i32.add, op.tee, T).const(64).op(i32.ne, op.brIf, 0, op.end);
      for (let i = 0; i < 8; i++)
        b.const(SHA256_IV[i]!)
          .get(S + i)
          .op(i32.add)
          .set(H + i);
    },
    { at: K, words: SHA256_K },
  );
}

/** The modules by hash name, as digest-rounds.ts looks them up. */
export const ASSEMBLED: Record<'sha1' | 'sha256', () => Uint8Array> = { sha1: sha1Module, sha256: sha256Module };
