/**
 * Checks of a certificate the platform issued, before anything is written: it must be for our key (the
 * answer may hold a chain, in any order), carry the CN we asked for, and be valid now. A certificate that
 * fails here is the platform's fault (EST_WRONG_CERTIFICATE, exit 8); the files stay as they were.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { C8yError } from '../errors.js';
import { commonName, dnOneLine } from '../x509/names.js';
import { buildPath, keyMatchesCertificate } from '../x509/path.js';

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
  const { path } = buildPath(
    leaf,
    answer.filter((c) => c !== leaf),
  );
  return { leaf, chain: path.slice(1) };
}
