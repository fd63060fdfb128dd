/**
 * A 429 or 503 may carry Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date. A platform under
 * load that says when to come back is believed, within reason: the value is a number from the network,
 * so it is bounded, and a date is read against the answer's own Date header (this device's clock may be
 * off; both stamps come from the platform's).
 */

/** The longest wait a Retry-After can ask for; beyond it the client's own backoff decides again. */
export const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * An EST 202's Retry-After (RFC 7030 4.2.3) may be a manual approval's day or two; it is shown as the time
 * to come back rather than waited for beyond --max-wait, so it is believed further, within a week.
 */
export const MAX_EST_RETRY_AFTER_SECONDS = 7 * 86_400;

/** Seconds to wait, or undefined when the header is absent, unreadable, or not in the future; at most `max`. */
export function retryAfterSeconds(header: string | undefined, date: string | undefined, receivedAt: number, max = MAX_RETRY_AFTER_SECONDS): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  let seconds: number;
  if (/^\d{1,10}$/.test(text)) seconds = Number(text);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at) || text.length > 64) return undefined;
    const platformNow = date !== undefined && !Number.isNaN(Date.parse(date)) ? Date.parse(date) : receivedAt;
    seconds = Math.ceil((at - platformNow) / 1000);
  }
  if (!(seconds > 0)) return undefined;
  return Math.min(seconds, max);
}
