/**
 * Telling a wrong password from an unreadable key in an encrypted PKCS#8 PEM file. OpenSSL 3 answers a
 * wrong password there with "DECODER routines::unsupported", the same words as for a key it cannot
 * read; our PBES2/PKCS#12 decryption (the one of PKCS#12 key bags) says which it is by the padding.
 * Used only after OpenSSL has refused the key, so a good key costs nothing extra.
 */
import { createPrivateKey } from 'node:crypto';
import { child, parseDer, readOctets } from '../encoding/der.js';
import { BadDecryptError, decryptPbe } from './pbe.js';
import { KdfWork } from './work.js';

/** 'wrong': the password does not decrypt it; 'unreadable': it decrypts but is no key, or cannot be decrypted here. */
export async function encryptedPkcs8Verdict(der: Buffer, password: string, signal?: AbortSignal): Promise<'wrong' | 'unreadable'> {
  try {
    const info = parseDer(der);
    const plain = await decryptPbe(child(info, 0), readOctets(child(info, 1)), password, new KdfWork(signal), 'the key');
    try {
      createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
      return 'unreadable';
    } catch {
      // Garbage behind padding that happened to look valid (1 time in 256): a wrong password.
      return 'wrong';
    }
  } catch (err) {
    return err instanceof BadDecryptError ? 'wrong' : 'unreadable';
  }
}
