/**
 * SHA-1 and SHA-256 applied to their own digest many times: the inner loop of the PKCS#12 key
 * derivation (RFC 7292 B.2), which Java 11 keystores run 50,000-100,000 times per derived value and
 * Java 9+ keytool 10,000 times for its integrity check. One createHash() per round costs about 3 µs
 * in call overhead, and a JavaScript loop spends its first thousands of rounds before V8 optimises it;
 * the loop is WebAssembly (wasm/hash-iterate.wat), machine code from the first round.
 */
import { HASH_ITERATE_WASM } from './wasm/hash-iterate-wasm.js';

interface HashIterate {
  memory: { buffer: ArrayBuffer };
  sha1(count: number): void;
  sha256(count: number): void;
}

const SHA256_K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const K_OFFSET_WORDS = 512 / 4; // see the memory layout in hash-iterate.wat

// The compiler's ES library has no WebAssembly types (they live in the DOM library): the two used here.
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi };

let kernel: HashIterate | undefined;
const SLICE = 256;

function wasm(): HashIterate {
  if (!kernel) {
    const module = new WebAssembly.Module(Buffer.from(HASH_ITERATE_WASM, 'base64'));
    kernel = new WebAssembly.Instance(module).exports as HashIterate;
    new Uint32Array(kernel.memory.buffer).set(SHA256_K, K_OFFSET_WORDS);
  }
  return kernel;
}

function iterate(digest: Buffer, count: number, words: number, run: (k: HashIterate, n: number) => void): Buffer {
  const k = wasm();
  const state = new Int32Array(k.memory.buffer, 0, words);
  for (let i = 0; i < words; i++) state[i] = digest.readInt32BE(4 * i);
  // In slices: V8 first runs WebAssembly with its baseline compiler and moves a function to optimised
  // code between calls (there is no on-stack replacement for WebAssembly), so one long call would
  // stay in baseline code throughout.
  for (let left = count; left > 0; left -= SLICE) run(k, Math.min(left, SLICE));
  const out = Buffer.alloc(4 * words);
  for (let i = 0; i < words; i++) out.writeInt32BE(state[i]!, 4 * i);
  return out;
}

/** SHA-1^count(digest) for a 20-byte digest (count 0 returns a copy). */
export function iterateSha1(digest: Buffer, count: number): Buffer {
  return iterate(digest, count, 5, (k, n) => k.sha1(n));
}

/** SHA-256^count(digest) for a 32-byte digest (count 0 returns a copy). */
export function iterateSha256(digest: Buffer, count: number): Buffer {
  return iterate(digest, count, 8, (k, n) => k.sha256(n));
}
