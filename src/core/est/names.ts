/**
 * The names a certificate request carries, checked once where they enter: a device id given by the user
 * (cert enroll's --device-id) and the CN read from the current certificate (cert renew) both become a
 * CommonName through commonNameOf, so buildCsr and the EST client take them as they are. The brands exist
 * only for the type checker: at run time both are plain strings.
 */
import { C8yError } from '../errors.js';

declare const commonNameBrand: unique symbol;
declare const deviceIdBrand: unique symbol;

/** A subject CN a certificate request may carry: 1–64 characters, no control characters, no surrounding blanks. */
export type CommonName = string & { readonly [commonNameBrand]: true };

/** A device id: a CommonName that is also an HTTP Basic user name (no ":"), for simpleenroll. */
export type DeviceId = CommonName & { readonly [deviceIdBrand]: true };

/** `value` as a CommonName; USAGE naming `source` (the option, or "The common name") when it cannot be one. */
export function commonNameOf(value: string, source: string): CommonName {
  const problem =
    value.length === 0
      ? 'is empty'
      : value.length > 64
        ? `has ${value.length} characters (a CN has at most 64)`
        : // eslint-disable-next-line no-control-regex
          /[\u0000-\u001f\u007f-\u009f]/.test(value)
          ? 'contains control characters'
          : value.trim() !== value
            ? 'starts or ends with blanks'
            : undefined;
  if (problem) throw new C8yError('USAGE', { option: source, value, reason: problem });
  return value as CommonName;
}

/** `value` as a DeviceId: a CommonName without ":" (RFC 7617: the user name of Basic authentication cannot hold one). */
export function deviceIdOf(value: string, source = '--device-id'): DeviceId {
  const cn = commonNameOf(value, source);
  if (cn.includes(':')) throw new C8yError('USAGE', { option: source, value, reason: 'cannot be used: it must be non-empty, without ":" or control characters' });
  return cn as DeviceId;
}
