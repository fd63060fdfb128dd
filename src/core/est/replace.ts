/**
 * The safe file transaction of a renewal or enrollment (replaceFiles, used by all three writers): the new
 * certificate (and key), or the rewritten keystore, are written beside the old files as `.new` files,
 * proven by the caller (a token fetched with them), the previous contents written as `.bak.new` beside the
 * old backups, and only then moved over the old files by rename; the `.bak.new` files replace the `.bak`
 * files last. Until the renames nothing the device uses has changed; on any failure the old files and
 * their old backups are left byte for byte and every `.new` and temporary file is removed. A separate key
 * file is backed up with its certificate even when it stays, so `CERT.bak` and `KEY.bak` are always a
 * pair. Each replacement and backup keeps the mode, owner and group of the file it replaces
 * (files/keep.ts); a key file that did not exist is created 0600. The caller holds the renewal lock
 * (files/lock.ts), so a `.new` file found at the start is a killed run's leftover.
 *
 * Where the files may be written is the output policy of files/target.ts (links followed only when the
 * user or root owns them, never a FIFO or a folder); single files are replaced by files/atomic.ts.
 * File operations go through `FileOps` so tests can fail each step in turn.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';
import { C8yError, isC8yError, isRetryable, type FileRole } from '../errors.js';
import { LIMITS } from '../limits.js';
import { isPrivateKeyLabel, pemBlocks } from '../encoding/pem.js';
import { readRegularFile } from '../files/read.js';
import { writeFileAtomic } from '../files/atomic.js';
import { applyAttributes, attributesOf, checkReplaceable, type FileAttributes } from '../files/keep.js';
import { outputTarget } from '../files/target.js';
import { refuseOverlaps } from '../files/overlap.js';
import { detectKeystoreKind, readKeystore, selectKeyEntry } from '../keystore/open.js';
import type { Keystore } from '../keystore/types.js';
import { dnOneLine } from '../x509/names.js';
import { keyMatchesCertificate } from '../x509/path.js';
import { readCertificates } from '../x509/read.js';
import { buildPath, isIssuedBy } from '../x509/path.js';
import type { IssuedCertificate } from './check.js';

const toPem = (cert: X509Certificate): string => cert.toString().trim();

/** The file-system steps of the transaction; each one may be replaced (tests inject failures). */
export interface FileOps {
  readFile(path: string, role: FileRole): Promise<Buffer>;
  /** Creates `path` exclusively with the attributes (mode, owner, group), writes `data`, flushes it to disk, closes it. */
  writeNew(path: string, data: string | Buffer, attributes: FileAttributes): Promise<void>;
  /** Replaces `path` atomically (files/atomic.ts: a temporary file beside it, renamed over it) with the attributes. */
  writeAtomic(path: string, data: string | Buffer, attributes: FileAttributes, role: FileRole): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Mode, owner and group of an existing file; undefined when there is none. */
  attributes(path: string): Promise<FileAttributes | undefined>;
}

/** The real file system. */
export const realFileOps: FileOps = {
  readFile: (path, role) => readRegularFile(path, role, LIMITS.certificateBytes),
  async writeNew(path, data, attributes) {
    // Created 0600 whatever is asked: the bits are widened only after the owner is right.
    const handle = await fsp.open(path, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await applyAttributes(handle, attributes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  writeAtomic: (path, data, attributes, role) => writeFileAtomic(path, data, { mode: attributes.mode, role, owner: { uid: attributes.uid, gid: attributes.gid } }),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  attributes: attributesOf,
};

/** A key file that did not exist before; a replaced one keeps its mode (an administrator's 0640 stays). */
const NEW_KEY: FileAttributes = { mode: 0o600 };
const NEW_CERT: FileAttributes = { mode: 0o644 };

/**
 * The files a renewal will replace, each as the output policy allows it (a link the user owns resolved
 * to its target, which is replaced while the link stays) and replaceable with its mode, owner and group:
 * call it before the EST request, so an unwritable file or folder fails before anything is asked of the
 * platform.
 */
export async function renewalTargets(paths: readonly { path: string; role: FileRole }[]): Promise<string[]> {
  const out: string[] = [];
  for (const { path, role } of paths) {
    try {
      const target = outputTarget(path, role);
      await checkReplaceable(target, path, role);
      out.push(target);
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
  /** The key is in a PKCS#11 token (keyPath is its URI): only the certificate file is replaced. */
  keyInToken?: boolean | undefined;
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
  const inToken = req.keyInToken === true;
  const combined = !inToken && (req.keyPath === undefined || req.keyPath === req.certPath);
  const keyPath = combined ? req.certPath : req.keyPath!;
  const unchanged = combined || inToken ? [req.certPath] : [req.certPath, keyPath];
  // The files the policy allows (a link resolved to its target): .new and .bak go beside those. A key
  // that stays is only backed up, so the checks of a file to replace do not apply to it.
  const [certTarget] = await renewalTargets([{ path: req.certPath, role: 'certificate' }]);
  const keyTarget = combined || inToken ? certTarget : req.newKeyPem !== undefined ? (await renewalTargets([{ path: keyPath, role: 'key' }]))[0] : outputTarget(keyPath, 'key');

  const oldCertBytes = await ops.readFile(certTarget!, 'certificate');
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
  const certAttributes = (await ops.attributes(certTarget!)) ?? (combined ? NEW_KEY : NEW_CERT);
  const certChange: FileChange = { path: req.certPath, target: certTarget!, role: 'certificate', data: certContent, attributes: certAttributes, old: oldCertBytes };
  // The key is backed up with the certificate even when it stays, so FILE.bak and KEY.bak are always a pair.
  const keyChange: FileChange | undefined =
    combined || inToken
      ? undefined
      : {
          path: keyPath,
          target: keyTarget!,
          role: 'key',
          data: req.newKeyPem,
          attributes: (await ops.attributes(keyTarget!)) ?? NEW_KEY,
          old: await ops.readFile(keyTarget!, 'key'),
        };
  // The commit renames the key first: a failure before the certificate's rename puts the old key back.
  const changes = keyChange ? [keyChange, certChange] : [certChange];
  const backups = await replaceFiles({
    changes,
    ops,
    unchanged,
    prove: (at) => req.prove(at[changes.length - 1]!, at[0]!),
  });
  return {
    certPath: req.certPath,
    keyPath,
    backups: { cert: backups[changes.length - 1]!, ...(keyChange ? { key: backups[0]! } : {}) },
    chain: composed.chain,
    chainNote: composed.note,
    issuerChanged: composed.issuerChanged,
    keyReplaced: req.newKeyPem !== undefined,
  };
}

/** One file of a transaction (replaceFiles). */
export interface FileChange {
  /** The path as the user gave it (for messages). */
  path: string;
  /** Where it is written: the path, or the target of a link the output policy follows; `.new`, `.bak` and `.lock` go beside it. */
  target: string;
  role: FileRole;
  /** The new content; undefined when the file stays and is only backed up with the others (a renewed certificate's key). */
  data?: string | Buffer | undefined;
  /** Mode, owner and group of the new file and of the backup. */
  attributes: FileAttributes;
  /** The current content, kept as `.bak`; undefined for a file that does not exist yet. */
  old?: Buffer | undefined;
}

/** A transaction over a set of files: write, prove, back up, commit. */
export interface Transaction {
  /** In commit order. */
  changes: FileChange[];
  /** Proves the files; `at` holds, for each change, the path to read it from (its `.new` file, or itself when it stays). */
  prove(at: string[]): Promise<void>;
  ops: FileOps;
  /** The files a failure leaves as they were (its message says so). */
  unchanged: string[];
  /**
   * A failed proof after which the new files are installed all the same (and the proof's error thrown,
   * marked `unproven`): enroll's temporary failures, since the certificate was issued and its one-time
   * password is spent. Undefined: every failed proof discards the new files.
   */
  installUnproven?: ((err: C8yError) => boolean) | undefined;
}

/**
 * The safe replacement of a set of files: each new content written as `TARGET.new` (stale ones from a
 * killed run removed first: the caller holds the renewal lock), proven, the previous contents written as
 * `TARGET.bak.new` beside the old backups, the `.new` files renamed over their targets in order, and only
 * then the `.bak.new` files over the `.bak` files. A failure before the last rename of a target puts back
 * what was already replaced, removes every `.new` and `.bak.new`, and leaves the old `.bak` files too, so
 * the files are exactly as they were. Returns, for each change, where its previous content now is.
 */
export async function replaceFiles(t: Transaction): Promise<(string | undefined)[]> {
  const { ops, unchanged } = t;
  const created: string[] = [];
  const cleanup = async (): Promise<void> => {
    for (const p of created.splice(0)) await ops.unlink(p).catch(() => undefined);
  };
  const fresh = (c: FileChange): string => (c.data === undefined ? c.target : `${c.target}.new`);
  const bakNew = (c: FileChange): string => `${c.target}.bak.new`;
  try {
    for (const c of t.changes) {
      if (c.data === undefined) continue;
      // A .new left by a process that was killed is ours to replace (no other renewal runs: the lock).
      await ops.unlink(fresh(c)).catch(() => undefined);
      await writeOrFail(ops, fresh(c), c.data, c.attributes, created, c.role, unchanged);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  let unproven: C8yError | undefined;
  try {
    await t.prove(t.changes.map(fresh));
  } catch (err) {
    if (!(isC8yError(err) && t.installUnproven?.(err))) {
      await cleanup();
      throw notProven(err, unchanged);
    }
    unproven = err;
  }

  try {
    for (const c of t.changes) {
      if (c.old === undefined) continue;
      await ops.unlink(bakNew(c)).catch(() => undefined);
      await writeOrFail(ops, bakNew(c), c.old, c.attributes, created, c.role, unchanged);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  const done: FileChange[] = [];
  for (const c of t.changes) {
    if (c.data === undefined) continue;
    try {
      await ops.rename(fresh(c), c.target);
      created.splice(created.indexOf(fresh(c)), 1);
      done.push(c);
    } catch (err) {
      await putBack(ops, done, created);
      await cleanup();
      throw asUnwritable(err, c.path, unchanged, c.role);
    }
  }

  const backups = t.changes.map((c) => (c.old === undefined ? undefined : bakNew(c)));
  for (const [i, c] of t.changes.entries()) {
    if (c.old === undefined) continue;
    // The new files are in place; should this rename fail, the previous content stays in .bak.new (reported so).
    const ok = await ops.rename(bakNew(c), `${c.target}.bak`).then(
      () => true,
      () => false,
    );
    created.splice(created.indexOf(bakNew(c)), 1);
    if (ok) backups[i] = `${c.target}.bak`;
  }
  if (unproven) throw new C8yError(unproven.code, { ...unproven.facts, during: 'prove', unproven: t.changes.filter((c) => c.data !== undefined).map((c) => c.path) }, { cause: unproven });
  return backups;
}

/**
 * After a failed commit: each file already replaced gets its previous content again (a file that did not
 * exist is removed). When that fails too, the `.bak.new` files stay (taken out of `created`) and the error
 * says what to move where, with the real paths.
 */
async function putBack(ops: FileOps, done: FileChange[], created: string[]): Promise<void> {
  for (const d of done.reverse()) {
    try {
      if (d.old === undefined) await ops.unlink(d.target);
      else await ops.writeAtomic(d.target, d.old, d.attributes, d.role);
    } catch (restoreErr) {
      const saved = `${d.target}.bak.new`;
      created.splice(created.indexOf(saved), 1);
      throw new C8yError(
        'OUTPUT_UNWRITABLE',
        { path: d.path, role: d.role, otherPath: d.target, reason: 'restore failed', restore: d.old === undefined ? `rm ${d.target}` : `mv ${saved} ${d.target}` },
        { cause: restoreErr },
      );
    }
  }
}

/** What a keystore renewal needs to rewrite the store: its passwords and the entry. */
export interface KeystoreAccess {
  /** The keystore as configured (a link the user owns is followed; the link stays). */
  path: string;
  storePassword: string;
  /** The password the renewed key is protected with: the key password given, else the store password. */
  keyPassword: string;
  /** The entry renewed (the only key entry when undefined). */
  alias?: string | undefined;
}

/** A keystore c8ytoken can rewrite in place, read and checked before the request. */
export interface RewritableKeystore {
  target: string;
  attributes: FileAttributes;
  bytes: Buffer;
  store: Keystore;
}

/**
 * Before the request: the keystore can be replaced (output policy, mode, owner, group: renewalTargets)
 * and rewritten without losing anything. A JKS keeps every other entry as it is; a PKCS#12 is written
 * anew by c8ytoken, which keeps trusted certificates but cannot re-encrypt other key entries without
 * their passwords, so a PKCS#12 with more than one key entry is refused rather than thinned out.
 */
export async function checkKeystoreRewritable(ks: KeystoreAccess, ops: Partial<FileOps> = {}): Promise<RewritableKeystore> {
  const all: FileOps = { ...realFileOps, ...ops };
  const [target] = (await renewalTargets([{ path: ks.path, role: 'keystore' }])) as [string];
  const bytes = await readRegularFile(target, 'keystore', LIMITS.keystoreBytes);
  const store = await readKeystore(bytes, ks.path, { password: ks.storePassword, role: 'keystore', warn: () => undefined });
  const entry = selectKeyEntry(store, ks.alias);
  if (store.format === 'pkcs12') {
    const others = store.keyEntries.filter((e) => e !== entry).map((e) => e.alias);
    if (others.length) throw new C8yError('OUTPUT_UNWRITABLE', { path: ks.path, role: 'keystore', reason: 'keystore with other keys', aliases: others, unchanged: [ks.path] });
  }
  return { target, attributes: (await all.attributes(target)) ?? NEW_KEY, bytes, store };
}

/** The inputs of replaceKeystore. */
export interface KeystoreReplacement extends KeystoreAccess {
  /** The key of the new certificate (the entry's key, or a new one). */
  key: KeyObject;
  /** The current chain of the entry, leaf first (for its intermediates). */
  oldChain: readonly X509Certificate[];
  issued: IssuedCertificate;
  /** Proves the rewritten keystore works (a token fetched with it, opened as the user's keystore is); throws when it does not. */
  prove(keystorePath: string): Promise<void>;
  ops?: Partial<FileOps> | undefined;
}

/** What replaceKeystore did. */
export interface KeystoreReplacementResult {
  path: string;
  format: Keystore['format'];
  alias: string;
  backup: string;
  chain: X509Certificate[];
  chainNote: string;
  issuerChanged: boolean;
}

/**
 * Replaces a PKCS#12 or JKS keystore in place with the renewed entry: same format, store password,
 * key password and alias; written as `.new` with the old file's mode, owner and group, read back with
 * c8ytoken's own reader, proven by the caller, kept as `.bak`, then renamed over the keystore.
 */
export async function replaceKeystore(req: KeystoreReplacement): Promise<KeystoreReplacementResult> {
  const ops: FileOps = { ...realFileOps, ...req.ops };
  const unchanged = [req.path];
  const { target, attributes, bytes, store } = await checkKeystoreRewritable(req, req.ops);
  const entry = selectKeyEntry(store, req.alias);
  const oldLeaf = req.oldChain[0];
  if (!oldLeaf) throw new C8yError('INTERNAL', { detail: 'replaceKeystore needs the current chain' });
  const composed = composeChain(oldLeaf, req.oldChain.slice(1), req.issued);
  let data: Buffer;
  if (store.format === 'jks') {
    const { rewriteJks } = await import('./jks-writer.js');
    data = rewriteJks(bytes, req.storePassword, { alias: entry.alias, key: req.key, keyPassword: req.keyPassword, chain: composed.chain });
  } else {
    // Loaded only here: it brings the PKCS#12 key derivation along.
    const { writePkcs12 } = await import('./pkcs12-writer.js');
    const inChain = new Set(composed.chain.map((c) => c.fingerprint256));
    // Each kept as it was: a certificate becomes a Java trusted entry only if it was one.
    const trusted = store.trusted.filter((t) => !inChain.has(t.cert.fingerprint256)).map((t) => ({ alias: t.named ? t.alias : undefined, cert: t.cert, javaTrusted: t.javaTrusted === true }));
    const { declaredIterations } = await import('../keystore/pkcs12.js');
    // Never weaker than the file replaced: its highest count, within what the reader admits, at least OpenSSL 3's 2048.
    const iterations = Math.min(LIMITS.kdfIterations, Math.max(2048, declaredIterations(bytes, { path: req.path, role: 'keystore' }) ?? 0));
    data = await writePkcs12({ key: req.key, chain: composed.chain, password: req.storePassword, keyPassword: req.keyPassword, alias: entry.alias, trusted, iterations });
  }
  await checkRewritten(data, req, entry.alias, store.format);

  const [backup] = await replaceFiles({
    changes: [{ path: req.path, target, role: 'keystore', data, attributes, old: bytes }],
    ops,
    unchanged,
    prove: (at) => req.prove(at[0]!),
  });
  return { path: req.path, format: store.format, alias: entry.alias, backup: backup!, chain: composed.chain, chainNote: composed.note, issuerChanged: composed.issuerChanged };
}

/** The rewritten bytes open as the user's keystore will: same format, passwords and alias, the new certificate with its key. */
async function checkRewritten(data: Buffer, req: KeystoreReplacement, alias: string, format: Keystore['format']): Promise<void> {
  const fail = (detail: string): C8yError => new C8yError('INTERNAL', { detail: `the rewritten keystore ${detail}`, unchanged: [req.path] });
  if (detectKeystoreKind(data) !== format) throw fail(`is not ${format}`);
  const store = await readKeystore(data, req.path, { password: req.storePassword, role: 'keystore', warn: () => undefined });
  const entry = selectKeyEntry(store, alias);
  const key = await entry.decryptKey(req.keyPassword);
  const leaf = entry.chain[0];
  if (entry.alias !== alias || !leaf || leaf.fingerprint256 !== req.issued.leaf.fingerprint256 || !keyMatchesCertificate(key, leaf)) throw fail('does not hold the renewed entry');
}

async function writeOrFail(ops: FileOps, path: string, data: string | Buffer, attributes: FileAttributes, created: string[], role: FileRole, unchanged: string[]): Promise<void> {
  try {
    await ops.writeNew(path, data, attributes);
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
  /** Proves the new files work (a token fetched with them) before they are moved into place; throws when they do not. */
  prove(certPath: string, keyPath: string): Promise<void>;
  ops?: Partial<FileOps> | undefined;
}

/** Checks enroll's output files can be written (the output policy; files absent unless overwrite): before the request. */
export async function checkEnrollable(certPath: string, keyPath: string, overwrite = false): Promise<{ certTarget: string; keyTarget: string }> {
  // One file for both would end with the certificate written over the only copy of the new key.
  refuseOverlaps(
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

/**
 * Writes an enrolled device's key (0600) and certificate as `.new` files, has them proven (a token with
 * them), then renames them into place, key first. On a failure, neither path holds anything new (a
 * certificate file never claims an enrollment that did not work), except after a proof that failed only
 * for now (network, 5xx): then the checked, issued files are installed and the error says so (`unproven`).
 */
export async function writeEnrollment(req: EnrollmentFiles): Promise<{ certPath: string; keyPath: string; chain: X509Certificate[] }> {
  const ops: FileOps = { ...realFileOps, ...req.ops };
  const { certTarget, keyTarget } = await checkEnrollable(req.certPath, req.keyPath, req.overwrite);
  const chain = [req.issued.leaf, ...req.issued.chain];
  const existing = async (target: string, role: FileRole): Promise<Pick<FileChange, 'attributes' | 'old'> | undefined> => {
    const attributes = req.overwrite ? await ops.attributes(target) : undefined;
    return attributes && { attributes, old: await ops.readFile(target, role) };
  };
  const changes: FileChange[] = [
    { path: req.keyPath, target: keyTarget, role: 'key', data: req.keyPem, attributes: NEW_KEY, ...(await existing(keyTarget, 'key')) },
    { path: req.certPath, target: certTarget, role: 'certificate', data: chain.map((c) => `${toPem(c)}\n`).join(''), attributes: NEW_CERT, ...(await existing(certTarget, 'certificate')) },
  ];
  await replaceFiles({
    changes,
    ops,
    unchanged: [],
    prove: (at) => req.prove(at[1]!, at[0]!),
    // Issued for our key, checked, and the one-time password is spent: a proof that failed only for now
    // (network, 5xx) does not make the certificate worse, and discarding it would leave the device
    // without any. Installed, the next token request proves it; a refusal (4xx, TLS) discards it.
    installUnproven: (err) => isRetryable(err.code),
  });
  return { certPath: req.certPath, keyPath: req.keyPath, chain };
}
