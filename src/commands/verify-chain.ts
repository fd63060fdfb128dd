/**
 * `c8ytoken verify-chain`: the device's certificate, key and chain checked locally (and, with --connect,
 * a handshake with the platform), so a field engineer learns what is wrong before a handshake fails.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { C8yError, fileError } from '../core/errors.js';
import { loadSettings, type ConnectionFlags, type Settings } from '../core/config/settings.js';
import { PasswordBook } from '../core/credentials/passwords.js';
import { decodePemKey, openKeystoreEntry, readOrFail } from '../core/credentials/identity.js';
import { isPrivateKeyLabel, pemBlocks, readCertificates } from '../core/encoding/pem.js';
import { findLeaf, keyMatchesCertificate } from '../core/x509/path.js';
import { verifyChain, type ChainReport, type Purpose } from '../core/chain/verify.js';
import type { HandshakeResult } from '../core/platform/handshake.js';
import { requireEndpoint, type CommandIo } from './fetch.js';

export interface VerifyChainOptions {
  connection: ConnectionFlags;
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
  ok: boolean;
}

/** Parses --at: `2027-01-01`, `2027-01-01T12:00:00Z`, or any ISO 8601 date-time. */
export function parseAt(text: string): number {
  const value = /^\d{4}-\d\d-\d\d$/.test(text.trim()) ? Date.parse(`${text.trim()}T00:00:00Z`) : Date.parse(text);
  if (Number.isNaN(value)) throw new C8yError('USAGE', `--at must be a date like 2027-01-01 or 2027-01-01T12:00:00Z, not "${text}".`);
  return value;
}

/** Checks the configured device credentials; throws only when they cannot be read (exit 4). */
export async function verifyChainCommand(options: VerifyChainOptions, io: CommandIo): Promise<VerifyChainResult> {
  const at = options.at !== undefined ? parseAt(options.at) : io.now();
  const settings = await loadSettings({ flags: options.connection, env: io.env, cwd: io.cwd });
  for (const w of settings.warnings) io.warn(w);
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  const { certs, key, source } = await loadChain(settings, passwords);
  const anchors = settings.deviceCa ? await readAnchors(settings.deviceCa) : undefined;
  const leaf = (key && certs.find((c) => keyMatchesCertificate(key, c))) ?? findLeaf(certs)!;
  io.progress(`checking ${certs.length} certificate(s) from ${source}${anchors ? ` against ${anchors.length} device CA certificate(s)` : ''} at ${new Date(at).toISOString()}`);
  const report = verifyChain({ leaf, others: certs.filter((c) => c !== leaf), fileOrder: certs, key, anchors, at, chainHeader: settings.chainHeader, purpose: options.purpose ?? 'client' });
  const result: VerifyChainResult = { source, report, ok: report.ok };
  if (settings.deviceCa) result.deviceCa = settings.deviceCa;
  if (options.connect) {
    if (!key) {
      throw new C8yError('NO_CREDENTIALS', '--connect needs the private key to perform the TLS handshake.', { hint: 'Give --key (or use a keystore).' });
    }
    const endpoint = requireEndpoint(settings);
    const [{ probeHandshake }, { loadTrust }] = await Promise.all([import('../core/platform/handshake.js'), import('../core/credentials/truststore.js')]);
    const trust = await loadTrust(settings.truststore, passwords);
    io.progress(`TLS handshake with ${endpoint.host}`);
    const orderedChain = [leaf, ...report.certificates.filter((c) => c.role !== 'device' && c.role !== 'extra').map((c) => certs.find((x) => x.fingerprint256 === c.sha256)).filter((c): c is X509Certificate => !!c)];
    result.handshake = await probeHandshake(endpoint, { key, chain: orderedChain, source }, trust, settings.timeoutMs);
    result.ok = result.ok && result.handshake.serverTrusted && result.handshake.clientAccepted === true;
  }
  return result;
}

async function loadChain(settings: Settings, passwords: PasswordBook): Promise<{ certs: X509Certificate[]; key?: KeyObject; source: string }> {
  if (settings.keystore) {
    // A key that does not match is a finding of the report here, not an error.
    const { key, chain, source } = await openKeystoreEntry(settings.keystore, passwords);
    return { certs: chain, key, source };
  }
  if (!settings.cert) {
    throw new C8yError('NO_CREDENTIALS', 'No device certificate is configured.', {
      hint: 'Give --cert FILE (PEM chain) or --keystore FILE; --key and --device-ca are optional here.',
    });
  }
  const data = await readOrFail(settings.cert, 'certificate');
  const certs = readCertificates(data, settings.cert, 'certificate');
  const keyPath = settings.key;
  const keyData = keyPath ? await readOrFail(keyPath, 'key') : data;
  const block = pemBlocks(keyData.toString('latin1')).find((b) => isPrivateKeyLabel(b.label));
  if (keyPath && !block) throw new C8yError('NOT_A_KEY', `The key file ${keyPath} holds no PEM private key.`, { hint: 'Give a PEM private key, or leave --key out to skip the key check.' });
  const key = block ? await decodePemKey(block.text, keyPath ?? settings.cert, passwords) : undefined;
  return key ? { certs, key, source: settings.cert } : { certs, source: settings.cert };
}

async function readAnchors(path: string): Promise<X509Certificate[]> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw fileError(err, path, 'device CA');
  }
  return readCertificates(data, path, 'device CA');
}
