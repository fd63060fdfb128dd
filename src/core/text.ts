/** Text from outside (the platform, a token's claims, a certificate's names) made safe to print. */
import { LIMITS } from './limits.js';

/** Control characters (escape sequences, line breaks) replaced by "?", at most `max` characters. */
export function shownText(text: string, max: number = LIMITS.shownText): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}
