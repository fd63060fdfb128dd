/**
 * Text from outside (the platform, a token's claims, a certificate's names, file names) made safe to print:
 * the one sanitizer of c8ytoken's human output. Renderers and the CLI's human channels (warnings,
 * --verbose progress, doctor's report, watch's and exec's log lines) pass their final text through
 * `terminalText`, so an escape sequence, BEL or carriage return in a claim cannot reach a terminal or a
 * journal, whichever value a renderer forgot; `shownText` is the same rule on one line, bounded in length,
 * for a value placed inside a message. Our own colours are added after (or kept by `keepColor`).
 */
import { LIMITS } from './limits.js';

// C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// The same, without line feed and tab: the layout of a multi-line report.
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
// A colour (SGR) sequence as our painters write it (ESC [ digits and semicolons m), or another control.
// eslint-disable-next-line no-control-regex
const SGR_OR_CONTROL = /(\u001b\[[0-9;]*m)|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Control characters (escape sequences, line breaks) replaced by "?", at most `max` characters. */
export function shownText(text: string, max: number = LIMITS.shownText): string {
  const safe = text.replace(CONTROL, '?');
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

/**
 * A whole report or log line for a terminal or a journal: every control character but line feed and tab
 * becomes "?". With `keepColor` (colour is on), colour sequences stay and nothing else: a colour cannot move
 * the cursor, rewrite a line, ring or set a title, and renderers paint only text already made safe.
 */
export function terminalText(text: string, keepColor = false): string {
  if (!keepColor) return text.replace(CONTROL_BUT_LAYOUT, '?');
  return text.replace(SGR_OR_CONTROL, (_, sgr: string | undefined) => sgr ?? '?');
}
