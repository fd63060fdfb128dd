// node-forge's RC2 module, used by the tests as an independent check of our own RC2.
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
  const rc2: { createEncryptionCipher(key: ByteBuffer, bits: number): Rc2Cipher; createDecryptionCipher(key: ByteBuffer, bits: number): Rc2Cipher };
  export default rc2;
}
declare module 'node-forge/lib/util.js' {
  import type { ByteBuffer } from 'node-forge/lib/rc2.js';
  const util: { createBuffer(input: string, encoding?: 'raw' | 'utf8'): ByteBuffer };
  export default util;
}
