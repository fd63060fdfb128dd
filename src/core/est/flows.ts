/**
 * Renewal and enrollment from start to end, for the commands to call: the order of checks is part of the
 * contract (nothing is requested before the files are known to be writable; nothing is written before
 * the issued certificate is checked and proven). Everything outside (the token, the proof, the clock, the
 * trust, the proxy) is given by the caller, so this module has no settings, prompts or output of its own.
 */
import type { ProxyRoute } from '../platform/proxy/agent.js';
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { isTokenKey, publicKeyOf, type ClientIdentity, type DeviceKey } from '../credentials/identity.js';
import { commonName, dnOneLine } from '../x509/names.js';
import { isoSeconds } from '../time/iso.js';
import { C8yError, type FileRole } from '../errors.js';
import { checkIssuedCertificate, checkNotShorter } from './check.js';
import type { EstAnswer } from './client.js';
import { buildCsr, buildRemoteCsr, DEFAULT_KEY_SPEC, generateDeviceKey, keySpecLabel, keySpecLike, privateKeyPem, signatureAlgorithm, type KeySpec } from './csr.js';
import { commonNameOf, type CommonName, type DeviceId } from './names.js';
import { enrollWhenRegistered, reenrollWhenIssued, retryWhileTemporary, type PollOptions } from './poll.js';
import { withRenewalLock } from '../files/lock.js';
import { checkEnrollable, checkKeystoreRewritable, renewalTargets, replaceKeystore, replacePemIdentity, writeEnrollment, type FileOps, type KeystoreAccess } from './replace.js';

/** What every EST call needs from the caller. */
export interface EstConnection {
  /** estBaseUrl(the configured URL): port 443 unless it names one. */
  estBase: URL;
  trustCas?: readonly X509Certificate[] | undefined;
  trustSource?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** The CONNECT proxy for the EST URL (decided by the caller, as for the token endpoint); see client.ts. */
  proxy?: ProxyRoute | undefined;
  userAgent?: string | undefined;
  /** Steps for a spinner or --verbose; never given a secret. */
  progress?: ((message: string) => void) | undefined;
  now?: (() => number) | undefined;
}

/**
 * Where the current identity lives: PEM files, or a PKCS#12/JKS keystore; either is replaced in place. A
 * key in a PKCS#11 token (`keyInToken`) stays there: only the certificate file is replaced.
 */
export type IdentityFiles = { kind: 'pem'; certPath: string; keyPath?: string | undefined; keyInToken?: boolean | undefined } | ({ kind: 'keystore' } & KeystoreAccess);

/** Everything renewCertificate needs; the caller fetched the token and knows how to prove files. */
export interface RenewInput extends EstConnection {
  identity: ClientIdentity;
  files: IdentityFiles;
  /** A device token fetched with the current identity (the caller's fetch). */
  token: string;
  /** The current identity's TLS context (deviceSecureContext): its certificate is offered to an EST server that asks (RFC 7030 3.3.2). */
  tlsContext?: SecureContext | undefined;
  /** Make a new key of the current key's type instead of reusing the current key. */
  newKey?: boolean | undefined;
  /** When the current PEM key file is encrypted: its password, so a new key is written encrypted too. */
  newKeyPassphrase?: string | undefined;
  /** Accept a certificate that ends before the current one (--allow-shorter); refused by default. */
  allowShorter?: boolean | undefined;
  /**
   * Fetches a token with the new files, throwing the C8yError of a failure: the proof before replacing.
   * PEM: the certificate file and the key it was issued for; keystore: the rewritten keystore, to be opened
   * as the configured one is (its passwords and alias).
   */
  prove(candidate: { kind: 'pem'; certPath: string; keyPath: string; key: DeviceKey } | { kind: 'keystore'; path: string }): Promise<void>;
  ops?: Partial<FileOps> | undefined;
}

/** What a renewal did, for the command to report. */
export interface RenewResult {
  commonName: string;
  certificate: X509Certificate;
  notAfter: Date;
  /** The files now in use: the PEM files, or the keystore (both paths). */
  certPath: string;
  keyPath: string;
  /** Where the previous files are now (for a keystore, `cert` is the keystore's backup). */
  backups: { cert: string; key?: string };
  /** For a keystore: its format and the entry renewed. */
  keystore?: { format: 'pkcs12' | 'jks'; alias: string };
  keyReplaced: boolean;
  newKeySpec?: KeySpec;
  chainNote: string;
  issuerChanged: boolean;
  url: string;
}

/** The files a renewal will write, for the output-policy check before any request. */
export function renewalFiles(files: IdentityFiles, newKey: boolean): { path: string; role: FileRole }[] {
  if (files.kind === 'keystore') return [{ path: files.path, role: 'keystore' }];
  const separateKey = files.keyPath !== undefined && files.keyPath !== files.certPath;
  return separateKey && newKey
    ? [
        { path: files.certPath, role: 'certificate' },
        { path: files.keyPath!, role: 'key' },
      ]
    : [{ path: files.certPath, role: 'certificate' }];
}

/** The files a renewal leaves as they were when it fails: the identity's own. */
export function identityPaths(files: IdentityFiles): string[] {
  if (files.kind === 'keystore') return [files.path];
  return files.keyPath && files.keyPath !== files.certPath ? [files.certPath, files.keyPath] : [files.certPath];
}

/** cert renew: CSR for the current CN (same key, or --new-key), simplereenroll, checks, then the safe replacement. */
export async function renewCertificate(input: RenewInput): Promise<RenewResult> {
  try {
    return await renew(input);
  } catch (err) {
    // Every failure leaves the identity's files as they were: the words say so.
    if (err instanceof C8yError && !err.facts.unchanged && !err.facts.restore) throw new C8yError(err.code, { ...err.facts, unchanged: identityPaths(input.files) }, { cause: err.cause ?? err });
    throw err;
  }
}

async function renew(input: RenewInput): Promise<RenewResult> {
  const leaf = input.identity.chain[0];
  if (!leaf) throw new C8yError('NOT_A_CERTIFICATE', { path: input.identity.source, role: 'certificate' });
  const subjectCn = commonName(leaf.subject);
  if (!subjectCn) throw new C8yError('NOT_A_CERTIFICATE', { path: input.identity.source, role: 'certificate', reason: 'no CN', subject: dnOneLine(leaf.subject) });
  // The CN the new certificate is asked for: the current one, if a request can carry it.
  const cn = commonNameOf(subjectCn, 'The common name');
  const [target] = await renewalTargets(renewalFiles(input.files, input.newKey === true));
  if (input.files.kind === 'keystore') await checkKeystoreRewritable(input.files, input.ops);
  // One renewal at a time (watch's and the timer's), from before the request to the last rename.
  const shown = identityPaths(input.files)[0]!;
  return withRenewalLock(target!, shown, input.files.kind === 'keystore' ? 'keystore' : 'certificate', () => renewLocked(input, leaf, cn));
}

async function renewLocked(input: RenewInput, leaf: X509Certificate, cn: CommonName): Promise<RenewResult> {
  const progress = input.progress ?? (() => undefined);
  const now = input.now ?? Date.now;
  let key = input.identity.key;
  let newKeyPem: string | undefined;
  let newKeySpec: KeySpec | undefined;
  if (input.newKey) {
    // The command refuses this before any request (cert-renew/renew.ts); the key of a token is made there, not here.
    if (isTokenKey(key)) throw new C8yError('USAGE', { option: '--new-key', reason: 'cannot be used with a key in a PKCS#11 token' });
    newKeySpec = keySpecLike(key);
    progress(`making a new ${keySpecLabel(newKeySpec)} key`);
    const made = await generateDeviceKey(newKeySpec);
    key = made.key;
    newKeyPem = privateKeyPem(made.key, input.newKeyPassphrase);
  } else {
    signatureAlgorithm(publicKeyOf(key)); // KEY_UNSUPPORTED (with the --new-key hint) before any request
  }
  if (isTokenKey(key)) progress(`signing the certificate request in the token (${key.source})`);
  const csrDer = isTokenKey(key) ? await buildRemoteCsr(key, cn) : buildCsr(key, cn);
  progress(`POST ${new URL('/.well-known/est/simplereenroll', input.estBase.origin).href} for CN=${cn}`);
  const client = input.tlsContext ? { context: input.tlsContext, identity: input.identity } : undefined;
  const answer = await reenrollWhenIssued(
    { ...connection(input), token: input.token, csrDer, client },
    { now, onRetry: (info) => progress(`pending (HTTP 202); next attempt in ${Math.round(info.nextInMs / 1000)} s, as the server asked`) },
  );
  const issued = checkIssuedCertificate(answer.certificates, { key: publicKeyOf(key), commonName: cn, nowMs: now(), url: answer.url.href });
  progress(`issued: ${dnOneLine(issued.leaf.subject)} by ${dnOneLine(issued.leaf.issuer)}, valid until ${isoSeconds(issued.leaf.validTo)}`);
  checkNotShorter(issued.leaf, leaf, { allowShorter: input.allowShorter === true, url: answer.url.href, commonName: cn });
  const base = { commonName: cn, certificate: issued.leaf, notAfter: new Date(issued.leaf.validTo), keyReplaced: input.newKey === true, url: answer.url.href, ...(newKeySpec ? { newKeySpec } : {}) };
  if (input.files.kind === 'pem') {
    const prove = async (certPath: string, keyPath: string): Promise<void> => {
      progress(`proving the new certificate: a token with ${certPath}`);
      await input.prove({ kind: 'pem', certPath, keyPath, key });
    };
    const result = await replacePemIdentity({
      certPath: input.files.certPath,
      keyPath: input.files.keyPath,
      keyInToken: input.files.keyInToken,
      oldLeaf: leaf,
      issued,
      newKeyPem,
      prove,
      ops: input.ops,
    });
    return { ...base, certPath: result.certPath, keyPath: result.keyPath, backups: result.backups, chainNote: result.chainNote, issuerChanged: result.issuerChanged };
  }
  const prove = async (path: string): Promise<void> => {
    progress(`proving the rewritten keystore: a token with ${path}`);
    await input.prove({ kind: 'keystore', path });
  };
  if (isTokenKey(key)) throw new C8yError('INTERNAL', { detail: 'a key in a token with a keystore identity' });
  const result = await replaceKeystore({ ...input.files, key, oldChain: input.identity.chain, issued, prove, ops: input.ops });
  return {
    ...base,
    certPath: result.path,
    keyPath: result.path,
    backups: { cert: result.backup },
    keystore: { format: result.format, alias: result.alias },
    chainNote: result.chainNote,
    issuerChanged: result.issuerChanged,
  };
}

/** Everything enrollDevice needs. */
export interface EnrollInput extends EstConnection {
  deviceId: DeviceId;
  /** Read from --one-time-password-file (one trailing newline dropped); never shown. */
  oneTimePassword: string;
  certPath: string;
  keyPath: string;
  keySpec?: KeySpec | undefined;
  /** Encrypt the new key with this password; unencrypted (0600) when absent. */
  keyPassphrase?: string | undefined;
  overwrite?: boolean | undefined;
  /** Fetches a token with the new certificate and key files, throwing the C8yError of a failure: nothing is enrolled until it passes. */
  prove(certPath: string, keyPath: string, key: KeyObject): Promise<void>;
  poll: PollOptions;
  ops?: Partial<FileOps> | undefined;
}

/** What an enrollment wrote, for the command to report. */
export interface EnrollResult {
  certificate: X509Certificate;
  notAfter: Date;
  certPath: string;
  keyPath: string;
  keySpec: KeySpec;
  /** Certificates written after the device certificate (the issuers the platform sent). */
  chainLength: number;
  url: string;
}

/** cert enroll: a new key, a CSR with CN = device id, simpleenroll polled until registered, then the files. */
export async function enrollDevice(input: EnrollInput): Promise<EnrollResult> {
  const { certTarget } = await checkEnrollable(input.certPath, input.keyPath, input.overwrite);
  return withRenewalLock(certTarget, input.certPath, 'certificate', () => enrollLocked(input));
}

async function enrollLocked(input: EnrollInput): Promise<EnrollResult> {
  const progress = input.progress ?? (() => undefined);
  const now = input.now ?? Date.now;
  const keySpec = input.keySpec ?? DEFAULT_KEY_SPEC;
  progress(`making a new ${keySpecLabel(keySpec)} key`);
  const { key } = await generateDeviceKey(keySpec);
  const csrDer = buildCsr(key, input.deviceId);
  progress(`POST ${new URL('/.well-known/est/simpleenroll', input.estBase.origin).href} as ${input.deviceId}`);
  const answer: EstAnswer = await enrollWhenRegistered(
    { ...connection(input), deviceId: input.deviceId, oneTimePassword: input.oneTimePassword, csrDer },
    {
      ...input.poll,
      onRetry: (info) => {
        progress(`not accepted yet (${info.error.code}); next attempt in ${Math.round(info.nextInMs / 1000)} s`);
        input.poll.onRetry?.(info);
      },
    },
  );
  try {
    return await enrolled(input, key, keySpec, answer, now());
  } catch (err) {
    // Asked and answered, but not enrolled: say that neither file exists (the one-time password may be spent).
    // Files installed although their proof failed for now say so themselves (unproven).
    if (err instanceof C8yError && !err.facts.unproven) throw new C8yError(err.code, { ...err.facts, notWritten: [input.certPath, input.keyPath] }, { cause: err.cause ?? err });
    throw err;
  }
}

/** After the answer: the checks, the proof and the files. */
async function enrolled(input: EnrollInput, key: KeyObject, keySpec: KeySpec, answer: EstAnswer, nowMs: number): Promise<EnrollResult> {
  const progress = input.progress ?? (() => undefined);
  const issued = checkIssuedCertificate(answer.certificates, { key, commonName: input.deviceId, nowMs, url: answer.url.href });
  progress(`issued: ${dnOneLine(issued.leaf.subject)} by ${dnOneLine(issued.leaf.issuer)}, valid until ${isoSeconds(issued.leaf.validTo)}`);
  const prove = async (certPath: string, keyPath: string): Promise<void> => {
    progress(`proving the new certificate: a token with ${certPath}`);
    await retryWhileTemporary(
      () => input.prove(certPath, keyPath, key),
      { ...input.poll, onRetry: (info) => progress(`the proof failed for now (${info.error.code}); next attempt in ${Math.round(info.nextInMs / 1000)} s`) },
      input.signal,
    );
  };
  const written = await writeEnrollment({
    certPath: input.certPath,
    keyPath: input.keyPath,
    issued,
    keyPem: privateKeyPem(key, input.keyPassphrase),
    overwrite: input.overwrite,
    prove,
    ops: input.ops,
  });
  return { certificate: issued.leaf, notAfter: new Date(issued.leaf.validTo), certPath: written.certPath, keyPath: written.keyPath, keySpec, chainLength: issued.chain.length, url: answer.url.href };
}

function connection(c: EstConnection): Pick<EstConnection, 'timeoutMs'> & {
  tenantUrl: URL;
  trustCas?: readonly X509Certificate[] | undefined;
  trustSource?: string | undefined;
  signal?: AbortSignal | undefined;
  proxy?: ProxyRoute | undefined;
  userAgent?: string | undefined;
} {
  return { tenantUrl: c.estBase, trustCas: c.trustCas, trustSource: c.trustSource, timeoutMs: c.timeoutMs, signal: c.signal, proxy: c.proxy, userAgent: c.userAgent };
}
