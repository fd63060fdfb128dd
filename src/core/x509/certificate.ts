/**
 * What Node's X509Certificate does not expose, read from the certificate's DER: version, serial bytes,
 * validity as encoded, basicConstraints (with pathLen), keyUsage bits, extended key usages, key
 * identifiers, criticality of every extension, name constraints and email SANs.
 */
import { X509Certificate } from 'node:crypto';
import { child, DerError, explicit, parseDer, readOid, Tag, type Node } from '../encoding/der.js';
import { nameKey } from './names.js';

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** Extensions whose meaning we act on (or that carry nothing a path check must enforce). */
export const UNDERSTOOD_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectKeyId,
  OID.authorityKeyId,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
  OID.crlDistributionPoints,
  OID.authorityInfoAccess,
]);

export const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export interface CertDetails {
  cert: X509Certificate;
  version: number; // 1, 2 or 3
  /** The serial's content octets as encoded (two's complement). */
  serial: Buffer;
  subjectDer: Buffer;
  issuerDer: Buffer;
  /** The names as RFC 5280 compares them (x509/names.ts nameKey). */
  subjectKey: string;
  issuerKey: string;
  subjectEmpty: boolean;
  issuerEmpty: boolean;
  /** Milliseconds since the epoch; NaN when the encoding is not valid. */
  notBefore: number;
  notAfter: number;
  /** Encoding problems of the validity dates (fractional seconds, bad format). */
  validityProblems: string[];
  tbsSignatureAlgorithm: Buffer;
  signatureAlgorithm: Buffer;
  signatureAlgorithmOid: string;
  extensions: Extension[];
  basicConstraints?: { ca: boolean; pathLen?: number; critical: boolean };
  keyUsage?: Set<KeyUsage>;
  extKeyUsage?: string[];
  subjectKeyId?: Buffer;
  authorityKeyId?: { keyId?: Buffer; hasIssuerAndSerial: boolean };
  emailSans: string[];
  /** Number of subjectAltName entries of any type. */
  sanCount: number;
  /** Number of attributes in the subject name. */
  subjectAttributeCount: number;
  /** Number of name constraint subtrees (permitted + excluded) of any type. */
  nameConstraintCount: number;
  /** Permitted/excluded rfc822Name subtrees of a nameConstraints extension. */
  emailConstraints?: { permitted: string[]; excluded: string[] };
  /** Parse problems of extensions (a malformed extension makes a certificate unusable). */
  extensionProblems: string[];
}

/** Reads the details of a certificate; throws DerError only when the outer structure is broken. */
export function certDetails(cert: X509Certificate): CertDetails {
  const root = parseDer(cert.raw);
  const tbs = child(root, 0);
  let i = 0;
  let version = 1;
  const first = child(tbs, 0);
  if (first.tagClass === 2 && first.tagNumber === 0) {
    version = Number(explicit(first, 0).content.readUIntBE(0, Math.min(explicit(first, 0).content.length, 6))) + 1;
    i = 1;
  }
  const serial = child(tbs, i).content;
  const tbsSigAlg = child(tbs, i + 1);
  const issuer = child(tbs, i + 2);
  const validity = child(tbs, i + 3);
  const subject = child(tbs, i + 4);
  const details: CertDetails = {
    cert,
    version,
    serial,
    subjectDer: subject.bytes,
    issuerDer: issuer.bytes,
    subjectKey: nameKey(subject.bytes),
    issuerKey: nameKey(issuer.bytes),
    subjectEmpty: subject.children.length === 0,
    issuerEmpty: issuer.children.length === 0,
    notBefore: NaN,
    notAfter: NaN,
    validityProblems: [],
    tbsSignatureAlgorithm: tbsSigAlg.bytes,
    signatureAlgorithm: child(root, 1).bytes,
    signatureAlgorithmOid: readOid(child(child(root, 1), 0)),
    extensions: [],
    emailSans: [],
    sanCount: 0,
    subjectAttributeCount: subject.children.reduce((n, rdn) => n + rdn.children.length, 0),
    nameConstraintCount: 0,
    extensionProblems: [],
  };
  details.notBefore = readTime(child(validity, 0), 'notBefore', details.validityProblems);
  details.notAfter = readTime(child(validity, 1), 'notAfter', details.validityProblems);
  const extWrapper = tbs.children.slice(i + 6).find((n) => n.tagClass === 2 && n.tagNumber === 3);
  if (extWrapper) {
    for (const ext of explicit(extWrapper, 3).children) {
      const oid = readOid(child(ext, 0));
      const hasCritical = child(ext, 1).tagNumber === Tag.boolean;
      const critical = hasCritical && child(ext, 1).content[0] !== 0;
      const value = child(ext, hasCritical ? 2 : 1).content;
      details.extensions.push({ oid, critical, value });
      try {
        readExtension(details, oid, critical, value);
      } catch (err) {
        details.extensionProblems.push(`extension ${oid} is malformed (${(err as Error).message})`);
      }
    }
  }
  return details;
}

function readExtension(d: CertDetails, oid: string, critical: boolean, value: Buffer): void {
  switch (oid) {
    case OID.basicConstraints: {
      const seq = parseDer(value);
      let ca = false;
      let pathLen: number | undefined;
      for (const n of seq.children) {
        if (n.tagNumber === Tag.boolean) ca = n.content[0] !== 0;
        if (n.tagNumber === Tag.integer) pathLen = n.content.length > 4 ? Number.MAX_SAFE_INTEGER : n.content.readUIntBE(0, n.content.length);
      }
      d.basicConstraints = pathLen === undefined ? { ca, critical } : { ca, pathLen, critical };
      return;
    }
    case OID.keyUsage: {
      const bits = parseDer(value);
      if (bits.tagNumber !== Tag.bitString || bits.content.length < 1) throw new DerError('keyUsage is not a BIT STRING');
      const usage = new Set<KeyUsage>();
      KEY_USAGE_BITS.forEach((name, bit) => {
        const byte = bits.content[1 + (bit >> 3)];
        if (byte !== undefined && byte & (0x80 >> (bit & 7))) usage.add(name);
      });
      d.keyUsage = usage;
      return;
    }
    case OID.extKeyUsage:
      d.extKeyUsage = parseDer(value).children.map(readOid);
      return;
    case OID.subjectKeyId:
      d.subjectKeyId = parseDer(value).content;
      return;
    case OID.authorityKeyId: {
      const seq = parseDer(value);
      const keyId = seq.children.find((n) => n.tagClass === 2 && n.tagNumber === 0)?.content;
      const hasIssuerAndSerial = seq.children.some((n) => n.tagClass === 2 && (n.tagNumber === 1 || n.tagNumber === 2));
      d.authorityKeyId = keyId ? { keyId, hasIssuerAndSerial } : { hasIssuerAndSerial };
      return;
    }
    case OID.subjectAltName:
      d.sanCount = parseDer(value).children.length;
      for (const name of parseDer(value).children) if (name.tagClass === 2 && name.tagNumber === 1) d.emailSans.push(name.content.toString('latin1'));
      return;
    case OID.nameConstraints: {
      const out = { permitted: [] as string[], excluded: [] as string[] };
      for (const subtrees of parseDer(value).children) {
        const list = subtrees.tagNumber === 0 ? out.permitted : out.excluded;
        for (const subtree of subtrees.children) {
          d.nameConstraintCount += 1;
          const base = child(subtree, 0);
          if (base.tagClass === 2 && base.tagNumber === 1) list.push(base.content.toString('latin1'));
        }
      }
      d.emailConstraints = out;
      return;
    }
    default:
      void critical;
  }
}

/** UTCTime / GeneralizedTime to ms; records encodings RFC 5280 forbids (fractions, no Z, no seconds). */
function readTime(node: Node, name: string, problems: string[]): number {
  const text = node.content.toString('latin1');
  if (node.tagNumber === 0x17) {
    const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text);
    if (!m) {
      problems.push(`${name} is not a valid UTCTime ("${text}")`);
      return NaN;
    }
    const yy = Number(m[1]);
    return Date.UTC(yy >= 50 ? 1900 + yy : 2000 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  if (node.tagNumber === 0x18) {
    const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.\d+)?Z$/.exec(text);
    if (!m) {
      problems.push(`${name} is not a valid GeneralizedTime ("${text}")`);
      return NaN;
    }
    if (m[7]) problems.push(`${name} has fractional seconds, which RFC 5280 forbids ("${text}")`);
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) + (m[7] ? Math.floor(Number(m[7]) * 1000) : 0);
  }
  problems.push(`${name} is neither UTCTime nor GeneralizedTime`);
  return NaN;
}

/** True for a certificate whose subject and issuer are the same name (RFC 5280 "self-issued", names compared as 7.1 says). */
export function isSelfIssued(d: CertDetails): boolean {
  return d.subjectKey === d.issuerKey;
}

/** "RSA 2048", "EC P-256", "Ed25519" ... */
export function describePublicKey(cert: X509Certificate): { type: string; bits?: number; text: string } {
  try {
    const key = cert.publicKey;
    const det = key.asymmetricKeyDetails ?? {};
    const type = key.asymmetricKeyType ?? 'unknown';
    if (type === 'rsa' || type === 'rsa-pss' || type === 'dsa') return { type, bits: det.modulusLength ?? 0, text: `${type.toUpperCase()} ${det.modulusLength}` };
    if (type === 'ec') {
      const curve = ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[det.namedCurve ?? ''] ?? det.namedCurve ?? '?';
      return { type, text: `EC ${curve}` };
    }
    return { type, text: type };
  } catch {
    return { type: 'unreadable', text: 'unreadable public key' };
  }
}
