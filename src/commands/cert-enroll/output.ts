/** cert enroll: a short report for people, or one JSON object with --json. */
import type { EnrollResult } from '../../core/est/flows.js';
import { keySpecLabel } from '../../core/est/csr.js';
import { formatRelative } from '../../core/time/duration.js';
import { shownText } from '../../core/text.js';
import { commonName, dnOneLine } from '../../core/x509/names.js';
import { row } from '../../output/report.js';
import { isoSeconds } from '../../core/time/iso.js';

/** The enrollment for people: the certificate's validity and the two files. */
export function renderEnrollment(r: EnrollResult, nowMs: number): string {
  const cn = commonName(r.certificate.subject) ?? '';
  let out = `Enrolled device ${shownText(cn)}: certificate valid until ${isoSeconds(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}).\n`;
  out += row('issuer', shownText(dnOneLine(r.certificate.issuer)));
  out += row('certificate', `${r.certPath}${r.chainLength ? ` (with ${r.chainLength} issuer certificate(s))` : ''}`);
  out += row('key', `${r.keyPath} (new ${keySpecLabel(r.keySpec)} key, mode 0600)`);
  return out;
}

export function enrollmentJson(r: EnrollResult): Record<string, unknown> {
  return {
    commonName: commonName(r.certificate.subject) ?? null,
    notAfter: isoSeconds(r.notAfter),
    subject: dnOneLine(r.certificate.subject),
    issuer: dnOneLine(r.certificate.issuer),
    serialNumber: r.certificate.serialNumber,
    fingerprint256: r.certificate.fingerprint256,
    files: { certificate: r.certPath, key: r.keyPath },
    keyType: keySpecLabel(r.keySpec),
    chainLength: r.chainLength,
    url: r.url,
  };
}
