/**
 * The PKCS#12 KDF's rounds after the first (RFC 7292 B.2 step 6: A = H(A), thousands of times) as one
 * WebAssembly function per hash, SHA-1 and SHA-256. Each round hashes the previous digest alone, so the
 * message is always one padded block whose schedule is known but for the digest's words: a single
 * compression with no buffers, no calls and no allocation, where crypto.hash() pays a native call, an
 * EVP context and a Buffer per round. Why WebAssembly and not JavaScript, and the measurements: ADR 0010.
 * The modules are assembled from the algorithm (FIPS 180-4 §6.1.2 and §6.2.2) by
 * digest-rounds-assembler.ts at development time (`npm run wasm`: assembling them here cost every
 * keystore read about 2 ms); each is checked against crypto.hash once before it is used, and without
 * WebAssembly (node --jitless) or when the check fails, the caller keeps crypto.hash().
 */
import { hash as digest } from 'node:crypto';
import { MODULES } from './digest-rounds-modules.js';

/** Hashes `a` (a digest of this hash) `rounds` times over: H(H(...H(a))). */
export type DigestRounds = (a: Buffer, rounds: number) => Buffer;

const engines = new Map<string, DigestRounds | undefined>();

/** The WebAssembly rounds for `hash`, built on first use; undefined for other hashes or where they cannot run. */
export function digestRounds(hash: string): DigestRounds | undefined {
  if (!engines.has(hash)) engines.set(hash, build(hash));
  return engines.get(hash);
}

/** The part of the WebAssembly API used here (the compiler's lib for Node declares no WebAssembly global). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { rounds: (n: number) => void; memory: { buffer: ArrayBuffer } } };
}

function build(hash: string): DigestRounds | undefined {
  const bytes = Object.hasOwn(MODULES, hash) ? MODULES[hash as keyof typeof MODULES] : undefined;
  // node --jitless has no WebAssembly object.
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!bytes || !wasm) return undefined;
  let rounds: DigestRounds;
  try {
    const { exports } = new wasm.Instance(new wasm.Module(Buffer.from(bytes, 'base64')));
    const run = exports.rounds;
    // WebAssembly memory is little-endian whatever the machine: a DataView says so.
    const memory = new DataView(exports.memory.buffer);
    rounds = (a, n) => {
      for (let i = 0; i < a.length; i += 4) memory.setInt32(i, a.readInt32BE(i), true);
      run(n);
      const out = Buffer.allocUnsafe(a.length);
      for (let i = 0; i < a.length; i += 4) out.writeInt32BE(memory.getInt32(i, true), i);
      return out;
    };
  } catch {
    return undefined;
  }
  // Checked once against OpenSSL: a machine or engine where the module computes anything else never uses it.
  const seed = digest(hash, hash, 'buffer');
  return rounds(seed, 2).equals(digest(hash, digest(hash, seed, 'buffer'), 'buffer')) ? rounds : undefined;
}
