/** cert renew, needs-renewal and enroll: a short report for people, or one JSON object with --json. */
import type { CertRenewResult, NeedsRenewalResult } from '../commands/cert.js';
import type { EnrollResult } from '../core/est/flows.js';
import { keySpecLabel } from '../core/est/csr.js';
import { formatDuration, formatRelative } from '../core/time/duration.js';
import { shownText } from '../core/text.js';
import { commonName, dnOneLine } from '../core/x509/names.js';

const iso = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');
const row = (label: string, value: string): string => `  ${label.padEnd(12)} ${value}\n`;

/** The renewal for people: the new end of validity, the files written and kept, what changed with the chain. */
export function renderRenewal(r: CertRenewResult, nowMs: number): string {
  const cert = r.certificate;
  let out = `Renewed the device certificate of ${shownText(r.commonName)}: valid until ${iso(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}).\n`;
  out += row('before', `valid until ${iso(r.previousNotAfter)}`);
  out += row('issuer', shownText(dnOneLine(cert.issuer)));
  out += row('serial', cert.serialNumber);
  const key = r.keyReplaced ? `new ${r.newKeySpec ? keySpecLabel(r.newKeySpec) : ''} key`.replace('  ', ' ') : 'the same key';
  if (r.kind === 'pem') {
    out += row('written', `${r.certPath}${r.keyReplaced && r.keyPath !== r.certPath ? `, ${r.keyPath}` : ''} (${key})`);
  } else {
    const ks = r.keystore;
    out += row('written', `${r.certPath} (${ks ? `${ks.format === 'jks' ? 'JKS' : 'PKCS#12'}, entry "${shownText(ks.alias)}", ` : ''}same password, ${key})`);
  }
  out += row('kept', `${r.backups.cert}${r.backups.key ? `, ${r.backups.key}` : ''} (the previous file${r.backups.key ? 's' : ''})`);
  out += row('chain', r.chainNote);
  return out;
}

export function renewalJson(r: CertRenewResult): Record<string, unknown> {
  return {
    commonName: r.commonName,
    notAfter: iso(r.notAfter),
    previousNotAfter: iso(r.previousNotAfter),
    subject: dnOneLine(r.certificate.subject),
    issuer: dnOneLine(r.certificate.issuer),
    serialNumber: r.certificate.serialNumber,
    fingerprint256: r.certificate.fingerprint256,
    identity: r.kind,
    files: r.keystore ? { keystore: r.certPath, format: r.keystore.format, alias: r.keystore.alias } : { certificate: r.certPath, key: r.keyPath },
    backups: r.keystore ? { keystore: r.backups.cert } : r.backups,
    keyReplaced: r.keyReplaced,
    newKey: r.newKeySpec ? keySpecLabel(r.newKeySpec) : null,
    issuerChanged: r.issuerChanged,
    chain: r.chainNote,
    url: r.url,
  };
}

/** The verdict for people: renew now (and why) or not yet. */
export function renderNeedsRenewal(r: NeedsRenewalResult, nowMs: number): string {
  const what = `${shownText(r.subject)} (${shownText(r.source)})`;
  const window = formatDuration(r.withinMs);
  if (r.expired) {
    return `renew now: ${what} EXPIRED at ${iso(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}); an expired certificate cannot be renewed over EST: enroll the device again.\n`;
  }
  if (r.renewNow) return `renew now: ${what} expires at ${iso(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}), within ${window}.\n`;
  return `not yet: ${what} expires at ${iso(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}), later than ${window} from now.\n`;
}

export function needsRenewalJson(r: NeedsRenewalResult): Record<string, unknown> {
  return {
    renewNow: r.renewNow,
    notAfter: iso(r.notAfter),
    daysLeft: r.daysLeft,
    expired: r.expired,
    withinSeconds: Math.round(r.withinMs / 1000),
    subject: r.subject,
    commonName: r.commonName ?? null,
    source: r.source,
  };
}

/** The enrollment for people: the certificate's validity and the two files. */
export function renderEnrollment(r: EnrollResult, nowMs: number): string {
  const cn = commonName(r.certificate.subject) ?? '';
  let out = `Enrolled device ${shownText(cn)}: certificate valid until ${iso(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}).\n`;
  out += row('issuer', shownText(dnOneLine(r.certificate.issuer)));
  out += row('certificate', `${r.certPath}${r.chainLength ? ` (with ${r.chainLength} issuer certificate(s))` : ''}`);
  out += row('key', `${r.keyPath} (new ${keySpecLabel(r.keySpec)} key, mode 0600)`);
  return out;
}

export function enrollmentJson(r: EnrollResult): Record<string, unknown> {
  return {
    commonName: commonName(r.certificate.subject) ?? null,
    notAfter: iso(r.notAfter),
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
