/**
 * `c8ytoken verify-chain`: the device's certificate, key and chain checked locally (and, with --connect,
 * a handshake with the platform), so a field engineer learns what is wrong before a handshake fails.
 */
import type { X509Certificate } from 'node:crypto';
import { C8yError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { isoSeconds } from '../../core/time/iso.js';
import type { Settings } from '../../core/config/settings.js';
import { PasswordBook } from '../../core/credentials/passwords.js';
import { loadPemCredentials, openKeystoreEntry, openTokenCredentials, publicKeyOf, type DeviceKey } from '../../core/credentials/identity.js';
import { readRegularFile } from '../../core/files/read.js';
import { readCertificates } from '../../core/x509/read.js';
import { findLeaf, keyMatchesCertificate, SignatureBudget } from '../../core/x509/path.js';
import { verifyChain, type ChainReport, type Purpose } from '../../core/chain/verify.js';
import type { HandshakeResult } from '../../core/platform/handshake.js';
import { loadTrustWithProgress, requireEndpoint } from '../../core/token/source.js';
import { decideProxy, proxyRoute } from '../../core/token/proxy.js';
import type { CommandIo } from '../command.js';

export interface VerifyChainOptions {
  /** The moment to check validity at: an ISO 8601 date or time; default now. */
  at?: string | undefined;
  connect: boolean;
  purpose?: Purpose | undefined;
}

export interface VerifyChainResult {
  source: string;
  deviceCa?: string;
  report: ChainReport;
  handshake?: HandshakeResult;
  /** The X-Ssl-Cert-Chain mode in use (report.chainHeader is what it carries). */
  chainHeaderMode: Settings['chainHeader'];
  ok: boolean;
}

/** Parses --at: `2027-01-01`, `2027-01-01T12:00:00Z`, or any ISO 8601 date-time. */
export function parseAt(text: string): number {
  const value = /^\d{4}-\d\d-\d\d$/.test(text.trim()) ? Date.parse(`${text.trim()}T00:00:00Z`) : Date.parse(text);
  if (Number.isNaN(value)) throw new C8yError('USAGE', { option: '--at', value: text, reason: 'must be a date like 2027-01-01 or 2027-01-01T12:00:00Z' });
  return value;
}

/** Checks the configured device credentials; throws only when they cannot be read (exit 4). */
export async function verifyChainCommand(settings: Settings, options: VerifyChainOptions, io: CommandIo): Promise<VerifyChainResult> {
  const at = options.at !== undefined ? parseAt(options.at) : io.now();
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  const { certs, key, source } = await loadChain(settings, passwords, io);
  const anchors = settings.deviceCa ? readCertificates(await readRegularFile(settings.deviceCa, 'device CA', LIMITS.certificateBytes), settings.deviceCa, 'device CA') : undefined;
  const leaf = (key && certs.find((c) => keyMatchesCertificate(publicKeyOf(key), c))) ?? findLeaf(certs, new SignatureBudget())!;
  io.progress(`checking ${certs.length} certificate(s) from ${source}${anchors ? ` against ${anchors.length} device CA certificate(s)` : ''} at ${isoSeconds(at)}`);
  const report = verifyChain({
    leaf,
    others: certs.filter((c) => c !== leaf),
    fileOrder: certs,
    key: key ? publicKeyOf(key) : undefined,
    anchors,
    at,
    chainHeader: settings.chainHeader,
    purpose: options.purpose ?? 'client',
  });
  const result: VerifyChainResult = { source, report, chainHeaderMode: settings.chainHeader, ok: report.ok };
  if (settings.deviceCa) result.deviceCa = settings.deviceCa;
  if (options.connect) {
    if (!key) throw new C8yError('NO_CREDENTIALS', { reason: 'no key for the handshake' });
    const endpoint = requireEndpoint(settings);
    const decision = decideProxy(settings, io.env, endpoint);
    const { probeHandshake } = await import('../../core/platform/handshake.js');
    const trust = await loadTrustWithProgress(settings, passwords, io);
    const proxy = await proxyRoute(settings, decision, io);
    io.progress(`TLS handshake with ${endpoint.host}${proxy ? ` through ${proxy.shown}` : ''}`);
    // The path as built (what fetch sends), not the file's order.
    const path = report.certificates
      .filter((c) => c.role !== 'extra')
      .map((c) => certs.find((x) => x.fingerprint256 === c.sha256))
      .filter((c): c is X509Certificate => !!c);
    result.handshake = await probeHandshake(endpoint, { key, chain: path.length ? path : [leaf], extra: [], source }, trust, settings.timeoutMs, proxy, undefined, () => io.now());
    // Acceptance that cannot be known from a handshake is a warning, not a failure; a refusal fails.
    const h = result.handshake;
    result.ok = result.ok && h.serverTrusted && (h.clientVerdict === 'accepted' || h.clientVerdict === 'unknown') && !h.proxyProblem;
  }
  return result;
}

async function loadChain(settings: Settings, passwords: PasswordBook, io: CommandIo): Promise<{ certs: X509Certificate[]; key?: DeviceKey; source: string }> {
  if (settings.keystore) {
    // A key that does not match is a finding of the report here, not an error.
    const { key, chain, source } = await openKeystoreEntry(settings.keystore, passwords, io);
    return { certs: chain, key, source };
  }
  if (!settings.cert) throw new C8yError('NO_CREDENTIALS', { reason: 'verify-chain needs a certificate' });
  if (settings.pkcs11) {
    // The token signs a challenge; a key that belongs to none of the certificates is a finding (its public key, read from the token, is checked).
    const opened = await openTokenCredentials(settings.cert, settings.pkcs11, settings.timeoutMs, passwords);
    if (opened.key) return { certs: opened.certs, key: opened.key, source: settings.cert };
    if (!opened.publicKey) throw new C8yError('KEY_MISMATCH', { path: settings.pkcs11.uri.shown, role: 'PKCS#11 key', otherPath: settings.cert, actual: opened.certs.length });
    return { certs: opened.certs, key: opened.publicKey, source: settings.cert };
  }
  const { certs, key } = await loadPemCredentials(settings.cert, settings.key, passwords, false);
  return key ? { certs, key, source: settings.cert } : { certs, source: settings.cert };
}
