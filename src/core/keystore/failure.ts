/** What a failure while reading a keystore means for the user: always a C8yError naming the file, unless it is a bug. */
import { C8yError, isC8yError, type FileRole } from '../errors.js';
import { DerError } from '../encoding/der.js';
import { UnsupportedAlgorithmError } from './pbe.js';
import { KdfLimitError } from './work.js';

/**
 * The C8yError a reader failure stands for: damaged structure (KEYSTORE_CORRUPT), an algorithm we do
 * not read (KEYSTORE_UNSUPPORTED), work beyond the limits (INPUT_LIMIT), or Node's crypto refusing the
 * data; a signal's C8yError gets the file's facts. Anything else is returned as it is: a bug.
 */
export function keystoreFailure(err: unknown, path: string, role: FileRole, format: 'PKCS#12' | 'JKS'): Error {
  const where = { path, role, format };
  // The readers name the file in their errors; a signal during a key derivation does not know it.
  if (isC8yError(err, 'INTERRUPTED', 'TERMINATED')) return new C8yError(err.code, { ...where, ...err.facts }, { cause: err.cause });
  if (err instanceof C8yError) return err;
  if (err instanceof DerError) return new C8yError('KEYSTORE_CORRUPT', { ...where, reason: err.message }, { cause: err });
  if (err instanceof UnsupportedAlgorithmError) return new C8yError('KEYSTORE_UNSUPPORTED', { ...where, reason: err.oid }, { cause: err });
  if (err instanceof KdfLimitError) return new C8yError('INPUT_LIMIT', { ...where, what: err.what, limit: err.limit, actual: err.actual, unit: 'iterations' }, { cause: err });
  if (isCryptoInputError(err)) return new C8yError('KEYSTORE_CORRUPT', { ...where, reason: (err as { code: string }).code }, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/** Node's crypto (OpenSSL) or Buffer refusing data read from a file: the data's fault, not ours. */
export function isCryptoInputError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('ERR_OSSL') || code.startsWith('ERR_CRYPTO') || code === 'ERR_OUT_OF_RANGE' || code === 'ERR_BUFFER_OUT_OF_BOUNDS');
}
