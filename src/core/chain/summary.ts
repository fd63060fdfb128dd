/** The certificates of a chain report: role, names, dates, key and usages, one summary each. */
import { isSelfIssued, OID } from '../x509/certificate.js';
import { dnOneLine } from '../x509/names.js';
import { publicKeyOf, type Candidate } from './candidate.js';

export interface CertSummary {
  role: 'device' | 'intermediate' | 'device CA' | 'root' | 'extra';
  subject: string;
  issuer: string;
  serial: string;
  sha256: string;
  notBefore: string;
  notAfter: string;
  /** Days from `at` to notAfter (negative when expired). */
  daysLeft: number;
  key: string;
  keyUsage: string[];
  extendedKeyUsage: string[];
  ca: boolean;
  pathLen?: number;
  selfSigned: boolean;
}

const DAY = 86_400_000;

const EKU_NAMES: Record<string, string> = {
  [OID.clientAuth]: 'clientAuth',
  [OID.serverAuth]: 'serverAuth',
  [OID.anyExtendedKeyUsage]: 'anyExtendedKeyUsage',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
};

/** The summary of the certificate at `index` of a path of `length` (index -1: not on the path). */
export function summarize(c: Candidate, index: number, length: number, at: number): CertSummary {
  const d = c.details;
  const role: CertSummary['role'] = index < 0 ? 'extra' : index === 0 ? 'device' : c.anchor ? 'device CA' : index === length - 1 && isSelfIssued(d) ? 'root' : 'intermediate';
  const s: CertSummary = {
    role,
    subject: dnOneLine(d.cert.subject),
    issuer: dnOneLine(d.cert.issuer),
    serial: d.cert.serialNumber,
    sha256: d.cert.fingerprint256,
    notBefore: Number.isNaN(d.notBefore) ? d.cert.validFrom : new Date(d.notBefore).toISOString(),
    notAfter: Number.isNaN(d.notAfter) ? d.cert.validTo : new Date(d.notAfter).toISOString(),
    daysLeft: Math.floor((d.notAfter - at) / DAY),
    key: publicKeyOf(c).text,
    keyUsage: [...(d.keyUsage ?? [])],
    extendedKeyUsage: (d.extKeyUsage ?? []).map((o) => EKU_NAMES[o] ?? o),
    ca: d.basicConstraints?.ca === true,
    selfSigned: isSelfIssued(d),
  };
  if (d.basicConstraints?.pathLen !== undefined) s.pathLen = d.basicConstraints.pathLen;
  return s;
}
