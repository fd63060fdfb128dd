/**
 * SHA-1 applied to its own 20-byte output many times: the inner loop of the PKCS#12 key derivation
 * (RFC 7292 B.2). Java 11 keystores ask for 50,000 to 100,000 rounds per derived value; one
 * createHash() per round costs about 3 µs in call overhead, this single-block loop about a tenth of it.
 */

const W = new Int32Array(80);

/** Returns SHA-1^count(digest) for a 20-byte digest (count 0 returns a copy). */
export function iterateSha1(digest: Buffer, count: number): Buffer {
  let h0 = digest.readInt32BE(0);
  let h1 = digest.readInt32BE(4);
  let h2 = digest.readInt32BE(8);
  let h3 = digest.readInt32BE(12);
  let h4 = digest.readInt32BE(16);
  for (let round = 0; round < count; round++) {
    // One padded block: the 20-byte message, 0x80, zeros, and the bit length 160.
    W[0] = h0;
    W[1] = h1;
    W[2] = h2;
    W[3] = h3;
    W[4] = h4;
    W[5] = 0x80000000 | 0;
    for (let i = 6; i < 15; i++) W[i] = 0;
    W[15] = 160;
    for (let i = 16; i < 80; i++) {
      const x = W[i - 3]! ^ W[i - 8]! ^ W[i - 14]! ^ W[i - 16]!;
      W[i] = (x << 1) | (x >>> 31);
    }
    let a = 0x67452301 | 0;
    let b = 0xefcdab89 | 0;
    let c = 0x98badcfe | 0;
    let d = 0x10325476 | 0;
    let e = 0xc3d2e1f0 | 0;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (0x67452301 + a) | 0;
    h1 = (0xefcdab89 + b) | 0;
    h2 = (0x98badcfe + c) | 0;
    h3 = (0x10325476 + d) | 0;
    h4 = (0xc3d2e1f0 + e) | 0;
  }
  const out = Buffer.alloc(20);
  out.writeInt32BE(h0, 0);
  out.writeInt32BE(h1, 4);
  out.writeInt32BE(h2, 8);
  out.writeInt32BE(h3, 12);
  out.writeInt32BE(h4, 16);
  return out;
}
