/**
 * Device keys in a PKCS#11 token (TPM through tpm2-pkcs11, smartcard through OpenSC, HSM), used through
 * OpenSSL's PKCS#11 engine (libp11; Debian/Ubuntu: libengine-pkcs11-openssl). docs/adr/0009-pkcs11-engine.md says why
 * the engine and not a provider.
 *
 * Two routes to the token, both by the engine:
 * - in this process, for TLS only: Node's `privateKeyEngine`/`privateKeyIdentifier`, engine and module
 *   named through OPENSSL_ENGINES and PKCS11_MODULE_PATH for the one synchronous call that loads the key
 *   (official Node builds have ENGINESDIR=/dev/null; loading the engine through openssl.cnf at start-up
 *   breaks unrelated signing on Node 24), the PIN in a 0600 file named by `pin-source` (never in the URI:
 *   libp11 prints the URI on stderr when the key is not found).
 * - in an `openssl` child, bounded by --timeout, for everything else: the proof that the token's key
 *   belongs to the certificate (it signs a random challenge, checked with the certificate's public key:
 *   a wrong key otherwise only shows as the server's "certificate required" alert) and the CSR's
 *   signature. The child's stderr (libp11 writes to fd 2 from C) is read and classified, never shown, so
 *   a wrong PIN, a missing object or a locked token are reported before anything is loaded in-process.
 */
import { spawn } from 'node:child_process';
import { createPublicKey, randomBytes, verify, type KeyObject, type X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { C8yError } from '../errors.js';
import { engineUri, type Pkcs11Uri } from './pkcs11-uri.js';

/** Where the PKCS#11 engine and module come from (settings: --pkcs11-engine, --pkcs11-module, the URI's module-path). */
export interface Pkcs11Settings {
  uri: Pkcs11Uri;
  /** The module (shared library); undefined: the engine's default, p11-kit's proxy (every module p11-kit knows). */
  module?: string | undefined;
  /** The engine file; undefined: searched (pkcs11Engine). */
  engine?: string | undefined;
}

/** The engine found: its file, and the folder and id OpenSSL loads it by. */
export interface EngineLocation {
  path: string;
  dir: string;
  id: 'pkcs11';
}

/** The signature hashes the CSR and the proof use. */
export type TokenHash = 'sha256' | 'sha384' | 'sha512';

/** A private key that stays in its token: it signs there, and TLS reaches it through the engine. */
export interface TokenKey {
  readonly kind: 'pkcs11';
  /** The URI without PIN, for messages. */
  readonly source: string;
  readonly uri: Pkcs11Uri;
  /** The module used, as doctor names it. */
  readonly module: string;
  readonly engine: EngineLocation;
  /** The public key of the certificate the token's key was proven to belong to. */
  readonly publicKey: KeyObject;
  readonly asymmetricKeyType: KeyObject['asymmetricKeyType'];
  /** A signature over `data` made in the token (RSA PKCS#1 v1.5 or DER ECDSA), bounded by the timeout. */
  sign(data: Buffer, hash: TokenHash): Promise<Buffer>;
  /** Runs `build` (createSecureContext) with the engine options for this key; errors become C8yErrors. */
  withTlsKey<T>(build: (options: { privateKeyEngine: string; privateKeyIdentifier: string }) => T): T;
}

/** The module doctor and messages name when none is configured. */
export const DEFAULT_MODULE = "p11-kit's proxy (the engine's default)";

const ENGINE_FILES = process.platform === 'darwin' ? ['pkcs11.dylib', 'pkcs11.so'] : ['pkcs11.so'];

/** The engine folders of the usual OpenSSL 3 installations (Debian/Ubuntu multiarch, Fedora, Arch, Homebrew). */
function engineFolders(env: NodeJS.ProcessEnv): string[] {
  const multiarch: Partial<Record<string, string>> = {
    x64: 'x86_64-linux-gnu',
    arm64: 'aarch64-linux-gnu',
    arm: 'arm-linux-gnueabihf',
    ia32: 'i386-linux-gnu',
    ppc64: 'powerpc64le-linux-gnu',
    s390x: 's390x-linux-gnu',
    riscv64: 'riscv64-linux-gnu',
  };
  const arch = multiarch[process.arch];
  return [
    ...(env.OPENSSL_ENGINES ? [env.OPENSSL_ENGINES] : []),
    ...(arch ? [`/usr/lib/${arch}/engines-3`] : []),
    '/usr/lib64/engines-3',
    '/usr/lib/engines-3',
    '/usr/local/lib64/engines-3',
    '/usr/local/lib/engines-3',
    '/opt/homebrew/lib/engines-3',
  ];
}

/** OpenSSL's own engines folder, as the installed `openssl` reports it (ENGINESDIR: "..."). */
async function opensslEnginesDir(timeoutMs: number): Promise<string | undefined> {
  const r = await runOpenssl(['version', '-e'], { env: process.env, timeoutMs }).catch(() => undefined);
  return r ? /ENGINESDIR: "([^"]+)"/.exec(r.stdout.toString())?.[1] : undefined;
}

/**
 * The engine file: the one named (--pkcs11-engine, C8YTOKEN_PKCS11_ENGINE), else pkcs11.so in
 * OPENSSL_ENGINES, the usual folders, or the installed openssl's ENGINESDIR. OpenSSL loads it by id from
 * its folder, so the file (a link resolved) must be called pkcs11.so.
 */
export async function findEngine(named: string | undefined, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<EngineLocation> {
  const located = (file: string): EngineLocation => {
    const real = realpathSync(file);
    if (!ENGINE_FILES.includes(basename(real)))
      throw new C8yError('PKCS11_UNAVAILABLE', { missing: 'engine', path: file, reason: `OpenSSL loads the engine by its id, so the file must be called ${ENGINE_FILES[0]}` });
    return { path: real, dir: dirname(real), id: 'pkcs11' };
  };
  if (named !== undefined) {
    if (!existsSync(named)) throw new C8yError('PKCS11_UNAVAILABLE', { missing: 'engine', path: named });
    return located(named);
  }
  for (const dir of engineFolders(env)) {
    for (const name of ENGINE_FILES) if (existsSync(join(dir, name))) return located(join(dir, name));
  }
  const dir = await opensslEnginesDir(timeoutMs);
  for (const name of ENGINE_FILES) if (dir && existsSync(join(dir, name))) return located(join(dir, name));
  throw new C8yError('PKCS11_UNAVAILABLE', { missing: 'engine' });
}

/** The environment for the engine: its folder, and the module when one is named (libp11 reads PKCS11_MODULE_PATH). */
function engineEnv(engine: EngineLocation, module: string | undefined): Record<string, string> {
  return { OPENSSL_ENGINES: engine.dir, ...(module !== undefined ? { PKCS11_MODULE_PATH: module } : {}) };
}

interface OpensslRun {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

/**
 * Runs `openssl` with `input` on stdin, killed after timeoutMs. Detached: a child in its own session has
 * no terminal, so neither OpenSSL nor a PKCS#11 module can stop to ask for a PIN there.
 */
function runOpenssl(args: string[], options: { env: NodeJS.ProcessEnv; input?: Buffer; timeoutMs: number }): Promise<OpensslRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-16_384)));
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
      else resolve({ stdout: Buffer.concat(out), stderr: err, code });
    });
    child.stdin.end(options.input ?? Buffer.alloc(0));
  });
}

/** The token's failure, from libp11's and OpenSSL's words (stderr of the child, or Node's error text in-process). */
export function tokenFailure(text: string, facts: { source: string; module: string; timeoutMs?: number }): C8yError {
  const f = { path: facts.source, role: 'PKCS#11 key' as const, module: facts.module };
  if (/PIN locked|CKR_PIN_LOCKED|PIN_LOCKED/i.test(text)) return new C8yError('PKCS11_LOCKED', f);
  if (/PIN incorrect|CKR_PIN_INCORRECT|PIN_INCORRECT|PIN len range|PIN_LEN_RANGE/i.test(text)) return new C8yError('WRONG_PASSWORD', { ...f, password: 'key' });
  if (/Unable to load (PKCS#11 )?module|UNABLE_TO_LOAD_PKCS#11_MODULE/i.test(text)) return new C8yError('PKCS11_UNAVAILABLE', { ...f, missing: 'module' });
  if (/object not found|OBJECT_NOT_FOUND|No matching initialized token|not found at/i.test(text)) return new C8yError('PKCS11_NOT_FOUND', f);
  if (/No PIN code was entered|UI_PROCESSING_ERROR/i.test(text)) return new C8yError('PASSWORD_REQUIRED', { ...f, password: 'key' });
  if (/Invalid engine|no such engine|dso not found|could not load the shared library/i.test(text)) return new C8yError('PKCS11_UNAVAILABLE', { ...f, missing: 'engine' });
  // The last line OpenSSL printed, without its "80xxxx:error:code:" prefix: a PIN is never in it (never on argv, never in the URI).
  const last = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.replace(/^[0-9A-F]+:error:[0-9A-F]+:/, ''))
    .at(-1);
  return new C8yError('PKCS11_FAILED', { ...f, ...(last ? { reason: last.slice(0, 200) } : {}) });
}

/** Everything the token needs for a signature: the URI, engine, module, PIN and the time limit. */
interface TokenAccess {
  uri: Pkcs11Uri;
  engine: EngineLocation;
  module: string | undefined;
  pin: string;
  timeoutMs: number;
}

const moduleName = (module: string | undefined): string => module ?? DEFAULT_MODULE;

/**
 * The key as the `openssl` command opens it: through OpenSSL 3's engine store loader
 * (`org.openssl.engine:ID:URI`), not `-engine ID -keyform engine`. The `-engine` option also makes the
 * engine OpenSSL's default for every algorithm, and a module that does its own cryptography with OpenSSL
 * in the same process then fails: tpm2-pkcs11's salted TPM session cannot make its RSA key ("Could not
 * create rsa key", the login fails). The loader only loads the key (docs/adr/0009-pkcs11-engine.md).
 */
function childKeyUri(access: TokenAccess): string {
  return `org.openssl.engine:${access.engine.id}:${engineUri(access.uri, undefined)}`;
}

/** A signature made in the token by `openssl dgst -sign` with the engine; the PIN goes by the environment, never argv. */
export async function signInToken(access: TokenAccess, data: Buffer, hash: TokenHash): Promise<Buffer> {
  const facts = { source: access.uri.shown, module: moduleName(access.module), timeoutMs: access.timeoutMs };
  const env = { ...process.env, ...engineEnv(access.engine, access.module), C8YTOKEN_PKCS11_PIN: access.pin };
  let run: OpensslRun;
  try {
    run = await runOpenssl(['dgst', `-${hash}`, '-sign', childKeyUri(access), '-passin', 'env:C8YTOKEN_PKCS11_PIN'], {
      env,
      input: data,
      timeoutMs: access.timeoutMs,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new C8yError('PKCS11_UNAVAILABLE', { path: facts.source, role: 'PKCS#11 key', module: facts.module, missing: 'openssl' }, { cause: err });
    if (code === 'ETIMEDOUT') throw new C8yError('PKCS11_NO_ANSWER', { path: facts.source, role: 'PKCS#11 key', module: facts.module, timeoutMs: access.timeoutMs }, { cause: err });
    throw err;
  }
  if (run.code !== 0 || run.stdout.length === 0) throw tokenFailure(run.stderr, facts);
  return run.stdout;
}

/** The public key of the token's key pair (`openssl pkey -pubout` through the engine). */
async function readTokenPublicKey(access: TokenAccess): Promise<KeyObject> {
  const env = { ...process.env, ...engineEnv(access.engine, access.module), C8YTOKEN_PKCS11_PIN: access.pin };
  const run = await runOpenssl(['pkey', '-in', childKeyUri(access), '-pubout', '-passin', 'env:C8YTOKEN_PKCS11_PIN'], {
    env,
    timeoutMs: access.timeoutMs,
  });
  return createPublicKey(run.stdout.toString('latin1'));
}

/** The hash a proof signature uses: SHA-256, which every token and key type supports. */
const PROOF_HASH = 'sha256';

/**
 * Opens the key in the token: one signature over a random challenge, checked against each certificate's
 * public key. Returns the key and the certificate it belongs to, or `leaf` undefined when it belongs to
 * none of them (the caller decides: KEY_MISMATCH, or verify-chain's finding).
 */
export async function openTokenKey(
  settings: Pkcs11Settings,
  certs: readonly X509Certificate[],
  pin: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<{ key: TokenKey; leaf: X509Certificate } | { key: undefined; leaf: undefined; publicKey: KeyObject | undefined }> {
  const engine = await findEngine(settings.engine, env, timeoutMs);
  const module = settings.module;
  if (module !== undefined && !existsSync(module)) throw new C8yError('PKCS11_UNAVAILABLE', { path: settings.uri.shown, role: 'PKCS#11 key', module, missing: 'module' });
  const access: TokenAccess = { uri: settings.uri, engine, module, pin, timeoutMs };
  const challenge = randomBytes(32);
  const signature = await signInToken(access, challenge, PROOF_HASH);
  const leaf = certs.find((c) => {
    try {
      return verify(PROOF_HASH, challenge, c.publicKey, signature);
    } catch {
      return false; // a certificate of another key type
    }
  });
  // The token's own public key, for verify-chain's finding (which certificate it belongs to, if any).
  if (!leaf) return { key: undefined, leaf: undefined, publicKey: await readTokenPublicKey(access).catch(() => undefined) };
  const facts = { source: settings.uri.shown, module: moduleName(module) };
  const key: TokenKey = {
    kind: 'pkcs11',
    source: settings.uri.shown,
    uri: settings.uri,
    module: moduleName(module),
    engine,
    publicKey: leaf.publicKey,
    asymmetricKeyType: leaf.publicKey.asymmetricKeyType,
    sign: (data, hash) => signInToken(access, data, hash),
    withTlsKey: (build) => withEngineKey(access, facts, build),
  };
  return { key, leaf };
}

/**
 * Runs `build` with the engine options, the environment the engine reads (OPENSSL_ENGINES,
 * PKCS11_MODULE_PATH) set for this synchronous call only (a command exec runs must not inherit them),
 * and the PIN in a 0600 file in a private folder, removed as soon as the key is loaded.
 */
function withEngineKey<T>(access: TokenAccess, facts: { source: string; module: string }, build: (options: { privateKeyEngine: string; privateKeyIdentifier: string }) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'c8ytoken-pin-'));
  const pinFile = join(dir, 'pin');
  const saved = new Map<string, string | undefined>();
  try {
    // libp11 reads the whole file as the PIN: no newline after it.
    writeFileSync(pinFile, access.pin, { mode: 0o600 });
    for (const [name, value] of Object.entries(engineEnv(access.engine, access.module))) {
      saved.set(name, process.env[name]);
      process.env[name] = value;
    }
    return build({ privateKeyEngine: access.engine.id, privateKeyIdentifier: engineUri(access.uri, pinFile) });
  } catch (err) {
    if (err instanceof C8yError) throw err;
    const text = `${String((err as Error).message)} ${(err as { code?: string }).code ?? ''}`;
    if (/ENGINE|PKCS|PIN|pkcs11|libp11|OBJECT_NOT_FOUND|UI_/i.test(text)) throw tokenFailure(text, facts);
    throw err;
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
