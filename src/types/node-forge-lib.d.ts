// node-forge's per-algorithm modules, loaded one at a time so a command pays only for what it uses.
declare module 'node-forge/lib/rc2.js' {
  interface ByteBuffer {
    getBytes(): string;
  }
  interface Rc2Cipher {
    start(iv: ByteBuffer): void;
    update(input: ByteBuffer): void;
    finish(): boolean;
    output: ByteBuffer;
  }
  const rc2: { createDecryptionCipher(key: ByteBuffer, bits: number): Rc2Cipher };
  export default rc2;
}
declare module 'node-forge/lib/util.js' {
  import type { ByteBuffer } from 'node-forge/lib/rc2.js';
  const util: { createBuffer(input: string, encoding?: 'raw' | 'utf8'): ByteBuffer };
  export default util;
}
