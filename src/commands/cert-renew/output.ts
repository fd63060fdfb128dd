/** cert renew: a short report for people, or one JSON object with --json. */
import type { CertRenewResult } from '../../core/est/device.js';
import { keySpecLabel } from '../../core/est/csr.js';
import { formatRelative } from '../../core/time/duration.js';
import { shownText } from '../../core/text.js';
import { dnOneLine } from '../../core/x509/names.js';
import { row } from '../../output/report.js';
import { isoSeconds } from '../../core/time/iso.js';

/** The renewal for people: the new end of validity, the files written and kept, what changed with the chain. */
export function renderRenewal(r: CertRenewResult, nowMs: number): string {
  const cert = r.certificate;
  let out = `Renewed the device certificate of ${shownText(r.commonName)}: valid until ${isoSeconds(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}).\n`;
  out += row('before', `valid until ${isoSeconds(r.previousNotAfter)}`);
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
    notAfter: isoSeconds(r.notAfter),
    previousNotAfter: isoSeconds(r.previousNotAfter),
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
