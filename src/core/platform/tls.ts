/**
 * The TLS client side, built once for every connection to the platform (token request, handshake probe):
 * the device key, the certificates it presents, the trust for the server, TLS 1.2 or newer, and the
 * server always verified. The secure context is made here, not inside the request, so that OpenSSL
 * refusing the credentials (a 512-bit RSA key, an MD5 signature below its security level) is reported
 * as what it is, a problem of the local files (exit 4), naming them.
 */
import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { C8yError } from '../errors.js';
import { isSelfSigned } from '../x509/path.js';
import { describePublicKey } from '../x509/certificate.js';
import { dnOneLine } from '../x509/names.js';
import { certificatePem } from '../x509/read.js';
import { child, parseDer, readOid } from '../encoding/der.js';
import { isTokenKey, keyPem, type ClientIdentity } from '../credentials/identity.js';
import type { Trust } from '../credentials/truststore.js';

/** The certificates presented in the handshake: leaf and intermediates, never a self-signed root. */
export function handshakeChain(chain: readonly X509Certificate[]): X509Certificate[] {
  return chain.filter((c, i) => i === 0 || !isSelfSigned(c));
}

/** OpenSSL's verdicts on a server certificate that is not trusted (not signed by a trusted CA, out of its dates, revoked). */
export const UNTRUSTED_CERT_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'INVALID_CA',
  // Also the server certificate's own faults that OpenSSL finds while verifying it (its purpose, trust
  // settings that reject it, the path's length, fields it cannot read): certificates to fix, not a
  // network to retry (they were NETWORK_FAILED, exit 5).
  'INVALID_PURPOSE',
  'CERT_REJECTED',
  'PATH_LENGTH_EXCEEDED',
  'CERT_CHAIN_TOO_LONG',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
]);

/** Signature algorithms no TLS stack should accept (OpenSSL refuses MD5 at some security levels only). */
const BROKEN_SIGNATURES: Readonly<Record<string, string>> = { '1.2.840.113549.1.1.2': 'MD2', '1.2.840.113549.1.1.3': 'MD4', '1.2.840.113549.1.1.4': 'MD5' };
/** The smallest RSA key sent: OpenSSL's default security level differs between Node versions (1024 bits pass on 20 and 22, not on 24). */
const MIN_RSA_BITS = 2048;

/**
 * Why the credentials are too weak to send, judged the same on every Node version (OpenSSL's own
 * verdict depends on its default security level): an RSA key under 2048 bits, or a certificate in the
 * handshake signed with MD5, MD4 or MD2.
 */
export function credentialWeakness(identity: ClientIdentity): string | undefined {
  const chain = handshakeChain(identity.chain);
  const leafKey = chain[0] ? describePublicKey(chain[0]) : undefined;
  if (leafKey && (leafKey.type === 'rsa' || leafKey.type === 'rsa-pss') && (leafKey.bits ?? 0) < MIN_RSA_BITS) return `the device key is RSA ${leafKey.bits} bits, under ${MIN_RSA_BITS}`;
  for (const cert of chain) {
    let oid: string | undefined;
    try {
      oid = readOid(child(child(parseDer(cert.raw), 1), 0));
    } catch {
      continue; // a certificate X509Certificate read is well-formed enough; nothing to judge otherwise
    }
    const broken = BROKEN_SIGNATURES[oid];
    if (broken) return `"${dnOneLine(cert.subject)}" is signed with ${broken}`;
  }
  return undefined;
}

/** The secure context for the device identity and the platform trust; C8yError when OpenSSL refuses them. */
export function deviceSecureContext(identity: ClientIdentity, trust: Trust): SecureContext {
  const weakness = credentialWeakness(identity);
  if (weakness) throw new C8yError('WEAK_CREDENTIALS', { path: identity.source, role: 'certificate', reason: weakness });
  const options = {
    cert: handshakeChain(identity.chain).map(certificatePem).join('\n'),
    ...(trust.cas ? { ca: trust.cas.map(certificatePem) } : {}),
    // The platform serves TLS 1.2 and 1.3; never older.
    minVersion: 'TLSv1.2' as const,
  };
  const key = identity.key;
  try {
    // A key in a token is loaded by the PKCS#11 engine for this context only (credentials/pkcs11.ts).
    if (isTokenKey(key)) return key.withTlsKey((engine) => createSecureContext({ ...options, ...engine }));
    return createSecureContext({ ...options, key: keyPem(key) });
  } catch (err) {
    if (err instanceof C8yError) throw err;
    const code = String((err as { code?: string }).code ?? '');
    if (/KEY_VALUES_MISMATCH/.test(code)) throw new C8yError('KEY_MISMATCH', { path: identity.source, role: 'certificate', nodeCode: code }, { cause: err });
    if (/^ERR_(SSL|OSSL)/.test(code))
      throw new C8yError(
        'WEAK_CREDENTIALS',
        { path: identity.source, role: 'certificate', nodeCode: code, reason: String((err as Error).message).replace(/^error:[0-9A-F]+:[^:]*:+/, '') },
        { cause: err },
      );
    throw err;
  }
}

/** Options for tls.connect / https.request to the platform: SNI for host names, verification always on. */
export function platformTlsOptions(endpoint: URL, context: SecureContext): ConnectionOptions {
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  return {
    secureContext: context,
    ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
}
