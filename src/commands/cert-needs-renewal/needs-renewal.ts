/** `c8ytoken cert needs-renewal`: the device certificate judged against the renewal window, on the local clock. */
import type { X509Certificate } from 'node:crypto';
import type { Settings } from '../../core/config/settings.js';
import type { CommandIo } from '../command.js';
import { C8yError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { PasswordBook } from '../../core/credentials/passwords.js';
import { openKeystoreEntry } from '../../core/credentials/identity.js';
import { readRegularFile } from '../../core/files/read.js';
import { loadIdentityWithProgress } from '../../core/token/source.js';
import { commonName, dnOneLine } from '../../core/x509/names.js';
import { findLeaf } from '../../core/x509/path.js';
import { readCertificates } from '../../core/x509/read.js';
import { renewalVerdict, withinExceedsLifetimeText, type RenewalVerdict } from '../../core/x509/renewal.js';

/** What needs-renewal found. */
export interface NeedsRenewalResult extends RenewalVerdict {
  withinMs: number;
  /** The certificate file, or the keystore entry. */
  source: string;
  subject: string;
  commonName: string | undefined;
}

/** cert needs-renewal: the device certificate (PEM, PKCS#12 or JKS) judged against the window, on the local clock. */
export async function certNeedsRenewalCommand(settings: Settings, options: { withinMs: number }, io: CommandIo): Promise<NeedsRenewalResult> {
  const { leaf, source } = await deviceCertificate(settings, io);
  const verdict = renewalVerdict(leaf, options.withinMs, io.now());
  // A daily timer would renew every day: say so.
  if (verdict.windowExceedsLifetime) io.warn(withinExceedsLifetimeText(verdict, options.withinMs));
  return { ...verdict, withinMs: options.withinMs, source, subject: dnOneLine(leaf.subject), commonName: commonName(leaf.subject) };
}

/** The device certificate alone: from a keystore entry (its password as usual), or a PEM file (the key's certificate when a key is given). */
async function deviceCertificate(settings: Settings, io: CommandIo): Promise<{ leaf: X509Certificate; source: string }> {
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  if (settings.keystore) {
    const entry = await openKeystoreEntry(settings.keystore, passwords, io);
    return { leaf: entry.chain[0]!, source: entry.source };
  }
  if (!settings.cert) throw new C8yError('NO_CREDENTIALS');
  const certs = readCertificates(await readRegularFile(settings.cert, 'certificate', LIMITS.certificateBytes), settings.cert, 'certificate');
  if (settings.key) {
    const identity = await loadIdentityWithProgress(settings, passwords, io);
    return { leaf: identity.chain[0]!, source: settings.cert };
  }
  return { leaf: findLeaf(certs)!, source: settings.cert };
}
