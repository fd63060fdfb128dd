/**
 * The certificate request (PKCS#10, RFC 2986) for EST, and the device keys it is made for.
 * The ASN.1 is written by ./der-writer.ts and signed by node:crypto, which handles RSA and EC keys alike
 * (node-forge's own key objects cannot hold EC keys). The request carries the subject CN only and no
 * extension request: the platform refuses a request asking for CA:TRUE, and asking for nothing can never
 * ask for that; the CA decides the extensions of a device certificate anyway.
 */
import { createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { C8yError } from '../errors.js';
import { bitString, context, NULL, oid, seq, setOf, utf8, integer } from './der-writer.js';
import type { CommonName } from './names.js';

const CN_OID = '2.5.4.3';

/** How a signature of a key is made and named: the hash for node:crypto and the DER AlgorithmIdentifier. */
export interface SignatureAlgorithm {
  hash: 'sha256' | 'sha384' | 'sha512';
  algorithmIdentifier: Buffer;
  /** For messages: "ECDSA P-256 with SHA-256". */
  label: string;
}

const EC_CURVES: Record<string, { name: 'P-256' | 'P-384' | 'P-521'; hash: SignatureAlgorithm['hash']; oid: string }> = {
  prime256v1: { name: 'P-256', hash: 'sha256', oid: '1.2.840.10045.4.3.2' },
  secp384r1: { name: 'P-384', hash: 'sha384', oid: '1.2.840.10045.4.3.3' },
  secp521r1: { name: 'P-521', hash: 'sha512', oid: '1.2.840.10045.4.3.4' },
};

/** Smallest RSA modulus the platform considers safe (cumulocity.md). */
export const MIN_RSA_BITS = 2048;

/** The signature algorithm for a private or public key; KEY_UNSUPPORTED for anything but RSA ≥ 2048 and EC P-256/384/521. */
export function signatureAlgorithm(key: KeyObject): SignatureAlgorithm {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw new C8yError('KEY_UNSUPPORTED', { keyType: 'RSA', bits, limit: MIN_RSA_BITS });
    }
    // sha256WithRSAEncryption, parameters NULL (RFC 4055).
    return { hash: 'sha256', algorithmIdentifier: seq(oid('1.2.840.113549.1.1.11'), NULL), label: `RSA ${bits} with SHA-256` };
  }
  if (type === 'ec') {
    const curve = EC_CURVES[details.namedCurve ?? ''];
    if (curve) return { hash: curve.hash, algorithmIdentifier: seq(oid(curve.oid)), label: `ECDSA ${curve.name} with ${curve.hash.toUpperCase().replace('SHA', 'SHA-')}` };
    throw unsupported(`EC on the curve ${details.namedCurve ?? 'unknown'}`);
  }
  throw unsupported(type ? type.toUpperCase() : 'of an unknown type');
}

function unsupported(keyType: string): C8yError {
  return new C8yError('KEY_UNSUPPORTED', { keyType });
}

/** Signs DER bytes with the key; ECDSA signatures come DER-encoded, as X.509 and PKCS#10 want them. */
export function signDer(data: Buffer, key: KeyObject, alg: SignatureAlgorithm = signatureAlgorithm(key)): Buffer {
  return sign(alg.hash, data, key);
}

/** A Name with one RDN: CN=commonName (UTF8String, as OpenSSL writes it). */
export function subjectName(commonName: CommonName): Buffer {
  return seq(setOf(seq(oid(CN_OID), utf8(commonName))));
}

/**
 * A DER PKCS#10 request for the key with subject CN=commonName (checked where it entered: names.ts), signed with the key: RSA (SHA-256) or
 * ECDSA (SHA-256/384/512 by curve). No attributes, so no extension request and never CA:TRUE.
 */
export function buildCsr(key: KeyObject, commonName: CommonName): Buffer {
  if (key.type !== 'private') throw new TypeError('buildCsr needs a private key');
  const { info, alg } = requestInfo(createPublicKey(key), commonName);
  return seq(info, alg.algorithmIdentifier, bitString(signDer(info, key, alg)));
}

/** A key that signs elsewhere (a PKCS#11 token): its public key, and a signature over DER bytes with a hash. */
export interface RemoteSigner {
  publicKey: KeyObject;
  sign(data: Buffer, hash: SignatureAlgorithm['hash']): Promise<Buffer>;
}

/**
 * buildCsr for a key in a token: the request is built here and only its CertificationRequestInfo goes
 * to the token to be signed (RSA PKCS#1 v1.5 or DER ECDSA, what the signature algorithm names).
 */
export async function buildRemoteCsr(signer: RemoteSigner, commonName: CommonName): Promise<Buffer> {
  const { info, alg } = requestInfo(signer.publicKey, commonName);
  return seq(info, alg.algorithmIdentifier, bitString(await signer.sign(info, alg.hash)));
}

/** CertificationRequestInfo: version 0, subject CN, subjectPKInfo, attributes [0] (empty); and its signature algorithm. */
function requestInfo(publicKey: KeyObject, commonName: CommonName): { info: Buffer; alg: SignatureAlgorithm } {
  const alg = signatureAlgorithm(publicKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return { info: seq(integer(0), subjectName(commonName), spki, context(0)), alg };
}

/** The PEM form of a DER request (for files and `openssl req`). */
export function csrPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** What kind of device key to make. */
export type KeySpec = { type: 'ec'; curve: 'P-256' | 'P-384' | 'P-521' } | { type: 'rsa'; bits: number };

/** The default for new devices: EC P-256, what the platform's CA and thin-edge.io use. */
export const DEFAULT_KEY_SPEC: KeySpec = { type: 'ec', curve: 'P-256' };

/**
 * A new key "of the same type" as the current one (--new-key): EC on the same curve; RSA with as many
 * bits, at least 2048. Anything else (a key EST cannot use) gets the default EC P-256.
 */
export function keySpecLike(current: KeyObject): KeySpec {
  const details = current.asymmetricKeyDetails ?? {};
  if (current.asymmetricKeyType === 'rsa') return { type: 'rsa', bits: Math.max(MIN_RSA_BITS, details.modulusLength ?? 0) };
  if (current.asymmetricKeyType === 'ec') {
    const curve = EC_CURVES[details.namedCurve ?? ''];
    if (curve) return { type: 'ec', curve: curve.name };
  }
  return DEFAULT_KEY_SPEC;
}

const generate = promisify(generateKeyPair);

/** Makes a device key; returns it and its unencrypted PKCS#8 PEM (write it with mode 0600). */
export async function generateDeviceKey(spec: KeySpec = DEFAULT_KEY_SPEC): Promise<{ key: KeyObject; pem: string; spec: KeySpec }> {
  const { privateKey } = spec.type === 'rsa' ? await generate('rsa', { modulusLength: Math.max(MIN_RSA_BITS, spec.bits), publicExponent: 0x10001 }) : await generate('ec', { namedCurve: spec.curve });
  return { key: privateKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), spec };
}

/** "EC P-256" / "RSA 3072", for messages. */
export function keySpecLabel(spec: KeySpec): string {
  return spec.type === 'ec' ? `EC ${spec.curve}` : `RSA ${spec.bits}`;
}

/**
 * A private key as PKCS#8 PEM, encrypted (PBES2, AES-256-CBC) when a passphrase is given: a new key
 * replacing an encrypted one stays encrypted with the same password.
 */
export function privateKeyPem(key: KeyObject, passphrase?: string): string {
  const pem = passphrase === undefined ? key.export({ type: 'pkcs8', format: 'pem' }) : key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase });
  return pem.toString();
}
