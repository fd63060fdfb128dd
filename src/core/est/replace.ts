/**
 * The safe file transaction of a renewal: the new certificate (and key) are written beside the old ones
 * as `.new` files, proven by the caller (a token fetched with them), and only then moved over the old
 * files by rename, the previous files kept as `.bak`. Until the rename nothing the device uses has
 * changed; on any failure the old files are left byte for byte and every `.new` and temporary file is
 * removed. Keys are written with mode 0600, and so is any file holding one.
 *
 * Where the files may be written is the output policy of files/target.ts (links followed only when the
 * user or root owns them, never a FIFO or a folder); single files are replaced by files/atomic.ts.
 * File operations go through `FileOps` so tests can fail each step in turn.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { C8yError, isC8yError, type FileRole } from '../errors.js';
import { LIMITS } from '../limits.js';
import { isPrivateKeyLabel, pemBlocks } from '../encoding/pem.js';
import { readRegularFile } from '../files/read.js';
import { writeFileAtomic } from '../files/atomic.js';
import { outputTarget } from '../files/target.js';
import { refuseOverlaps } from '../files/overlap.js';
import { dnOneLine } from '../x509/names.js';
import { readCertificates } from '../x509/read.js';
import { buildPath, isIssuedBy } from '../x509/path.js';
import type { IssuedCertificate } from './check.js';

const toPem = (cert: X509Certificate): string => cert.toString().trim();

/** The file-system steps of the transaction; each one may be replaced (tests inject failures). */
export interface FileOps {
  readFile(path: string, role: FileRole): Promise<Buffer>;
  /** Creates `path` exclusively with `mode`, writes `data`, flushes it to disk, closes it. */
  writeNew(path: string, data: string | Buffer, mode: number): Promise<void>;
  /** Replaces `path` atomically (files/atomic.ts: a temporary file beside it, renamed over it). */
  writeAtomic(path: string, data: string | Buffer, mode: number, role: FileRole): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Permission bits of an existing file. */
  mode(path: string): Promise<number>;
}

/** The real file system. */
export const realFileOps: FileOps = {
  readFile: (path, role) => readRegularFile(path, role, LIMITS.certificateBytes),
  async writeNew(path, data, mode) {
    const handle = await fsp.open(path, 'wx', mode);
    try {
      await handle.writeFile(data);
      // open() applies the umask; the mode must be exact (0600 for keys).
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  writeAtomic: (path, data, mode, role) => writeFileAtomic(path, data, { mode, role }),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  mode: async (path) => (await fsp.stat(path)).mode & 0o777,
};

const KEY_MODE = 0o600;

/**
 * The files a renewal will replace, each as the output policy allows it (a link the user owns resolved
 * to its target, which is replaced while the link stays): call it before the EST request, so an
 * unwritable folder fails before anything is asked of the platform.
 */
export async function renewalTargets(paths: readonly { path: string; role: FileRole }[]): Promise<string[]> {
  const out: string[] = [];
  for (const { path, role } of paths) {
    try {
      out.push(await outputTarget(path, role));
    } catch (err) {
      throw isC8yError(err) ? new C8yError(err.code, { ...err.facts, unchanged: paths.map((p) => p.path) }, { cause: err.cause }) : err;
    }
  }
  return out;
}

/** The new chain file's certificates and what happened to the old chain's other certificates. */
export interface ComposedChain {
  chain: X509Certificate[];
  /** One sentence for the user, e.g. "kept 1 intermediate certificate of the old chain". */
  note: string;
  /** The new certificate has another issuer than the old one. */
  issuerChanged: boolean;
}

/**
 * The chain to write: the new leaf, then the issuers the answer sent; or, when it sent none (the usual
 * case), the certificates that followed the old leaf in its file, kept as long as the new certificate
 * has the same issuer (or one of them issued it). Pure: no files.
 */
export function composeChain(oldLeaf: X509Certificate, oldOthers: readonly X509Certificate[], issued: IssuedCertificate): ComposedChain {
  const { leaf } = issued;
  const issuerChanged = leaf.issuer !== oldLeaf.issuer;
  const change = issuerChanged ? ` The issuer changed: it was ${dnOneLine(oldLeaf.issuer)}, it is ${dnOneLine(leaf.issuer)}.` : '';
  if (issued.chain.length > 0) {
    return { chain: [leaf, ...issued.chain], note: `The chain file holds the ${issued.chain.length} issuer certificate(s) the platform sent.${change}`, issuerChanged };
  }
  if (!issuerChanged) {
    return {
      chain: [leaf, ...oldOthers],
      note: oldOthers.length ? `Kept the ${oldOthers.length} certificate(s) that followed the old certificate in its file.` : 'The chain file holds the device certificate only, as before.',
      issuerChanged,
    };
  }
  const { path } = buildPath(leaf, oldOthers);
  if (path.length > 1 && isIssuedBy(leaf, path[1]!)) {
    return { chain: path, note: `Kept ${path.length - 1} certificate(s) of the old file that issue the new certificate.${change}`, issuerChanged };
  }
  return {
    chain: [leaf],
    note: `The ${oldOthers.length} certificate(s) that followed the old certificate were not kept, since they do not issue the new one.${change} Add the new issuer's chain to the file if the platform needs it.`,
    issuerChanged,
  };
}

/** The inputs of replacePemIdentity. */
export interface PemReplacement {
  /** The current certificate file: leaf and any intermediates; it may hold the key too. */
  certPath: string;
  /** The current key file; undefined (or certPath) when the key is inside the certificate file. */
  keyPath?: string | undefined;
  /** The current device certificate (to find it, and what followed it, in the file). */
  oldLeaf: X509Certificate;
  /** The checked answer (check.ts). */
  issued: IssuedCertificate;
  /** PEM of the new key, when one was made (--new-key); otherwise the current key stays. */
  newKeyPem?: string | undefined;
  /** Proves the new files work, e.g. by fetching a token with them; throws when they do not. */
  prove(certPath: string, keyPath: string): Promise<void>;
  ops?: Partial<FileOps> | undefined;
}

/** What replacePemIdentity did. */
export interface ReplacementResult {
  certPath: string;
  keyPath: string;
  /** Where the previous files are now. */
  backups: { cert: string; key?: string };
  chain: X509Certificate[];
  chainNote: string;
  issuerChanged: boolean;
  keyReplaced: boolean;
}

/** Replaces a PEM identity with the renewed certificate (and key): write .new, prove, then rename with .bak. */
export async function replacePemIdentity(req: PemReplacement): Promise<ReplacementResult> {
  const ops: FileOps = { ...realFileOps, ...req.ops };
  const combined = req.keyPath === undefined || req.keyPath === req.certPath;
  const keyPath = combined ? req.certPath : req.keyPath!;
  const separateNewKey = req.newKeyPem !== undefined && !combined;
  const unchanged = combined ? [req.certPath] : [req.certPath, keyPath];
  // The files the policy allows (a link resolved to its target): .new and .bak go beside those.
  const [certTarget, keyTarget] = await renewalTargets(
    separateNewKey
      ? [
          { path: req.certPath, role: 'certificate' },
          { path: keyPath, role: 'key' },
        ]
      : [{ path: req.certPath, role: 'certificate' }],
  );

  const oldCertBytes = await ops.readFile(certTarget!, 'certificate');
  const oldKeyBytes = separateNewKey ? await ops.readFile(keyTarget!, 'key') : undefined;
  const oldText = oldCertBytes.toString('latin1');
  const oldCerts = readCertificates(oldCertBytes, req.certPath, 'certificate');
  const oldOthers = oldCerts.filter((c) => c.fingerprint256 !== req.oldLeaf.fingerprint256);
  const composed = composeChain(req.oldLeaf, oldOthers, req.issued);
  const chainPem = composed.chain.map((c) => `${toPem(c)}\n`).join('');
  let certContent = chainPem;
  if (combined) {
    const keyBlock = req.newKeyPem ?? pemBlocks(oldText).find((b) => isPrivateKeyLabel(b.label))?.text;
    if (!keyBlock) throw new C8yError('NO_CREDENTIALS', { path: req.certPath, role: 'certificate', reason: 'no key', unchanged });
    certContent = `${chainPem}${keyBlock.trim()}\n`;
  }
  const certMode = combined ? KEY_MODE : await ops.mode(certTarget!).catch(() => 0o644);

  const certNew = `${certTarget}.new`;
  const keyNew = `${keyTarget}.new`;
  const created: string[] = [];
  const cleanup = async (): Promise<void> => {
    for (const p of created.splice(0)) await ops.unlink(p).catch(() => undefined);
  };
  try {
    // A .new left by a process that was killed is ours to replace.
    for (const stale of separateNewKey ? [certNew, keyNew] : [certNew]) await ops.unlink(stale).catch(() => undefined);
    await writeOrFail(ops, certNew, certContent, certMode, created, 'certificate', unchanged);
    if (separateNewKey) await writeOrFail(ops, keyNew, req.newKeyPem!, KEY_MODE, created, 'key', unchanged);
  } catch (err) {
    await cleanup();
    throw err;
  }

  try {
    await req.prove(certNew, separateNewKey ? keyNew : combined ? certNew : keyPath);
  } catch (err) {
    await cleanup();
    throw notProven(err, unchanged);
  }

  const backups: ReplacementResult['backups'] = { cert: `${req.certPath}.bak` };
  try {
    await ops.writeAtomic(`${certTarget}.bak`, oldCertBytes, combined ? KEY_MODE : certMode, 'certificate');
    if (separateNewKey) {
      backups.key = `${keyPath}.bak`;
      await ops.writeAtomic(`${keyTarget}.bak`, oldKeyBytes!, KEY_MODE, 'key');
    }
  } catch (err) {
    await cleanup();
    throw asUnwritable(err, `${certTarget}.bak`, unchanged);
  }

  // The commit: key first, then certificate; a failure between the two puts the old key back.
  if (separateNewKey) {
    try {
      await ops.rename(keyNew, keyTarget!);
      created.splice(created.indexOf(keyNew), 1);
    } catch (err) {
      await cleanup();
      throw asUnwritable(err, keyPath, unchanged, 'key');
    }
  }
  try {
    await ops.rename(certNew, certTarget!);
    created.splice(created.indexOf(certNew), 1);
  } catch (err) {
    await cleanup();
    if (separateNewKey) {
      try {
        await ops.writeAtomic(keyTarget!, oldKeyBytes!, KEY_MODE, 'key');
      } catch (restoreErr) {
        throw new C8yError(
          'OUTPUT_UNWRITABLE',
          { path: req.certPath, role: 'certificate', otherPath: keyPath, reason: 'restore failed', restore: `mv ${backups.key} ${keyPath}` },
          { cause: restoreErr },
        );
      }
    }
    throw asUnwritable(err, req.certPath, unchanged);
  }
  return {
    certPath: req.certPath,
    keyPath,
    backups,
    chain: composed.chain,
    chainNote: composed.note,
    issuerChanged: composed.issuerChanged,
    keyReplaced: req.newKeyPem !== undefined,
  };
}

/** The inputs of writeKeystoreRenewal. */
export interface KeystoreRenewalFiles {
  /** The keystore whose identity was renewed. */
  keystorePath: string;
  issued: IssuedCertificate;
  /** The current chain from the keystore, leaf first (for its intermediates). */
  oldChain: readonly X509Certificate[];
  /** The key to write beside the certificate: the new key, or the keystore's key. Encrypt it (privateKeyPem with a passphrase). */
  keyPem: string;
  /** Also write a PKCS#12 (PBES2/AES-256, SHA-256 MAC) with this key, protected with `password`. */
  pkcs12?: { key: KeyObject; password: string; alias?: string | undefined } | undefined;
  prove(certPath: string, keyPath: string): Promise<void>;
  ops?: Partial<FileOps> | undefined;
}

/** What writeKeystoreRenewal wrote, and how to use it. */
export interface KeystoreRenewalResult {
  certPath: string;
  keyPath: string;
  /** The PKCS#12 written beside the keystore, when asked for. */
  pkcs12Path?: string;
  chain: X509Certificate[];
  chainNote: string;
  issuerChanged: boolean;
  /** How to use the files, for the user. */
  howToUse: string;
}

/** Names of the files written next to a keystore: device.p12 → device.renewed.chain.pem, .renewed.key, .renewed.p12. */
export function keystoreRenewalPaths(keystorePath: string): { certPath: string; keyPath: string; pkcs12Path: string } {
  const base = basename(keystorePath, extname(keystorePath));
  const dir = dirname(keystorePath);
  return { certPath: join(dir, `${base}.renewed.chain.pem`), keyPath: join(dir, `${base}.renewed.key`), pkcs12Path: join(dir, `${base}.renewed.p12`) };
}

/**
 * For a PKCS#12/JKS identity: the renewed certificate (with its chain) and the key as PEM files next to
 * the keystore, proven before they are left there; the keystore itself is not touched.
 */
export async function writeKeystoreRenewal(req: KeystoreRenewalFiles): Promise<KeystoreRenewalResult> {
  const ops: FileOps = { ...realFileOps, ...req.ops };
  const { certPath, keyPath, pkcs12Path } = keystoreRenewalPaths(req.keystorePath);
  const unchanged = [req.keystorePath];
  const targets = await renewalTargets([{ path: certPath, role: 'certificate' }, { path: keyPath, role: 'key' }, ...(req.pkcs12 ? [{ path: pkcs12Path, role: 'keystore' as const }] : [])]);
  const [certTarget, keyTarget, p12Target] = targets as [string, string, string | undefined];
  const oldLeaf = req.oldChain[0];
  if (!oldLeaf) throw new C8yError('INTERNAL', { detail: 'writeKeystoreRenewal needs the current chain' });
  const composed = composeChain(oldLeaf, req.oldChain.slice(1), req.issued);
  const chainPem = composed.chain.map((c) => `${toPem(c)}\n`).join('');
  const created: string[] = [];
  const cleanup = async (): Promise<void> => {
    for (const p of created.splice(0)) await ops.unlink(p).catch(() => undefined);
  };
  const certNew = `${certTarget}.new`;
  const keyNew = `${keyTarget}.new`;
  const p12New = `${p12Target}.new`;
  try {
    for (const stale of [certNew, keyNew, ...(p12Target ? [p12New] : [])]) await ops.unlink(stale).catch(() => undefined);
    await writeOrFail(ops, certNew, chainPem, 0o644, created, 'certificate', unchanged);
    await writeOrFail(ops, keyNew, req.keyPem, KEY_MODE, created, 'key', unchanged);
    if (req.pkcs12) {
      // Loaded only here: it brings the PKCS#12 key derivation along.
      const { writePkcs12 } = await import('./pkcs12-writer.js');
      const p12 = await writePkcs12({ key: req.pkcs12.key, chain: composed.chain, password: req.pkcs12.password, ...(req.pkcs12.alias ? { alias: req.pkcs12.alias } : {}) });
      await writeOrFail(ops, p12New, p12, KEY_MODE, created, 'keystore', unchanged);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  try {
    await req.prove(certNew, keyNew);
  } catch (err) {
    await cleanup();
    throw notProven(err, unchanged);
  }
  try {
    await ops.rename(keyNew, keyTarget);
    created.splice(created.indexOf(keyNew), 1, keyTarget);
    await ops.rename(certNew, certTarget);
    created.splice(created.indexOf(certNew), 1, certTarget);
    if (req.pkcs12) {
      await ops.rename(p12New, p12Target!);
      created.splice(created.indexOf(p12New), 1);
    }
  } catch (err) {
    await cleanup();
    throw asUnwritable(err, certPath, unchanged);
  }
  const encrypted = /ENCRYPTED PRIVATE KEY/.test(req.keyPem);
  const pem = `--cert ${certPath} --key ${keyPath}${encrypted ? ' --key-password-file FILE (the key is encrypted with the keystore password)' : ''}`;
  return {
    certPath,
    keyPath,
    ...(req.pkcs12 ? { pkcs12Path } : {}),
    chain: composed.chain,
    chainNote: composed.note,
    issuerChanged: composed.issuerChanged,
    howToUse: req.pkcs12
      ? `Use --keystore ${pkcs12Path} (same password as before; PKCS#12 that OpenSSL 3 and keytool read), or ${pem}. ` +
        `Replace the old keystore with it when ready: mv ${pkcs12Path} ${req.keystorePath} (keytool -importkeystore -srckeystore ${pkcs12Path} -srcstoretype PKCS12 -destkeystore NEW.jks makes a JKS). The keystore ${req.keystorePath} is unchanged.`
      : `Use them with ${pem}, or put them into a new keystore: openssl pkcs12 -export -in ${certPath} -inkey ${keyPath} -name device -out NEW.p12` +
        ` (keytool -importkeystore -srckeystore NEW.p12 -srcstoretype PKCS12 -destkeystore NEW.jks for JKS). The keystore ${req.keystorePath} is unchanged.`,
  };
}

async function writeOrFail(ops: FileOps, path: string, data: string | Buffer, mode: number, created: string[], role: FileRole, unchanged: string[]): Promise<void> {
  try {
    await ops.writeNew(path, data, mode);
    created.push(path);
  } catch (err) {
    // A partly written file may exist even when the write failed.
    created.push(path);
    throw asUnwritable(err, path, unchanged, role);
  }
}

function asUnwritable(err: unknown, path: string, unchanged: string[], role: FileRole = 'certificate'): C8yError {
  const left = unchanged.length ? { unchanged } : {};
  if (isC8yError(err)) return err.facts.unchanged || err.facts.restore || !unchanged.length ? err : new C8yError(err.code, { ...err.facts, ...left }, { cause: err.cause });
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new C8yError('OUTPUT_UNWRITABLE', { path, role, otherPath: dirname(path), reason: code ?? String(err), ...(code ? { nodeCode: code } : {}), ...left }, { cause: err });
}

/** The proof's own error (its class, its facts), marked as a failed proof that left the files as they were. */
function notProven(err: unknown, unchanged: string[]): C8yError {
  if (isC8yError(err)) return new C8yError(err.code, { ...err.facts, during: 'prove', unchanged }, { cause: err });
  return new C8yError('INTERNAL', { detail: 'proving the renewed certificate failed unexpectedly', during: 'prove', unchanged }, { cause: err });
}

/** The inputs of writeEnrollment. */
export interface EnrollmentFiles {
  certPath: string;
  keyPath: string;
  /** The checked answer (check.ts); its chain, if any, follows the device certificate in certPath. */
  issued: IssuedCertificate;
  /** The key the request was made for (PEM, 0600). */
  keyPem: string;
  /** Replace files that exist already (default: refuse, before anything is written). */
  overwrite?: boolean | undefined;
  ops?: Partial<FileOps> | undefined;
}

/** Checks enroll's output files can be written (the output policy; files absent unless overwrite): before the request. */
export async function checkEnrollable(certPath: string, keyPath: string, overwrite = false): Promise<{ certTarget: string; keyTarget: string }> {
  // One file for both would end with the certificate written over the only copy of the new key.
  await refuseOverlaps(
    [
      { path: keyPath, option: '--key' },
      { path: certPath, option: '--cert' },
    ],
    [],
  );
  const [certTarget, keyTarget] = (await renewalTargets([
    { path: certPath, role: 'certificate' },
    { path: keyPath, role: 'key' },
  ])) as [string, string];
  if (!overwrite) {
    for (const [path, role] of [
      [keyPath, 'key'],
      [certPath, 'certificate'],
    ] as const) {
      const exists = await fsp.lstat(path).then(
        () => true,
        () => false,
      );
      if (exists) throw new C8yError('OUTPUT_UNWRITABLE', { path, role, reason: 'exists', unchanged: [path] });
    }
  }
  return { certTarget, keyTarget };
}

/** Writes an enrolled device's key (0600) and certificate, each atomically; on failure neither is left. */
export async function writeEnrollment(req: EnrollmentFiles): Promise<{ certPath: string; keyPath: string; chain: X509Certificate[] }> {
  const ops: FileOps = { ...realFileOps, ...req.ops };
  const { certTarget, keyTarget } = await checkEnrollable(req.certPath, req.keyPath, req.overwrite);
  const chain = [req.issued.leaf, ...req.issued.chain];
  const written: string[] = [];
  try {
    await ops.writeAtomic(keyTarget, req.keyPem, KEY_MODE, 'key');
    if (!req.overwrite) written.push(keyTarget);
    await ops.writeAtomic(certTarget, chain.map((c) => `${toPem(c)}\n`).join(''), 0o644, 'certificate');
  } catch (err) {
    for (const p of written.splice(0)) await ops.unlink(p).catch(() => undefined);
    throw asUnwritable(err, req.certPath, []);
  }
  return { certPath: req.certPath, keyPath: req.keyPath, chain };
}
