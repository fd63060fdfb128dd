/**
 * The program's limits, in one place. Work and memory are bounded by these numbers, never by a number
 * read from a file (a keystore's iteration count, a JKS entry count, a DER length): style.md's lesson
 * from OpenJDK's PKCS12KeyStore (MAX_ITERATION_COUNT) and Go's crypto/x509 (signature checks per build).
 * Each is far above what real files of its kind need, and low enough that a hostile file is answered in
 * well under a second and a few tens of megabytes.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const LIMITS = {
  /** Keystores and truststores (PKCS#12, JKS): Java's cacerts is about 150 KiB. */
  keystoreBytes: 4 * MiB,
  /** PEM or DER certificates, chains, CA bundles and keys: a system CA bundle is about 220 KiB. */
  certificateBytes: 4 * MiB,
  /** A token file or token on stdin: a device token is about 1 KiB. */
  tokenBytes: 1 * MiB,
  /** Password files. */
  passwordBytes: 64 * KiB,
  /** Config files. */
  configBytes: 1 * MiB,
  /**
   * Key-derivation iterations per count (PKCS#12 MAC, PBE, PBKDF2): GnuTLS certtool writes 600,000 (the
   * most of the standard tools, and .NET's own ceiling), Java 9+ keytool 10,000, Python cryptography 20,000
   * (2,048 for the MAC), OpenSSL 3 2,048, Windows/.NET exports 2,000.
   */
  kdfIterations: 600_000,
  /**
   * Key-derivation rounds for one keystore in all: iterations times the hash-sized blocks each derivation
   * produces (a 3DES key from SHA-1 is two). Eight derivations at the per-count limit: what GnuTLS writes
   * for a key with a chain of up to five certificates (one MAC, one PBES2 derivation per bag, each of
   * 600,000), with room for a MAC tried twice (an empty password has two encodings). A file declaring more
   * is refused before the first derivation; a worst case takes seconds, interruptibly.
   */
  kdfWork: 8 * 600_000,
  /** Salt bytes in a key derivation (RFC 8018 recommends 8 or more; tools write 8-32). */
  saltBytes: 1024,
  /** ASN.1 elements read in one parse, and their nesting. */
  derElements: 20_000,
  derDepth: 64,
  /** Entries of a JKS keystore, and certificates in one chain entry. */
  keystoreEntries: 10_000,
  chainCertificates: 32,
  /** Certificates in one PEM file (a system CA bundle holds about 150). */
  certificatesPerFile: 1_000,
  /** Signature checks while building one certificate path (Go's crypto/x509 stops at 100). */
  signatureChecks: 100,
  /** The longest token lifetime taken as usable (the tenant sets it; there is no documented maximum). */
  tokenLifetimeSeconds: 10 * 366 * 86_400,
  /** Nesting of JSON in a token (a device token's claims are flat). */
  jsonDepth: 32,
  /** An EST answer (a certificate, perhaps with its chain, in PKCS#7): a few KiB. */
  estAnswerBytes: 256 * KiB,
  /** Certificates taken from one EST answer (the platform sends the device certificate only). */
  estAnswerCertificates: 16,
  /** Characters of text from the platform or a file shown in one message. */
  shownText: 300,
} as const;

/** "4 MiB", "64 KiB": a byte limit for messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${+(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
