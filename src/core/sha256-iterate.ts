/**
 * SHA-256 applied to its own 32-byte output many times: the PKCS#12 key derivation's inner loop for the
 * HMAC-SHA256 integrity check Java 9+ keytool writes (10,000 rounds). A single-block loop avoids the
 * call overhead of one createHash() per round (see sha1-iterate.ts).
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const H0 = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);
const H = new Int32Array(8);

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/** Returns SHA-256^count(digest) for a 32-byte digest (count 0 returns a copy). */
export function iterateSha256(digest: Buffer, count: number): Buffer {
  for (let i = 0; i < 8; i++) H[i] = digest.readInt32BE(4 * i);
  for (let round = 0; round < count; round++) {
    // One padded block: the 32-byte message, 0x80, zeros, and the bit length 256.
    for (let i = 0; i < 8; i++) W[i] = H[i]!;
    W[8] = 0x80000000 | 0;
    for (let i = 9; i < 15; i++) W[i] = 0;
    W[15] = 256;
    for (let i = 16; i < 64; i++) {
      const w15 = W[i - 15]!;
      const w2 = W[i - 2]!;
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
    }
    let a = H0[0]!, b = H0[1]!, c = H0[2]!, d = H0[3]!, e = H0[4]!, f = H0[5]!, g = H0[6]!, h = H0[7]!;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    H[0] = (H0[0]! + a) | 0;
    H[1] = (H0[1]! + b) | 0;
    H[2] = (H0[2]! + c) | 0;
    H[3] = (H0[3]! + d) | 0;
    H[4] = (H0[4]! + e) | 0;
    H[5] = (H0[5]! + f) | 0;
    H[6] = (H0[6]! + g) | 0;
    H[7] = (H0[7]! + h) | 0;
  }
  const out = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) out.writeInt32BE(H[i]!, 4 * i);
  return out;
}
