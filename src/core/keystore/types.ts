/** What a keystore holds, whatever its format: key entries with their chains, and trusted certificates. */
import type { KeyObject, X509Certificate } from 'node:crypto';

export type KeystoreFormat = 'pkcs12' | 'jks';

/** A private key entry; the key is decrypted only when chosen, with the key password. */
export interface KeyEntry {
  alias: string;
  /** Leaf first, then its issuers as far as the store holds them. */
  readonly chain: X509Certificate[];
  /** Decrypts the key; throws C8yError (WRONG_PASSWORD, NOT_A_KEY, KEYSTORE_CORRUPT, INPUT_LIMIT). */
  decryptKey(password: string): Promise<KeyObject>;
}

export interface TrustedEntry {
  alias: string;
  cert: X509Certificate;
  /** PKCS#12: the bag had its own friendlyName (the alias was not made up), and Oracle's trusted-key-usage attribute. */
  named?: boolean;
  javaTrusted?: boolean;
}

export interface Keystore {
  format: KeystoreFormat;
  path: string;
  keyEntries: KeyEntry[];
  trusted: TrustedEntry[];
}
