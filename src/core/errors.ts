/**
 * Typed errors: every failure a user can meet has a stable code, and every code has one exit code.
 * Scripts branch on exit codes (design.md), tests assert on codes, never on wording.
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
  config: ['CONFIG_UNREADABLE', 'CONFIG_INVALID', 'NO_URL', 'BAD_URL', 'NO_CREDENTIALS', 'PASSWORD_REQUIRED', 'PROXY_INVALID', 'PROXY_AUTH_REQUIRED'],
  input: [
    'FILE_NOT_FOUND',
    'FILE_UNREADABLE',
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
  ],
  network: ['DNS_FAILED', 'CONNECTION_REFUSED', 'CONNECTION_RESET', 'TIMEOUT', 'NETWORK_FAILED', 'PROXY_DNS_FAILED', 'PROXY_UNREACHABLE', 'PROXY_REFUSED'],
  tls: ['SERVER_UNTRUSTED', 'HOSTNAME_MISMATCH', 'CLIENT_CERT_REJECTED', 'TLS_FAILED', 'PROXY_UNTRUSTED', 'PROXY_TLS_FAILED', 'PROXY_TLS_INTERCEPTED'],
  platformRefused: [
    'PLATFORM_BAD_REQUEST',
    'PLATFORM_UNAUTHORIZED',
    'PLATFORM_FORBIDDEN',
    'PLATFORM_FEATURE_DISABLED',
    'PLATFORM_UNPROCESSABLE',
    'PLATFORM_REFUSED',
  ],
  platformFailed: ['PLATFORM_ERROR', 'PLATFORM_BUSY', 'BAD_RESPONSE', 'NO_TOKEN', 'RESPONSE_TOO_LARGE'],
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

/** The exit code a script sees for an error code. */
export function exitCodeFor(code: ErrorCode): ExitCodeValue {
  return exitCodeByCode.get(code) ?? ExitCode.internal;
}

/** Failure classes that are worth retrying later without changing anything. */
export function isRetryable(code: ErrorCode): boolean {
  const exit = exitCodeFor(code);
  return exit === ExitCode.network || exit === ExitCode.platformFailed;
}

export interface ErrorDetails {
  /** What to do next; shown under the message. */
  hint?: string;
  /** The underlying error, shown only with --verbose. */
  cause?: unknown;
  /** Extra facts for --json and --verbose (never secrets). */
  details?: Record<string, unknown>;
}

/** An error the user can meet: message says what happened and names the file, URL or key. */
export class C8yError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, extra: ErrorDetails = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'C8yError';
    this.code = code;
    this.hint = extra.hint;
    this.details = extra.details;
  }

  get exitCode(): ExitCodeValue {
    return exitCodeFor(this.code);
  }
}

/** True when err is a C8yError with one of the given codes (or any code when none is given). */
export function isC8yError(err: unknown, ...codes: ErrorCode[]): err is C8yError {
  return err instanceof C8yError && (codes.length === 0 || codes.includes(err.code));
}

/** Wraps a Node file-system error about `path` (what: "certificate", "keystore", ...) into a C8yError. */
export function fileError(err: unknown, path: string, what: string): C8yError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return new C8yError('FILE_NOT_FOUND', `The ${what} file ${path} does not exist.`, {
      hint: 'Check the path (relative paths in a config file are relative to that file).',
      cause: err,
    });
  }
  if (code === 'EISDIR') {
    return new C8yError('FILE_UNREADABLE', `The ${what} path ${path} is a folder, not a file.`, {
      hint: 'Name the file itself.',
      cause: err,
    });
  }
  return new C8yError('FILE_UNREADABLE', `Cannot read the ${what} file ${path}: ${code ?? String(err)}.`, {
    hint: 'Check the file permissions for the user running c8ytoken.',
    cause: err,
  });
}
