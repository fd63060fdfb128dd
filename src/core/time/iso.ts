/**
 * Dates as c8ytoken shows them. People read one form everywhere (issue 17: "one date format"): ISO 8601
 * in UTC to the second, `2027-12-07T03:31:42Z`, never milliseconds and never OpenSSL's
 * `Dec  7 03:31:32 2027 GMT`. The JSON of token times keeps `toISOString()` (`…:42.000Z`), which scripts
 * already parse.
 */

/** The one human form of a date: ISO 8601 UTC to the second. Takes epoch ms, a Date, or a date string (ISO or OpenSSL's `validTo`); a string that is no date is returned as it is. */
export function isoSeconds(at: number | Date | string): string {
  const ms = typeof at === 'string' ? Date.parse(at) : typeof at === 'number' ? at : at.getTime();
  if (!Number.isFinite(ms)) return typeof at === 'string' ? at : 'an invalid date';
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Seconds since the epoch (a JWT NumericDate) as the ISO 8601 string of the JSON outputs. */
export function isoTime(seconds: number | undefined): string | undefined {
  return seconds === undefined ? undefined : new Date(seconds * 1000).toISOString();
}
