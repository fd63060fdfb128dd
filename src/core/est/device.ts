/**
 * The EST flows applied to the configured device identity, shared by `cert renew`, `cert enroll` and
 * `watch --renew-before`: the EST connection (trust, proxy), the proof with a token, the renewal. The
 * flows themselves load only when a renewal or enrollment runs: fetch and watch without --renew-before
 * never pay for them.
 */
import { C8yError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { Settings } from '../config/settings.js';
import { PasswordBook } from '../credentials/passwords.js';
import { isTokenKey, loadIdentity, publicKeyOf, type ClientIdentity, type DeviceKey } from '../credentials/identity.js';
import { readRegularFile } from '../files/read.js';
import { requestToken, type PreparedTls } from '../token/source.js';
import { decideProxy, proxyRoute } from '../token/proxy.js';
import { buildPath, keyMatchesCertificate } from '../x509/path.js';
import { readCertificates } from '../x509/read.js';
import type { EstConnection, IdentityFiles, RenewResult } from './flows.js';
import type { Trust } from '../credentials/truststore.js';
import type { RenewedCertificate } from '../token/keeper.js';
import type { TokenSourceIo } from '../token/source.js';

/** The tenant URL as given (EST goes to its port 443 unless it names one), or NO_URL. */
export function requireTenant(settings: Settings): URL {
  if (settings.tenant) return settings.tenant;
  throw new C8yError('NO_URL');
}

/**
 * What every EST request of a command needs: the trust, the limits, and the proxy for the EST URL,
 * decided as for the token endpoint (--proxy, the variables, the config file) but for its own host and
 * port, so a NO_PROXY entry for HOST:443 applies to EST alone.
 */
export async function estConnection(settings: Settings, estBase: URL, trust: Trust, io: TokenSourceIo): Promise<EstConnection> {
  return {
    estBase,
    trustCas: trust.cas,
    trustSource: trust.source,
    timeoutMs: settings.timeoutMs,
    signal: io.signal,
    proxy: await proxyRoute(settings, decideProxy(settings, io.env, estBase), io),
    userAgent: io.userAgent,
    progress: (m) => io.progress(m),
    now: () => io.now(),
  };
}

export interface RenewOptions {
  /** A new key of the current key's type instead of the current key. */
  newKey: boolean;
  /** A device token just fetched with the identity (watch has one); otherwise one is fetched. */
  token?: string | undefined;
  /** Accept a certificate that ends before the current one (--allow-shorter). */
  allowShorter?: boolean | undefined;
}

/** What a renewal did, with what the certificate was before. */
export interface CertRenewResult extends RenewResult {
  previousNotAfter: Date;
  /** The identity's source as loaded (a file, or 'FILE (entry "alias")'). */
  source: string;
  kind: IdentityFiles['kind'];
}

/**
 * Renews `identity` (the configured one, already loaded): a token with it, then simplereenroll, the
 * checks, the proof (a token with the new files) and the replacement. watch --renew-before calls this
 * with the identity and TLS context it holds.
 */
export async function renewIdentity(
  settings: Settings,
  tenant: URL,
  identity: ClientIdentity,
  tls: PreparedTls,
  passwords: PasswordBook,
  options: RenewOptions,
  io: TokenSourceIo,
): Promise<CertRenewResult> {
  const [{ renewCertificate, identityPaths }, { estBaseUrl }] = await Promise.all([import('./flows.js'), import('./client.js')]);
  const files = await identityFiles(settings, identity, passwords);
  const estBase = estBaseUrl(tenant, settings.estUrl);
  try {
    const token = options.token ?? (await requestToken(settings, identity, passwords, io, undefined, tls)).token.token;
    const newKeyPassphrase = files.kind === 'pem' && options.newKey ? await pemKeyPassword(files, passwords) : undefined;
    const result = await renewCertificate({
      ...(await estConnection(settings, estBase, tls.trust, io)),
      identity,
      files,
      token,
      tlsContext: tls.context,
      newKey: options.newKey,
      newKeyPassphrase,
      allowShorter: options.allowShorter,
      prove: async (candidate) => {
        if (candidate.kind === 'pem') return proveFiles(settings, candidate.certPath, candidate.key, tls, passwords, io);
        // Opened as the configured keystore is (its type, passwords and alias), from where it was written.
        const renewed = await loadIdentity({ keystore: { ...settings.keystore!, path: candidate.path, alias: files.kind === 'keystore' ? files.alias : undefined } }, passwords, io);
        await proveIdentity(settings, renewed, tls, passwords, io);
      },
    });
    return { ...result, previousNotAfter: new Date(identity.chain[0]!.validTo), source: identity.source, kind: files.kind };
  } catch (err) {
    // Whatever failed, the identity's files are as they were: the words say so.
    if (err instanceof C8yError && !err.facts.unchanged && !err.facts.restore) throw new C8yError(err.code, { ...err.facts, unchanged: identityPaths(files) }, { cause: err.cause ?? err });
    throw err;
  }
}

/** watch --renew-before's renewer (core/token/keeper.ts): renewIdentity with the token watch just fetched. */
export async function renewForKeeper(
  settings: Settings,
  io: TokenSourceIo,
  allowShorter: boolean,
  identity: ClientIdentity,
  tls: PreparedTls,
  passwords: PasswordBook,
  token: string,
): Promise<RenewedCertificate> {
  const tenant = settings.tenant ?? requireTenant(settings);
  const r = await renewIdentity(settings, tenant, identity, tls, passwords, { newKey: false, token, allowShorter }, io);
  return {
    notAfter: r.notAfter,
    previousNotAfter: r.previousNotAfter,
    identity: r.kind,
    files: r.keyReplaced && r.keyPath !== r.certPath ? [r.certPath, r.keyPath] : [r.certPath],
    backups: [r.backups.cert, ...(r.backups.key ? [r.backups.key] : [])],
    chain: r.chainNote,
  };
}

/** Where the identity lives, and for a keystore the passwords and entry to rewrite it with. */
async function identityFiles(settings: Settings, identity: ClientIdentity, passwords: PasswordBook): Promise<IdentityFiles> {
  if (settings.keystore) {
    const path = settings.keystore.path;
    const storePassword = await passwords.get('keystore', path);
    if (storePassword === undefined) throw new C8yError('PASSWORD_REQUIRED', { path, role: 'keystore', password: 'keystore' });
    const alias = identity.alias ?? settings.keystore.alias;
    // The key password given for the keystore, else the store password (as the key was opened).
    const keyPassword = passwords.given('key') ? ((await passwords.get('key', identity.source)) ?? storePassword) : storePassword;
    return { kind: 'keystore', path, storePassword, keyPassword, alias };
  }
  // A key in a token stays there: only the certificate file is renewed.
  if (isTokenKey(identity.key)) return { kind: 'pem', certPath: settings.cert!, keyPath: settings.key, keyInToken: true };
  return { kind: 'pem', certPath: settings.cert!, keyPath: settings.key };
}

/** The password of an encrypted PEM key file (so a new key is written encrypted too); undefined when it is not encrypted. */
async function pemKeyPassword(files: Extract<IdentityFiles, { kind: 'pem' }>, passwords: PasswordBook): Promise<string | undefined> {
  const keyPath = files.keyPath ?? files.certPath;
  const text = (await readRegularFile(keyPath, 'key', LIMITS.certificateBytes)).toString('latin1');
  return /BEGIN ENCRYPTED PRIVATE KEY|Proc-Type:\s*4,ENCRYPTED/.test(text) ? passwords.get('key', keyPath) : undefined;
}

/**
 * The proof before anything is replaced: a token fetched with the new certificate file and the key it was
 * issued for. `tls`: the trust and proxy of the renewal's own token request (only the identity is new);
 * absent (enroll): prepared as for any token request.
 */
export async function proveFiles(settings: Settings, certPath: string, key: DeviceKey, tls: PreparedTls | undefined, passwords: PasswordBook, io: TokenSourceIo): Promise<void> {
  const certs = readCertificates(await readRegularFile(certPath, 'certificate', LIMITS.certificateBytes), certPath, 'certificate');
  const leaf = certs.find((c) => keyMatchesCertificate(publicKeyOf(key), c));
  if (!leaf) throw new C8yError('KEY_MISMATCH', { path: certPath, role: 'key', otherPath: certPath, actual: certs.length });
  const built = buildPath(leaf, certs);
  await proveIdentity(settings, { key, chain: built.path, extra: built.extra, source: certPath }, tls, passwords, io);
}

/** A token with `identity`, over the given trust and proxy (or those prepared for it). */
async function proveIdentity(settings: Settings, identity: ClientIdentity, tls: PreparedTls | undefined, passwords: PasswordBook, io: TokenSourceIo): Promise<void> {
  if (!tls) {
    await requestToken(settings, identity, passwords, io);
    return;
  }
  const { deviceSecureContext } = await import('../platform/tls.js');
  await requestToken(settings, identity, passwords, io, undefined, { ...tls, context: deviceSecureContext(identity, tls.trust) });
}
