/**
 * Typed errors: every failure a user can meet has a stable code, and every code has one exit code.
 * Scripts branch on exit codes (design.md), tests assert on codes, never on wording. Core code throws
 * facts (the code, the file and its role, the URL, the limit); src/output/messages.ts words them, so one
 * situation reads the same wherever it arises and the hint fits the file it is about.
 */

/** Exit codes: a contract with scripts. */
export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  config: 3,
  input: 4,
  network: 5,
  tls: 6,
  platformRefused: 7,
  platformFailed: 8,
  output: 9,
  internal: 70,
  sigint: 130, // 128 + 2 (SIGINT)
  sigterm: 143, // 128 + 15 (SIGTERM)
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

const codeClasses = {
  checkFailed: ['CHECK_FAILED'],
  usage: ['USAGE'],
  config: [
    'CONFIG_UNREADABLE',
    'CONFIG_INVALID',
    'NO_URL',
    'BAD_URL',
    'NO_CREDENTIALS',
    'PASSWORD_REQUIRED',
    'PROXY_INVALID',
    'PROXY_AUTH_REQUIRED',
    // Enrollment (no certificate yet) at a URL whose server demands a client certificate: the EST URL is wrong.
    'EST_CLIENT_CERT_REQUIRED',
    // proxy: the address cannot be listened on (in use, no permission, a file in the way).
    'LISTEN_FAILED',
    // A key in a PKCS#11 token, but no engine, no openssl command or no module to reach it: what to install.
    'PKCS11_UNAVAILABLE',
  ],
  input: [
    'FILE_NOT_FOUND',
    'FILE_UNREADABLE',
    'FILE_TOO_LARGE',
    'NOT_A_CERTIFICATE',
    'NOT_A_KEY',
    'WRONG_PASSWORD',
    'KEY_MISMATCH',
    'KEYSTORE_CORRUPT',
    'KEYSTORE_UNSUPPORTED',
    'KEYSTORE_NO_KEY',
    'KEYSTORE_ALIAS_NOT_FOUND',
    'KEYSTORE_ALIAS_AMBIGUOUS',
    'TRUSTSTORE_EMPTY',
    'TOKEN_MALFORMED',
    'INPUT_LIMIT',
    'WEAK_CREDENTIALS',
    // A key c8ytoken cannot make a certificate request for (EST needs RSA >= 2048 or EC P-256/P-384/P-521).
    'KEY_UNSUPPORTED',
    // A key in a PKCS#11 token: no such token or object, the PIN locked, no answer within --timeout, another failure of the token.
    'PKCS11_NOT_FOUND',
    'PKCS11_LOCKED',
    'PKCS11_NO_ANSWER',
    'PKCS11_FAILED',
  ],
  network: ['STATUS_UNREACHABLE', 'DNS_FAILED', 'CONNECTION_REFUSED', 'CONNECTION_RESET', 'TIMEOUT', 'NETWORK_FAILED', 'PROXY_DNS_FAILED', 'PROXY_UNREACHABLE', 'PROXY_REFUSED'],
  tls: ['SERVER_UNTRUSTED', 'HOSTNAME_MISMATCH', 'CLIENT_CERT_REJECTED', 'TLS_FAILED', 'PROXY_UNTRUSTED', 'PROXY_TLS_FAILED', 'PROXY_TLS_INTERCEPTED'],
  platformRefused: [
    'PLATFORM_BAD_REQUEST',
    'PLATFORM_UNAUTHORIZED',
    'PLATFORM_FORBIDDEN',
    'PLATFORM_FEATURE_DISABLED',
    'PLATFORM_UNPROCESSABLE',
    'PLATFORM_REFUSED',
    // EST (certificate renewal and enrollment): the platform said no; retrying the same request will not help.
    'EST_UNAUTHORIZED', // 401: device token rejected, or (enroll) one-time password wrong / device not registered
    'EST_FORBIDDEN', // 403: e.g. the request's CN is not the device's
    'EST_CSR_REJECTED', // 400: the certificate request was refused
    'EST_REFUSED', // any other 4xx or a redirect
    'EST_NOT_REGISTERED', // enroll: still refused when the wait for the registration ran out
  ],
  platformFailed: [
    'PLATFORM_ERROR',
    'PLATFORM_BUSY',
    'BAD_RESPONSE',
    'NO_TOKEN',
    'RESPONSE_TOO_LARGE',
    'RESPONSE_TRUNCATED',
    'EST_PENDING', // 202 without a certificate: accepted, ask again later (RFC 7030 4.2.3)
    'EST_SERVER_ERROR', // 5xx or 429 from an EST endpoint
    'EST_BAD_RESPONSE', // a 2xx that holds no readable certificate
    'EST_WRONG_CERTIFICATE', // a certificate for another key or CN, or not valid now
    'EST_UNUSABLE_CERTIFICATE', // a CA, not for client authentication, valid for minutes, or ending before the current one
  ],
  output: ['OUTPUT_UNWRITABLE'],
  sigint: ['INTERRUPTED'],
  sigterm: ['TERMINATED'],
  internal: ['INTERNAL'],
} as const;

type CodeClasses = typeof codeClasses;
/** Every stable error code. */
export type ErrorCode = CodeClasses[keyof CodeClasses][number];

const exitCodeByCode = new Map<ErrorCode, ExitCodeValue>();
for (const [cls, codes] of Object.entries(codeClasses) as [keyof CodeClasses, readonly ErrorCode[]][]) {
  for (const code of codes) exitCodeByCode.set(code, ExitCode[cls]);
}

/** Every error code, in the order of their classes (for tests that every code has its words). */
export const ERROR_CODES: readonly ErrorCode[] = [...exitCodeByCode.keys()];

/** The exit code a script sees for an error code. */
export function exitCodeFor(code: ErrorCode): ExitCodeValue {
  return exitCodeByCode.get(code) ?? ExitCode.internal;
}

/** Failure classes that are worth retrying later without changing anything. */
export function isRetryable(code: ErrorCode): boolean {
  const exit = exitCodeFor(code);
  return exit === ExitCode.network || exit === ExitCode.platformFailed;
}

/** What a file is to c8ytoken; messages and hints depend on it (a truststore's password is not the keystore's). */
export type FileRole =
  | 'certificate'
  | 'key'
  | 'keystore'
  | 'truststore'
  | 'device CA'
  | 'proxy CA'
  | 'token'
  | 'config'
  | 'key password'
  | 'keystore password'
  | 'truststore password'
  | 'proxy password'
  | 'one-time password'
  | 'output'
  /** A private key in a token, named by its pkcs11: URI (never with its PIN). */
  | 'PKCS#11 key';

/** Which password: the option and variable that give it come from the option table. */
export type PasswordRole = 'key' | 'keystore' | 'truststore' | 'proxy';

/** A secret the user gives by file or variable: the passwords, and the one-time password of cert enroll. */
export type SecretRole = PasswordRole | 'one-time';

/** Where code reports what the user should know but that does not stop it: one channel, passed down. */
export type WarningSink = (message: string) => void;

/** A problem found in a config file, with its key path. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/*
 * The facts of an error: what happened, to which file, URL or key; never a secret. The output layer turns
 * them into the message and the hint; `--json` shows them as `details`. Every code has its own facts
 * (FactsByCode), composed of the small pieces below: a throw site with a fact missing or a fact of another
 * code does not compile.
 */

type Operation = 'simplereenroll' | 'simpleenroll';
/** How far a connection got (a proxy's own failures say 'proxy': waiting for it to open the tunnel). */
type Stage = 'dns' | 'connect' | 'handshake' | 'after-handshake' | 'response';
type NoFacts = Record<never, never>;
/** A file c8ytoken read or wrote, as the user named it, and what it is. */
type FileFacts = { path: string; role: FileRole };
/** Which entry of a keystore, when the file is one. */
type KeystoreEntry = { format?: 'PKCS#12' | 'JKS' | 'JCEKS'; alias?: string };
/** A private key in a token, named by its pkcs11: URI (never with its PIN), and the module used. */
type TokenKey = { path: string; role: 'PKCS#11 key'; module: string };
/** Where a request went: its URL, host and port, and an EST request's operation. */
export type Endpoint = { url: string; host?: string; port?: string; operation?: Operation };
/** A connection that failed (platform/connection.ts): how far it got, Node's code, the time it had. */
type Connection = Endpoint & { stage: Stage; nodeCode?: string; timeoutMs?: number };
/** What the platform said in an answer: its JSON error, or an excerpt of the page. */
export type PlatformSaid = { error?: string; message?: string; info?: string };
/** An HTTP answer that carries no token or certificate. */
type Answer = { url: string; status: number; platform?: PlatformSaid; excerpt?: string };
/**
 * A refusal's cause that the device certificate sent shows by itself (platform/local-cause.ts): it expired
 * (certificateNotAfter, expiredDays ago), is not valid yet (certificateNotBefore), or the chain's last
 * certificate has an issuer that is not in it (missingIssuer).
 */
export type LocalCause = FileFacts & {
  subject: string;
  localCause: 'expired' | 'not-yet-valid' | 'issuer-missing';
  certificateNotAfter?: string;
  expiredDays?: number;
  certificateNotBefore?: string;
  missingIssuer?: string;
};
/**
 * The platform's answer to a token request (platform/token-response.ts): what a front (nginx) that checks
 * the client certificate itself said of it, a 429's or 503's Retry-After in seconds, the local cause.
 */
export type PlatformAnswer = Answer & Partial<LocalCause> & { refusal?: 'refused' | 'missing'; retryAfterSeconds?: number };
/** Where an EST request went (est/client.ts). */
export type EstWhere = Endpoint & { host: string; port: string; operation: Operation };
/** An EST answer that refused: its status and what the platform said. */
export type EstRefusal = EstWhere & Answer;
/** The certificate an EST answer issued, checked against what was asked for (est/check.ts). */
type IssuedFacts = { url: string; commonName: string; subject?: string; validTo?: string };
/**
 * A proxy on the way: its URL with the password shown as `***`, the setting it came from ('--proxy',
 * 'HTTPS_PROXY', '"proxy" in FILE'), the host:port it was asked to CONNECT to, and the issuer of the
 * server certificate seen through the tunnel. Never the password itself.
 */
export type ProxyVia = { proxy: string; proxySource: string; target: string; serverIssuer?: string };
/** A proxy's own failure (proxy/failures.ts): also whether it is reached over TLS and whether credentials were sent. */
export type ProxyFacts = ProxyVia & { proxyTls: boolean; proxyCredentials: boolean };
/** The proxy's answer to CONNECT. */
type ProxyAnswer = ProxyFacts & { stage: 'proxy'; proxyStatus: number; proxyStatusText?: string };

/**
 * Facts an error of any code may gain on its way up: the proxy it went through, the EST request it
 * interrupted, and what a renewal or an enrollment left behind.
 */
export interface TravelFacts extends Partial<ProxyVia> {
  operation?: Operation;
  /** Renewal: the failure came while proving the renewed certificate (a token fetched with it). */
  during?: 'prove';
  /** Enroll: the files that were not written because the enrollment failed after the request. */
  notWritten?: string[];
  /** Renewal and enrollment: the files left exactly as they were; their words say "Nothing was changed". */
  unchanged?: string[];
  /** What to run by hand when a renewal could not put a file back (never expected). */
  restore?: string;
  /** Enroll: files written with an issued certificate whose proof (a token) failed only for now. */
  unproven?: string[];
}

/** The facts of each code. */
export interface FactsByCode {
  CHECK_FAILED: NoFacts;
  /** `detail`: text already worded by the CLI layer (commander); `source`: where conflicting settings came from. */
  USAGE: { detail?: string; suggestion?: string; option?: string; value?: string; reason?: string; source?: string };
  /** The read error's facts, or where a syntax error is. */
  CONFIG_UNREADABLE: FileFacts & Partial<FactsByCode['FILE_UNREADABLE'] & FactsByCode['FILE_TOO_LARGE']> & { line?: number; column?: number };
  /** The file's problems with their key paths, a profile not there (and the ones there), or one setting's. */
  CONFIG_INVALID: {
    path?: string;
    role?: 'config';
    problems?: ConfigProblem[];
    profile?: string;
    profiles?: string[];
    reason?: string;
    otherPath?: string;
    option?: string;
    value?: string;
    source?: string;
  };
  NO_URL: NoFacts;
  BAD_URL: { source: string; reason: string; value?: string };
  NO_CREDENTIALS: Partial<FileFacts> & { reason?: string };
  PASSWORD_REQUIRED: FileFacts & KeystoreEntry & { password: PasswordRole };
  PROXY_INVALID: { proxy: string; proxySource: string; problem: 'not-url' | 'scheme' | 'no-host' | 'encoding'; reason?: string };
  PROXY_AUTH_REQUIRED: ProxyAnswer & { problem: 'scheme' | 'rejected' | 'missing'; authSchemes?: string[] };
  EST_CLIENT_CERT_REQUIRED: EstWhere & { stage?: Stage; nodeCode?: string };
  /** `value`: the address. */
  LISTEN_FAILED: { value: string; reason: string; nodeCode?: string };
  /** What is missing to reach a key in a token: the engine, the openssl command, or the module. */
  PKCS11_UNAVAILABLE: Partial<TokenKey> & { missing: 'engine' | 'openssl' | 'module'; reason?: string };
  FILE_NOT_FOUND: FileFacts;
  FILE_UNREADABLE: FileFacts & { reason: string; nodeCode?: string; timeoutMs?: number };
  FILE_TOO_LARGE: FileFacts & { limit: number; actual: number; unit: 'bytes' };
  NOT_A_CERTIFICATE: FileFacts & { reason?: string; actual?: number; subject?: string };
  NOT_A_KEY: FileFacts & KeystoreEntry & { reason?: 'holds certificates'; nodeCode?: string };
  WRONG_PASSWORD: FileFacts & KeystoreEntry & { password: PasswordRole; reason?: string; module?: string };
  /** `otherPath`: the certificate the key does not match, `actual`: how many certificates it holds. */
  KEY_MISMATCH: FileFacts & { alias?: string; subject?: string; otherPath?: string; actual?: number; nodeCode?: string };
  KEYSTORE_CORRUPT: FileFacts & KeystoreEntry & { reason: string };
  KEYSTORE_UNSUPPORTED: FileFacts & KeystoreEntry & { reason?: string };
  KEYSTORE_NO_KEY: FileFacts & KeystoreEntry & { reason?: 'no certificate'; actual?: number };
  KEYSTORE_ALIAS_NOT_FOUND: FileFacts & KeystoreEntry & { alias: string; aliases: string[] };
  KEYSTORE_ALIAS_AMBIGUOUS: FileFacts & KeystoreEntry & { aliases: string[] };
  TRUSTSTORE_EMPTY: FileFacts;
  /** Which part is malformed, and where the token came from. */
  TOKEN_MALFORMED: { problem: string; where?: string; reason?: string; value?: string; limit?: number };
  INPUT_LIMIT: FileFacts & KeystoreEntry & { what: string; limit: number; actual?: number; unit?: 'iterations' | 'signature checks' };
  WEAK_CREDENTIALS: FileFacts & { reason: string; nodeCode?: string };
  KEY_UNSUPPORTED: { keyType: string; bits?: number; limit?: number };
  PKCS11_NOT_FOUND: TokenKey;
  PKCS11_LOCKED: TokenKey;
  PKCS11_NO_ANSWER: TokenKey & { timeoutMs: number };
  PKCS11_FAILED: TokenKey & { reason?: string };
  /** `value`: the address asked. */
  STATUS_UNREACHABLE: { value: string; reason: string };
  DNS_FAILED: Endpoint & Partial<Connection>;
  CONNECTION_REFUSED: Connection;
  CONNECTION_RESET: Connection;
  /** The server's answer did not come in time, or (stage 'proxy') the proxy's to CONNECT. */
  TIMEOUT: Connection | (ProxyFacts & { stage: 'proxy'; timeoutMs: number });
  NETWORK_FAILED: Endpoint & Partial<Connection> & { reason?: string };
  PROXY_DNS_FAILED: ProxyFacts & { stage: 'dns'; proxyHost: string; nodeCode?: string };
  PROXY_UNREACHABLE: ProxyFacts & { stage: 'proxy'; problem: 'refused' | 'closed' | 'not-http' | 'failed'; nodeCode?: string; reason?: string };
  PROXY_REFUSED: ProxyAnswer & { problem: 'forbidden' | 'upstream' | 'refused' };
  /** The trust the server certificate was checked against, and whether it is a truststore the user gave. */
  SERVER_UNTRUSTED: Connection & { trust: string; customTrust: boolean };
  HOSTNAME_MISMATCH: Connection & { reason: string };
  CLIENT_CERT_REJECTED: Connection & Partial<LocalCause>;
  TLS_FAILED: Connection & { reason: string };
  PROXY_UNTRUSTED: ProxyFacts & { stage: 'proxy'; proxyTrust: string; nodeCode?: string };
  PROXY_TLS_FAILED: ProxyFacts & { stage: 'proxy'; reason: string; nodeCode?: string };
  PROXY_TLS_INTERCEPTED: ProxyFacts & { stage: 'handshake'; reason: string };
  PLATFORM_BAD_REQUEST: PlatformAnswer;
  PLATFORM_UNAUTHORIZED: PlatformAnswer;
  PLATFORM_FORBIDDEN: PlatformAnswer;
  PLATFORM_FEATURE_DISABLED: PlatformAnswer;
  PLATFORM_UNPROCESSABLE: PlatformAnswer;
  PLATFORM_REFUSED: PlatformAnswer & { reason?: 'redirect'; location?: string };
  EST_UNAUTHORIZED: EstRefusal;
  EST_FORBIDDEN: EstRefusal;
  EST_CSR_REJECTED: EstRefusal;
  EST_REFUSED: EstRefusal & { reason?: 'redirect'; location?: string };
  EST_NOT_REGISTERED: EstRefusal & { deviceId: string; attempts: number; elapsedMs: number };
  PLATFORM_ERROR: PlatformAnswer;
  PLATFORM_BUSY: PlatformAnswer;
  BAD_RESPONSE: PlatformAnswer;
  NO_TOKEN: { url: string; status?: number; reason: string };
  RESPONSE_TOO_LARGE: Endpoint & { status: number; limit: number; unit: 'bytes' };
  RESPONSE_TRUNCATED: Connection & { status?: number };
  /** A 202: when to ask again (retryAt, from a Retry-After longer than the wait allowed by waitOption). */
  EST_PENDING: EstWhere & { status: number; retryAfterSeconds?: number; attempts?: number; elapsedMs?: number; retryAt?: string; waitOption?: string };
  EST_SERVER_ERROR: EstRefusal & { retryAfterSeconds?: number };
  EST_BAD_RESPONSE: EstWhere & { status: number; reason: string; actual: number; contentType?: string; excerpt?: string };
  EST_WRONG_CERTIFICATE: IssuedFacts & { problem: 'other-key' | 'other-cn' | 'not valid now'; subjects?: string[]; validFrom?: string };
  EST_UNUSABLE_CERTIFICATE: IssuedFacts & { problem: 'ca' | 'no-client-auth' | 'short-lived' | 'shorter'; allowed?: string[]; certificateNotAfter?: string };
  /** `otherPath`: the folder or lock file; `pid`: the process holding a renewal's lock; `aliases`: the entries a renewal would drop. */
  OUTPUT_UNWRITABLE: FileFacts & { reason: string; otherPath?: string; nodeCode?: string; pid?: number; aliases?: string[] };
  /** A signal during a keystore's key derivation names the keystore (keystore/failure.ts). */
  INTERRUPTED: Partial<FileFacts> & KeystoreEntry;
  TERMINATED: Partial<FileFacts> & KeystoreEntry;
  /** A bug's message. */
  INTERNAL: { detail: string };
}

/** The codes with facts of their own: every code (FactsByCode). */
export type TypedCode = keyof FactsByCode;
/** The codes without facts of their own: none (a test keeps it so). */
export type UntypedCode = Exclude<ErrorCode, TypedCode>;

/** The facts an error of code C carries: its own, plus TravelFacts; for a union of codes, one of theirs. */
export type FactsOf<C extends ErrorCode> = C extends ErrorCode ? FactsByCode[C] & TravelFacts : never;
/** The facts of an error whose code is not known in the type (a catch, a re-wrap): narrow with isC8yError to read a code's own. */
export type AnyFacts = FactsOf<ErrorCode>;
/** A code with its facts as a value (a problem reported, not thrown): built, it is checked like a throw site. */
export type Problem = { [C in ErrorCode]: { code: C; facts: FactsOf<C> } }[ErrorCode];

export interface ErrorOptions {
  /** The underlying error, shown only with --verbose. */
  cause?: unknown;
}

/** The constructor's facts and options: the facts may be left out only when none is required. */
type FactsArgs<C extends ErrorCode> = Partial<FactsOf<C>> extends FactsOf<C> ? [facts?: FactsOf<C>, options?: ErrorOptions] : [facts: FactsOf<C>, options?: ErrorOptions];

/** The run-time class of every C8yError; the type C8yError<C> and its constructor (below) tie the facts to the code. */
class CodedError extends Error {
  readonly code: ErrorCode;
  readonly facts: object;

  constructor(code: ErrorCode, facts: object = {}, options: ErrorOptions = {}) {
    // The message is for stack traces and tests; people read the words of src/output/messages.ts.
    super(`${code}${factsSummary(facts)}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'C8yError';
    this.code = code;
    this.facts = facts;
  }

  get exitCode(): ExitCodeValue {
    return exitCodeFor(this.code);
  }
}

/** An error the user can meet: a stable code and the facts of that code; src/output/messages.ts words it. */
export interface C8yError<C extends ErrorCode = ErrorCode> extends CodedError {
  readonly code: C;
  readonly facts: FactsOf<C>;
}

/**
 * `new C8yError(code, facts, options)`: the facts must be the code's (FactsOf). `err instanceof C8yError`
 * narrows to C8yError of any code (its `prototype`), whose facts are one of the codes' (AnyFacts), not
 * `any` as a generic class would give.
 */
export const C8yError = CodedError as unknown as {
  new <C extends ErrorCode>(code: C, ...args: FactsArgs<C>): C8yError<C>;
  readonly prototype: C8yError;
};

function factsSummary(facts: object): string {
  const parts = Object.entries(facts)
    .filter(([, v]) => v !== undefined && (typeof v !== 'object' || Array.isArray(v)))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  return parts.length ? `: ${parts.join(', ')}` : '';
}

/** True when err is a C8yError with one of the given codes (or any code when none is given); its facts are then those codes'. */
export function isC8yError<C extends ErrorCode = ErrorCode>(err: unknown, ...codes: C[]): err is C8yError<C> {
  return err instanceof C8yError && (codes.length === 0 || (codes as readonly ErrorCode[]).includes(err.code));
}

/** The same error with facts it gained on its way up (TravelFacts): its code and its own facts are kept. */
export function withTravel<C extends ErrorCode>(err: C8yError<C>, travel: TravelFacts, options: ErrorOptions = { cause: err.cause }): C8yError<C> {
  return new CodedError(err.code, { ...err.facts, ...travel }, options) as C8yError<C>;
}

/** An error's code and facts as a Problem: the pair its throw site checked (TypeScript cannot relate a union code to its facts by itself). */
export function problemOf(err: C8yError): Problem {
  return { code: err.code, facts: err.facts } as Problem;
}

/** The wait a server asked for (Retry-After, in seconds) in an error of any code; undefined when it named none. */
export function retryAfterOf(err: C8yError): number | undefined {
  return 'retryAfterSeconds' in err.facts ? err.facts.retryAfterSeconds : undefined;
}

/** The error of a command stopped by a signal: TERMINATED for SIGTERM, INTERRUPTED otherwise. */
export function abortError(signal: AbortSignal | undefined): C8yError {
  return new C8yError(signal?.reason === 'SIGTERM' ? 'TERMINATED' : 'INTERRUPTED');
}

/** A USAGE error worded by the CLI layer (argument parsing is part of the program's surface). */
export function usageError(detail: string, facts: Omit<FactsByCode['USAGE'], 'detail'> = {}): C8yError {
  return new C8yError('USAGE', { ...facts, detail });
}

/** Wraps a Node file-system error about `path` into the C8yError of its kind. */
export function fileError(err: unknown, path: string, role: FileRole): C8yError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new C8yError('FILE_NOT_FOUND', { path, role }, { cause: err });
  if (code === 'EISDIR') return new C8yError('FILE_UNREADABLE', { path, role, reason: 'a folder, not a file', nodeCode: code }, { cause: err });
  return new C8yError('FILE_UNREADABLE', { path, role, reason: code ?? String(err), ...(code ? { nodeCode: code } : {}) }, { cause: err });
}
