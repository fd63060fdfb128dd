/**
 * Checks of a certificate the platform issued, before anything is written: it must be for our key (the
 * answer may hold a chain, in any order), carry the CN we asked for, and be valid now
 * (EST_WRONG_CERTIFICATE); and it must be one a device can live with (EST_UNUSABLE_CERTIFICATE): usable
 * for TLS client authentication (not a CA; clientAuth when it lists extended key usages), valid for at
 * least MIN_LIFETIME_MS, and for a renewal not ending before the certificate it replaces. Either is the
 * platform's fault (exit 8); the files stay as they were.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { C8yError } from '../errors.js';
import { commonName, dnOneLine } from '../x509/names.js';
import { buildPath, keyMatchesCertificate } from '../x509/path.js';

/**
 * The least validity left in an issued certificate: a day. The platform issues certificates for months
 * (a year by default); one of minutes or hours would take the device offline before a daily renewal
 * timer runs again, so it is refused rather than installed.
 */
export const MIN_LIFETIME_MS = 24 * 60 * 60 * 1000;

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

/** The device certificate picked from an EST answer, with the issuers the answer sent. */
export interface IssuedCertificate {
  /** The new device certificate. */
  leaf: X509Certificate;
  /** Its issuers from the answer, in path order (often none: the platform sends the leaf only). */
  chain: X509Certificate[];
}

/**
 * Picks the certificate for `key` out of the answer and checks its CN and dates; the other certificates
 * of the answer that are on its path become `chain`. `url` names the answer's source in messages.
 */
export function checkIssuedCertificate(answer: readonly X509Certificate[], expect: { key: KeyObject; commonName: string; nowMs: number; url: string }): IssuedCertificate {
  const leaf = answer.find((c) => keyMatchesCertificate(expect.key, c));
  const facts = { url: expect.url, commonName: expect.commonName };
  if (!leaf) throw new C8yError('EST_WRONG_CERTIFICATE', { ...facts, problem: 'other-key', subjects: answer.map((c) => dnOneLine(c.subject)) });
  const cn = commonName(leaf.subject);
  if (cn !== expect.commonName) throw new C8yError('EST_WRONG_CERTIFICATE', { ...facts, problem: 'other-cn', subject: dnOneLine(leaf.subject) });
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  // A few minutes of clock difference between this device and the CA are normal (notBefore = now there).
  if (to <= expect.nowMs || from > expect.nowMs + 10 * 60 * 1000) {
    throw new C8yError('EST_WRONG_CERTIFICATE', { ...facts, problem: 'not valid now', validFrom: new Date(from).toISOString(), validTo: new Date(to).toISOString() });
  }
  const facts2 = { ...facts, subject: dnOneLine(leaf.subject), validTo: new Date(to).toISOString() };
  if (leaf.ca) throw new C8yError('EST_UNUSABLE_CERTIFICATE', { ...facts2, problem: 'ca' });
  // RFC 5280 4.2.1.12: when the extension is present, the certificate is for the purposes it lists only.
  const eku = leaf.keyUsage;
  if (eku && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EXTENDED_KEY_USAGE)) throw new C8yError('EST_UNUSABLE_CERTIFICATE', { ...facts2, problem: 'no-client-auth', allowed: eku });
  if (to - expect.nowMs < MIN_LIFETIME_MS) throw new C8yError('EST_UNUSABLE_CERTIFICATE', { ...facts2, problem: 'short-lived' });
  const { path } = buildPath(
    leaf,
    answer.filter((c) => c !== leaf),
  );
  return { leaf, chain: path.slice(1) };
}

/**
 * A renewal must not leave the device worse off: the new certificate ends no earlier than the current
 * one, unless the user allowed a shorter one (--allow-shorter).
 */
export function checkNotShorter(issued: X509Certificate, current: X509Certificate, options: { allowShorter: boolean; url: string; commonName: string }): void {
  const newEnd = Date.parse(issued.validTo);
  const oldEnd = Date.parse(current.validTo);
  if (newEnd >= oldEnd || options.allowShorter) return;
  throw new C8yError('EST_UNUSABLE_CERTIFICATE', {
    url: options.url,
    commonName: options.commonName,
    subject: dnOneLine(issued.subject),
    problem: 'shorter',
    validTo: new Date(newEnd).toISOString(),
    certificateNotAfter: new Date(oldEnd).toISOString(),
  });
}
