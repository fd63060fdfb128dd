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

/**
 * The facts of an error: what happened, to which file, URL or key; never a secret. The output layer turns
 * them into the message and the hint; `--json` shows them as `details`. This is the general bag: every
 * fact any code may carry. The codes of FactsByCode (below) take their own facts at the throw site.
 */
export interface ErrorFacts {
  /** The file involved, as the user named it, and what it is. */
  path?: string;
  role?: FileRole;
  /** Keystore format, entry, and the entries there are. */
  format?: 'PKCS#12' | 'JKS' | 'JCEKS';
  alias?: string;
  aliases?: string[];
  /** Which password (WRONG_PASSWORD, PASSWORD_REQUIRED). */
  password?: PasswordRole;
  /** A key in a PKCS#11 token: the module used, and what is missing to reach it. */
  module?: string;
  missing?: 'engine' | 'openssl' | 'module';
  /** A short technical reason from a parser or from Node, e.g. "ASN.1 data ends early". */
  reason?: string;
  /** A second file involved (the certificate a key does not match, a folder). */
  otherPath?: string;
  /** A certificate's subject, one line. */
  subject?: string;
  /** Network and TLS. */
  url?: string;
  host?: string;
  port?: string;
  nodeCode?: string;
  /** How far the connection got: 'dns', 'connect', 'proxy' (waiting for the proxy to open the tunnel), 'handshake', 'after-handshake', 'response'. */
  stage?: 'dns' | 'connect' | 'proxy' | 'handshake' | 'after-handshake' | 'response';
  timeoutMs?: number;
  /** The device certificate's end of validity, and how long ago it passed, when it has expired. */
  certificateNotAfter?: string;
  expiredDays?: number;
  /**
   * A refusal's cause seen in the identity sent: the certificate expired, is not valid yet (its start,
   * certificateNotBefore), or the chain's last certificate has an issuer that is not in it (missingIssuer).
   */
  localCause?: 'expired' | 'not-yet-valid' | 'issuer-missing';
  certificateNotBefore?: string;
  missingIssuer?: string;
  /** A front (nginx) that checks the client certificate itself: it refused it, or received none. */
  refusal?: 'refused' | 'missing';
  /** The trust used for the server certificate, and whether it is a truststore the user gave. */
  trust?: string;
  customTrust?: boolean;
  /**
   * A proxy on the way: its URL with the password shown as `***`, the setting it came from ('--proxy',
   * 'HTTPS_PROXY', '"proxy" in FILE'), its host, the host:port it was asked to CONNECT to, whether it is
   * reached over TLS, whether credentials were sent, its answer to CONNECT, the authentication schemes it
   * offered, the trust its own certificate was checked against, and the issuer of the server certificate
   * seen through the tunnel. Never the password itself.
   */
  proxy?: string;
  proxySource?: string;
  proxyHost?: string;
  target?: string;
  proxyTls?: boolean;
  proxyCredentials?: boolean;
  proxyStatus?: number;
  proxyStatusText?: string;
  authSchemes?: string[];
  proxyTrust?: string;
  serverIssuer?: string;
  /** HTTP answers. */
  status?: number;
  /** A 429's or 503's Retry-After, in seconds from the answer (bounded: see platform/retry-after.ts). */
  retryAfterSeconds?: number;
  location?: string;
  platform?: { error?: string; message?: string; info?: string };
  excerpt?: string;
  /** Limits: what, the program's limit, what the input asked for. */
  what?: string;
  limit?: number;
  actual?: number;
  unit?: string;
  /** Config and options. */
  source?: string;
  option?: string;
  value?: string;
  allowed?: readonly string[];
  expected?: string;
  problems?: ConfigProblem[];
  profile?: string;
  profiles?: string[];
  line?: number;
  column?: number;
  /** Tokens: which part is malformed, and where the token came from. */
  problem?: string;
  where?: string;
  /** USAGE and INTERNAL only: text already worded by the CLI layer (commander) or a bug's message, and what to do. */
  detail?: string;
  suggestion?: string;
  /** An answer's Content-Type. */
  contentType?: string;
  /** EST: which request, the device id, how long enroll waited, what the platform asked for. */
  operation?: 'simplereenroll' | 'simpleenroll';
  deviceId?: string;
  attempts?: number;
  elapsedMs?: number;
  /** EST: when to ask again (ISO 8601), from a 202's Retry-After that was longer than the wait allowed. */
  retryAt?: string;
  /** EST: the limit the wait for a pending request ran into ('--max-wait', '--timeout'). */
  waitOption?: string;
  /** EST: the certificate asked for and the one issued (CN, subjects of the answer, validity). */
  commonName?: string;
  subjects?: string[];
  validFrom?: string;
  validTo?: string;
  /** A key c8ytoken cannot request a certificate for: its type or curve, and its size. */
  keyType?: string;
  bits?: number;
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
  /** The process holding a renewal's lock file. */
  pid?: number;
}

/**
 * Facts an error of any code may gain on its way up: what a renewal or an enrollment left behind, and
 * which EST request or step it came from.
 */
export type TravelFacts = Pick<ErrorFacts, 'operation' | 'during' | 'notWritten' | 'unchanged' | 'restore' | 'unproven'>;

type Operation = NonNullable<ErrorFacts['operation']>;
/** A file c8ytoken read or wrote, as the user named it. */
interface FileFacts {
  path: string;
  role: FileRole;
}
/** Which entry of a keystore, when the file is one. */
interface KeystoreEntry {
  format?: NonNullable<ErrorFacts['format']>;
  alias?: string;
}
/** Where an EST request went (est/client.ts). */
export interface EstWhere {
  url: string;
  host: string;
  port: string;
  operation: Operation;
}
/** An EST answer that refused: its status and what the platform said (its error, or an excerpt). */
export interface EstRefusal extends EstWhere {
  status: number;
  platform?: NonNullable<ErrorFacts['platform']>;
  excerpt?: string;
}
/** The certificate an EST answer issued, checked against what was asked for (est/check.ts). */
interface IssuedFacts {
  url: string;
  commonName: string;
  subject?: string;
  validTo?: string;
}

/**
 * The facts of each code whose facts are tied to it: a throw site with a fact missing or one of another
 * code does not compile. The codes not listed here (UntypedCode) still take the general bag ErrorFacts.
 */
export interface FactsByCode {
  FILE_NOT_FOUND: FileFacts;
  FILE_UNREADABLE: FileFacts & { reason: string; nodeCode?: string; timeoutMs?: number };
  FILE_TOO_LARGE: FileFacts & { limit: number; actual: number; unit: 'bytes' };
  KEY_UNSUPPORTED: { keyType: string; bits?: number; limit?: number };
  NOT_A_KEY: FileFacts & KeystoreEntry & { reason?: 'holds certificates'; nodeCode?: string };
  KEYSTORE_NO_KEY: FileFacts & KeystoreEntry & { reason?: 'no certificate'; actual?: number };
  KEYSTORE_ALIAS_NOT_FOUND: FileFacts & KeystoreEntry & { alias: string; aliases: string[] };
  KEYSTORE_ALIAS_AMBIGUOUS: FileFacts & KeystoreEntry & { aliases: string[] };
  TRUSTSTORE_EMPTY: FileFacts;
  INPUT_LIMIT: FileFacts & KeystoreEntry & { what: string; limit: number; actual?: number; unit?: 'iterations' | 'signature checks' };
  WEAK_CREDENTIALS: FileFacts & { reason: string; nodeCode?: string };
  OUTPUT_UNWRITABLE: FileFacts & { reason: string; otherPath?: string; nodeCode?: string; pid?: number; aliases?: string[] };
  EST_CLIENT_CERT_REQUIRED: EstWhere & Pick<ErrorFacts, 'stage' | 'nodeCode'>;
  EST_UNAUTHORIZED: EstRefusal;
  EST_FORBIDDEN: EstRefusal;
  EST_CSR_REJECTED: EstRefusal;
  EST_REFUSED: EstRefusal & { reason?: 'redirect'; location?: string };
  EST_NOT_REGISTERED: EstRefusal & { deviceId: string; attempts: number; elapsedMs: number };
  EST_PENDING: EstWhere & { status: number; retryAfterSeconds?: number; attempts?: number; elapsedMs?: number; retryAt?: string; waitOption?: string };
  EST_SERVER_ERROR: EstRefusal & { retryAfterSeconds?: number };
  EST_BAD_RESPONSE: EstWhere & { status: number; reason: string; actual: number; contentType?: string; excerpt?: string };
  EST_WRONG_CERTIFICATE: IssuedFacts & { problem: 'other-key' | 'other-cn' | 'not valid now'; subjects?: string[]; validFrom?: string };
  EST_UNUSABLE_CERTIFICATE: IssuedFacts & { problem: 'ca' | 'no-client-auth' | 'short-lived' | 'shorter'; allowed?: string[]; certificateNotAfter?: string };
}

/** The codes with facts of their own (FactsByCode). */
export type TypedCode = keyof FactsByCode;
/** The codes still on the general bag ErrorFacts (see FactsByCode). */
export type UntypedCode = Exclude<ErrorCode, TypedCode>;

/**
 * The facts an error of code C carries: its own (plus TravelFacts) for a typed code; the general bag for
 * an untyped code, and for an error whose code is not known in the type (a catch, a re-wrap).
 */
export type FactsOf<C extends ErrorCode> = [C] extends [TypedCode] ? (C extends TypedCode ? FactsByCode[C] & TravelFacts : never) : ErrorFacts;

/** Every typed code's facts are also facts of the general bag: code that handles any error reads them so. */
const typedFactsFitTheBag: { [C in TypedCode]: FactsByCode[C] extends ErrorFacts ? true : never } = {
  FILE_NOT_FOUND: true,
  FILE_UNREADABLE: true,
  FILE_TOO_LARGE: true,
  KEY_UNSUPPORTED: true,
  NOT_A_KEY: true,
  KEYSTORE_NO_KEY: true,
  KEYSTORE_ALIAS_NOT_FOUND: true,
  KEYSTORE_ALIAS_AMBIGUOUS: true,
  TRUSTSTORE_EMPTY: true,
  INPUT_LIMIT: true,
  WEAK_CREDENTIALS: true,
  OUTPUT_UNWRITABLE: true,
  EST_CLIENT_CERT_REQUIRED: true,
  EST_UNAUTHORIZED: true,
  EST_FORBIDDEN: true,
  EST_CSR_REJECTED: true,
  EST_REFUSED: true,
  EST_NOT_REGISTERED: true,
  EST_PENDING: true,
  EST_SERVER_ERROR: true,
  EST_BAD_RESPONSE: true,
  EST_WRONG_CERTIFICATE: true,
  EST_UNUSABLE_CERTIFICATE: true,
};
void typedFactsFitTheBag;

export interface ErrorOptions {
  /** The underlying error, shown only with --verbose. */
  cause?: unknown;
}

/** The constructor's facts and options: the facts may be left out only when none is required. */
type FactsArgs<C extends ErrorCode> = Partial<FactsOf<C>> extends FactsOf<C> ? [facts?: FactsOf<C>, options?: ErrorOptions] : [facts: FactsOf<C>, options?: ErrorOptions];

/** The run-time class of every C8yError; the type C8yError<C> and its constructor (below) tie the facts to the code. */
class CodedError extends Error {
  readonly code: ErrorCode;
  readonly facts: ErrorFacts;

  constructor(code: ErrorCode, facts: ErrorFacts = {}, options: ErrorOptions = {}) {
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
 * narrows to C8yError of any code (its `prototype`), whose facts are the general bag, not `any` as a
 * generic class would give.
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

/** The error of a command stopped by a signal: TERMINATED for SIGTERM, INTERRUPTED otherwise. */
export function abortError(signal: AbortSignal | undefined): C8yError {
  return new C8yError(signal?.reason === 'SIGTERM' ? 'TERMINATED' : 'INTERRUPTED');
}

/** A USAGE error worded by the CLI layer (argument parsing is part of the program's surface). */
export function usageError(detail: string, facts: Omit<ErrorFacts, 'detail'> = {}): C8yError {
  return new C8yError('USAGE', { ...facts, detail });
}

/** Wraps a Node file-system error about `path` into the C8yError of its kind. */
export function fileError(err: unknown, path: string, role: FileRole): C8yError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new C8yError('FILE_NOT_FOUND', { path, role }, { cause: err });
  if (code === 'EISDIR') return new C8yError('FILE_UNREADABLE', { path, role, reason: 'a folder, not a file', nodeCode: code }, { cause: err });
  return new C8yError('FILE_UNREADABLE', { path, role, reason: code ?? String(err), ...(code ? { nodeCode: code } : {}) }, { cause: err });
}
