/**
 * The safe file transaction of a renewal: the new certificate (and key) are written beside the old ones
 * as `.new` files, proven by the caller (a token fetched with them), and only then moved over the old
 * files by rename, the previous files kept as `.bak`. Until the rename nothing the device uses has
 * changed; on any failure the old files are left byte for byte and every `.new` and temporary file is
 * removed. Keys are written with mode 0600, and so is any file holding one.
 *
 * File operations go through `FileOps` so tests can fail each step in turn.
 */
import { randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { C8yError, fileError, isC8yError } from '../errors.js';
import { dnOneLine, isPrivateKeyLabel, pemBlocks, readCertificates, toPem } from '../encoding/pem.js';
import { buildPath, isIssuedBy } from '../x509/path.js';
import type { IssuedCertificate } from './check.js';

/** The file-system steps of the transaction; each one may be replaced (tests inject failures). */
export interface FileOps {
  readFile(path: string): Promise<Buffer>;
  /** Creates `path` exclusively with `mode`, writes `data`, flushes it to disk, closes it. */
  writeNew(path: string, data: string | Buffer, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Permission bits of an existing file. */
  mode(path: string): Promise<number>;
}

/** The real file system. */
export const realFileOps: FileOps = {
  readFile: (path) => fsp.readFile(path),
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
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  mode: async (path) => (await fsp.stat(path)).mode & 0o777,
};

const KEY_MODE = 0o600;

/** Checks the folders of the files to be replaced exist and are writable: call it before the EST request. */
export async function checkRenewable(paths: readonly string[]): Promise<void> {
  for (const dir of new Set(paths.map((p) => dirname(p)))) {
    let isDir = false;
    try {
      isDir = (await fsp.stat(dir)).isDirectory();
    } catch (err) {
      throw unwritable(paths[0]!, `the folder ${dir} does not exist`, `Create it first: mkdir -p ${dir}`, err);
    }
    if (!isDir) throw unwritable(paths[0]!, `${dir} is not a folder`, 'Give files inside an existing folder.');
    try {
      await fsp.access(dir, constants.W_OK);
    } catch (err) {
      throw unwritable(paths[0]!, `the folder ${dir} is not writable`, 'Run as the user that owns the device credentials (often root), or make the folder writable.', err);
    }
  }
}

function unwritable(path: string, reason: string, hint: string, cause?: unknown): C8yError {
  return new C8yError('CERT_UNWRITABLE', `Cannot write the renewed certificate beside ${path}: ${reason}. Nothing was changed.`, {
    hint,
    ...(cause === undefined ? {} : { cause }),
    details: { path },
  });
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
    return { chain: [leaf, ...oldOthers], note: oldOthers.length ? `Kept the ${oldOthers.length} certificate(s) that followed the old certificate in its file.` : 'The chain file holds the device certificate only, as before.', issuerChanged };
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
  await checkRenewable(combined ? [req.certPath] : [req.certPath, keyPath]);

  const oldCertBytes = await readOld(ops, req.certPath, 'certificate');
  const oldKeyBytes = separateNewKey ? await readOld(ops, keyPath, 'key') : undefined;
  const oldText = oldCertBytes.toString('latin1');
  const oldCerts = readCertificates(oldCertBytes, req.certPath, 'certificate');
  const oldOthers = oldCerts.filter((c) => c.fingerprint256 !== req.oldLeaf.fingerprint256);
  const composed = composeChain(req.oldLeaf, oldOthers, req.issued);
  const chainPem = composed.chain.map((c) => `${toPem(c)}\n`).join('');
  let certContent = chainPem;
  if (combined) {
    const keyBlock = req.newKeyPem ?? pemBlocks(oldText).find((b) => isPrivateKeyLabel(b.label))?.text;
    if (!keyBlock) throw new C8yError('NO_CREDENTIALS', `No private key is in ${req.certPath}, and no key file is configured.`, { hint: 'Give the device key with --key.' });
    certContent = `${chainPem}${keyBlock.trim()}\n`;
  }
  const certMode = combined ? KEY_MODE : await ops.mode(req.certPath).catch(() => 0o644);

  const certNew = `${req.certPath}.new`;
  const keyNew = `${keyPath}.new`;
  const created: string[] = [];
  const cleanup = async (): Promise<void> => {
    for (const p of created.splice(0)) await ops.unlink(p).catch(() => undefined);
  };
  try {
    // A .new left by a process that was killed is ours to replace.
    for (const stale of separateNewKey ? [certNew, keyNew] : [certNew]) await ops.unlink(stale).catch(() => undefined);
    await writeOrFail(ops, certNew, certContent, certMode, created);
    if (separateNewKey) await writeOrFail(ops, keyNew, req.newKeyPem!, KEY_MODE, created);
  } catch (err) {
    await cleanup();
    throw err;
  }

  try {
    await req.prove(certNew, separateNewKey ? keyNew : combined ? certNew : keyPath);
  } catch (err) {
    await cleanup();
    throw notProven(err, req.certPath);
  }

  const backups: ReplacementResult['backups'] = { cert: `${req.certPath}.bak` };
  try {
    await atomicWrite(ops, backups.cert, oldCertBytes, combined ? KEY_MODE : certMode, created);
    if (separateNewKey) {
      backups.key = `${keyPath}.bak`;
      await atomicWrite(ops, backups.key, oldKeyBytes!, KEY_MODE, created);
    }
  } catch (err) {
    await cleanup();
    throw asUnwritable(err, req.certPath);
  }

  // The commit: key first, then certificate; a failure between the two puts the old key back.
  if (separateNewKey) {
    try {
      await ops.rename(keyNew, keyPath);
      created.splice(created.indexOf(keyNew), 1);
    } catch (err) {
      await cleanup();
      throw asUnwritable(err, keyPath);
    }
  }
  try {
    await ops.rename(certNew, req.certPath);
    created.splice(created.indexOf(certNew), 1);
  } catch (err) {
    await cleanup();
    if (separateNewKey) {
      try {
        await atomicWrite(ops, keyPath, oldKeyBytes!, KEY_MODE, created);
      } catch (restoreErr) {
        await cleanup();
        throw new C8yError('CERT_UNWRITABLE', `Replacing ${req.certPath} failed after the new key was in place, and putting the old key back failed too: ${keyPath} now holds the NEW key, ${req.certPath} the OLD certificate.`, {
          hint: `Restore by hand: mv ${backups.key} ${keyPath}`,
          cause: restoreErr,
        });
      }
    }
    throw asUnwritable(err, req.certPath);
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
  await checkRenewable([certPath]);
  const oldLeaf = req.oldChain[0];
  if (!oldLeaf) throw new C8yError('INTERNAL', 'writeKeystoreRenewal needs the current chain.');
  const composed = composeChain(oldLeaf, req.oldChain.slice(1), req.issued);
  const chainPem = composed.chain.map((c) => `${toPem(c)}\n`).join('');
  const created: string[] = [];
  const cleanup = async (): Promise<void> => {
    for (const p of created.splice(0)) await ops.unlink(p).catch(() => undefined);
  };
  const certNew = `${certPath}.new`;
  const keyNew = `${keyPath}.new`;
  const p12New = `${pkcs12Path}.new`;
  try {
    for (const stale of [certNew, keyNew, p12New]) await ops.unlink(stale).catch(() => undefined);
    await writeOrFail(ops, certNew, chainPem, 0o644, created);
    await writeOrFail(ops, keyNew, req.keyPem, KEY_MODE, created);
    if (req.pkcs12) {
      // Loaded only here: it brings the PKCS#12 key derivation along.
      const { writePkcs12 } = await import('./pkcs12-writer.js');
      const p12 = writePkcs12({ key: req.pkcs12.key, chain: composed.chain, password: req.pkcs12.password, ...(req.pkcs12.alias ? { alias: req.pkcs12.alias } : {}) });
      await writeOrFail(ops, p12New, p12, KEY_MODE, created);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  try {
    await req.prove(certNew, keyNew);
  } catch (err) {
    await cleanup();
    throw notProven(err, req.keystorePath);
  }
  try {
    await ops.rename(keyNew, keyPath);
    created.splice(created.indexOf(keyNew), 1, keyPath);
    await ops.rename(certNew, certPath);
    created.splice(created.indexOf(certNew), 1, certPath);
    if (req.pkcs12) {
      await ops.rename(p12New, pkcs12Path);
      created.splice(created.indexOf(p12New), 1);
    }
  } catch (err) {
    await cleanup();
    throw asUnwritable(err, certPath);
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

async function readOld(ops: FileOps, path: string, what: string): Promise<Buffer> {
  try {
    return await ops.readFile(path);
  } catch (err) {
    throw fileError(err, path, what);
  }
}

async function writeOrFail(ops: FileOps, path: string, data: string | Buffer, mode: number, created: string[]): Promise<void> {
  try {
    await ops.writeNew(path, data, mode);
    created.push(path);
  } catch (err) {
    // A partly written file may exist even when the write failed.
    created.push(path);
    throw asUnwritable(err, path);
  }
}

/** Writes `path` atomically: a temporary file in the same folder, then rename over it. */
async function atomicWrite(ops: FileOps, path: string, data: Buffer, mode: number, created: string[]): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeOrFail(ops, tmp, data, mode, created);
  await ops.rename(tmp, path);
  created.splice(created.indexOf(tmp), 1);
}

function asUnwritable(err: unknown, path: string): C8yError {
  if (isC8yError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return unwritable(path, code ?? String(err), code === 'ENOSPC' ? 'Free some disk space.' : 'Check the folder permissions and free space.', err);
}

function notProven(err: unknown, path: string): C8yError {
  const suffix = ` The renewed certificate was not put in place: ${path} and its key are unchanged.`;
  if (isC8yError(err)) {
    return new C8yError(err.code, `The renewed certificate did not work for a token: ${err.message}${suffix}`, {
      hint: err.hint ?? 'Run again later.',
      cause: err,
      details: { ...err.details, stage: 'prove' },
    });
  }
  return new C8yError('INTERNAL', `Proving the renewed certificate failed unexpectedly.${suffix}`, { cause: err });
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

/** Checks enroll's output files can be written (folders writable; files absent unless overwrite): before the request. */
export async function checkEnrollable(certPath: string, keyPath: string, overwrite = false): Promise<void> {
  await checkRenewable([certPath, keyPath]);
  if (overwrite) return;
  for (const path of [keyPath, certPath]) {
    const exists = await fsp.stat(path).then(
      () => true,
      () => false,
    );
    if (exists) {
      throw new C8yError('CERT_UNWRITABLE', `${path} exists already; enroll does not replace a device's certificate or key. Nothing was changed.`, {
        hint: 'Give other paths, or move the old files away first (to renew an existing certificate, use `c8ytoken cert renew`).',
        details: { path },
      });
    }
  }
}

/** Writes an enrolled device's key (0600) and certificate, each atomically; on failure neither is left. */
export async function writeEnrollment(req: EnrollmentFiles): Promise<{ certPath: string; keyPath: string; chain: X509Certificate[] }> {
  const ops: FileOps = { ...realFileOps, ...req.ops };
  await checkEnrollable(req.certPath, req.keyPath, req.overwrite);
  const chain = [req.issued.leaf, ...req.issued.chain];
  const created: string[] = [];
  try {
    await atomicWrite(ops, req.keyPath, Buffer.from(req.keyPem), KEY_MODE, created);
    if (!req.overwrite) created.push(req.keyPath);
    await atomicWrite(ops, req.certPath, Buffer.from(chain.map((c) => `${toPem(c)}\n`).join('')), 0o644, created);
  } catch (err) {
    for (const p of created.splice(0)) await ops.unlink(p).catch(() => undefined);
    throw asUnwritable(err, req.certPath);
  }
  return { certPath: req.certPath, keyPath: req.keyPath, chain };
}
