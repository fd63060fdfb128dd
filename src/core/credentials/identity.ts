/**
 * The client identity for mutual TLS: private key plus certificate chain (leaf first), from PEM files or
 * a PKCS#12/JKS keystore, RSA or EC. Whatever the source, the key is checked against the certificate.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { C8yError, fileError } from '../errors.js';
import { buildPath, keyMatchesCertificate } from '../x509/path.js';
import { dnOneLine, isPrivateKeyLabel, pemBlocks, readCertificates } from '../encoding/pem.js';
import type { PasswordBook } from './passwords.js';
import type { Settings } from '../config/settings.js';

export interface ClientIdentity {
  key: KeyObject;
  /** Leaf first, then its issuers in path order, then any other certificates the source held. */
  chain: X509Certificate[];
  /** Where it came from, for messages: a file path, or "keystore (alias)". */
  source: string;
}

export type CredentialSettings = Pick<Settings, 'cert' | 'key' | 'keystore'>;

/** Loads key and chain from the configured source; throws NO_CREDENTIALS when none is configured. */
export async function loadIdentity(settings: CredentialSettings, passwords: PasswordBook): Promise<ClientIdentity> {
  if (settings.keystore && (settings.cert || settings.key)) {
    throw new C8yError('USAGE', `Both a keystore (${settings.keystore.path}) and PEM files (${settings.cert ?? settings.key}) are configured.`, {
      hint: 'Give either --keystore, or --cert with --key (check the config file and the C8Y_CERTIFICATE_* variables too).',
    });
  }
  if (settings.keystore) return loadFromKeystore(settings.keystore, passwords);
  if (settings.cert) return loadFromPem(settings.cert, settings.key, passwords);
  if (settings.key) {
    throw new C8yError('NO_CREDENTIALS', `A key (${settings.key}) is configured but no certificate.`, {
      hint: 'Give the device certificate with --cert (or C8Y_CERTIFICATE_FILE).',
    });
  }
  throw new C8yError('NO_CREDENTIALS', 'No device credentials are configured.', {
    hint: 'Give --keystore FILE (PKCS#12 or JKS), or --cert FILE with --key FILE; or set them in .c8ytokenrc.',
  });
}

/** The chosen key entry of a keystore, its key decrypted: store password required, key password defaulting to it. */
export async function openKeystoreEntry(ks: NonNullable<Settings['keystore']>, passwords: PasswordBook): Promise<{ key: KeyObject; chain: X509Certificate[]; source: string }> {
  const storePassword = await passwords.get('keystore');
  if (storePassword === undefined) {
    throw new C8yError('PASSWORD_REQUIRED', `The keystore ${ks.path} needs its password, and there is no terminal to ask for it.`, {
      hint: `Give it with ${passwords.howToGive('keystore')}.`,
    });
  }
  // Keystore readers load only when a keystore is used.
  const { openKeystore, selectKeyEntry } = await import('../keystore/open.js');
  const store = await openKeystore(ks.path, { type: ks.type, password: storePassword, role: 'keystore' });
  const entry = selectKeyEntry(store, ks.alias);
  // The store password doubles as the key password unless one is given (as Java's tools do).
  const keyPassword = passwords.given('key') ? ((await passwords.get('key')) ?? storePassword) : storePassword;
  const key = await entry.decryptKey(keyPassword);
  const source = `${ks.path} (entry "${entry.alias}")`;
  if (entry.chain.length === 0) {
    throw new C8yError('KEYSTORE_NO_KEY', `The key entry "${entry.alias}" in ${ks.path} has no certificate.`, {
      hint: 'Import the device certificate for that key into the keystore.',
    });
  }
  return { key, chain: entry.chain, source };
}

async function loadFromKeystore(ks: NonNullable<Settings['keystore']>, passwords: PasswordBook): Promise<ClientIdentity> {
  const { key, chain, source } = await openKeystoreEntry(ks, passwords);
  const leaf = chain[0]!;
  if (!keyMatchesCertificate(key, leaf)) {
    throw new C8yError('KEY_MISMATCH', `In ${source} the private key does not belong to the certificate ${dnOneLine(leaf.subject)}.`, {
      hint: 'Rebuild the keystore from the matching key and certificate.',
    });
  }
  return { key, chain, source };
}

async function loadFromPem(certPath: string, keyPath: string | undefined, passwords: PasswordBook): Promise<ClientIdentity> {
  const certData = await readOrFail(certPath, 'certificate');
  const certs = readCertificates(certData, certPath, 'certificate');
  // A combined file (key and certificates in one PEM) is common; use its key when --key is absent.
  const keyData = keyPath ? await readOrFail(keyPath, 'key') : certData;
  const keySource = keyPath ?? certPath;
  const keyBlock = pemBlocks(keyData.toString('latin1')).find((b) => isPrivateKeyLabel(b.label));
  if (!keyBlock) {
    if (!keyPath) {
      throw new C8yError('NO_CREDENTIALS', `No private key is configured for the certificate ${certPath}.`, {
        hint: 'Give the device key with --key (or C8Y_CERTIFICATE_KEY_FILE).',
      });
    }
    const holdsCerts = /BEGIN CERTIFICATE/.test(keyData.toString('latin1'));
    throw new C8yError('NOT_A_KEY', `The key file ${keyPath} holds no PEM private key.`, {
      hint: holdsCerts
        ? 'It holds certificates: the key is a separate file (BEGIN PRIVATE KEY / RSA PRIVATE KEY / EC PRIVATE KEY).'
        : 'Give a PEM key: PKCS#1, SEC1, PKCS#8 or encrypted PKCS#8. Convert DER with `openssl pkey -inform DER -in KEY -out key.pem`.',
    });
  }
  const key = await decodePemKey(keyBlock.text, keySource, passwords);
  const leaf = certs.find((c) => keyMatchesCertificate(key, c));
  if (!leaf) {
    throw new C8yError('KEY_MISMATCH', `The private key ${keySource} does not belong to the certificate ${certPath}${certs.length > 1 ? ' (nor to any certificate in it)' : ''}.`, {
      hint: 'Pair the certificate with the key it was issued for; compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`.',
    });
  }
  const { path, extra } = buildPath(leaf, certs);
  return { key, chain: [...path, ...extra], source: certPath };
}

/** Decodes a PEM private key, asking for its password only when it is encrypted. */
export async function decodePemKey(pem: string, path: string, passwords: PasswordBook): Promise<KeyObject> {
  const encrypted = /BEGIN ENCRYPTED PRIVATE KEY|Proc-Type:\s*4,ENCRYPTED/.test(pem);
  let passphrase: string | undefined;
  if (encrypted) {
    passphrase = await passwords.get('key');
    if (passphrase === undefined) {
      throw new C8yError('PASSWORD_REQUIRED', `The key ${path} is encrypted and needs its password, and there is no terminal to ask for it.`, {
        hint: `Give it with ${passwords.howToGive('key')}.`,
      });
    }
  }
  try {
    return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
  } catch (err) {
    const reason = String((err as Error).message);
    if (encrypted && /bad decrypt|BAD_DECRYPT|bad password|interrupted or cancelled/i.test(`${reason} ${(err as { code?: string }).code}`)) {
      throw new C8yError('WRONG_PASSWORD', `The password for the key ${path} is wrong.`, {
        hint: `Give the right one with ${passwords.howToGive('key')}.`,
      });
    }
    throw new C8yError('NOT_A_KEY', `The key file ${path} cannot be read as a private key.`, {
      hint: 'Check the file is complete; `openssl pkey -in KEY -noout` tells whether OpenSSL can read it.',
      cause: err,
    });
  }
}

/** Reads a file, or throws the file error naming its role. */
export async function readOrFail(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw fileError(err, path, what);
  }
}
