/** The marks of checklists (verify-chain, doctor): ✔ ✖ ⚠ on a UTF-8 terminal, ASCII otherwise, coloured on request. */
import { paintText, type Colour } from './colour.js';

export type Mark = 'pass' | 'fail' | 'warn' | 'skip' | 'info';

const UNICODE: Record<Mark, string> = { pass: '✔', fail: '✖', warn: '⚠', skip: '–', info: 'ℹ' };
const ASCII: Record<Mark, string> = { pass: '[ok]', fail: '[FAIL]', warn: '[warn]', skip: '[skip]', info: '[info]' };
const COLOR: Record<Mark, Colour> = { pass: 'green', fail: 'red', warn: 'yellow', skip: 'dim', info: 'cyan' };

/** True when the terminal can show ✔ ✖ ⚠ (a UTF-8 locale, or Windows Terminal). */
export function supportsUnicode(env: NodeJS.ProcessEnv, platform = process.platform): boolean {
  if (platform === 'win32') return Boolean(env.WT_SESSION) || env.TERM_PROGRAM === 'vscode';
  return /UTF-?8/i.test(env.LC_ALL || env.LC_CTYPE || env.LANG || '');
}

export interface MarkStyle {
  color: boolean;
  unicode: boolean;
}

/** The mark for a verdict, coloured when asked. */
export function mark(verdict: Mark, style: MarkStyle): string {
  return paint(verdict, (style.unicode ? UNICODE : ASCII)[verdict], style);
}

/** Text in the verdict's colour when asked. */
export function paint(verdict: Mark, text: string, style: MarkStyle): string {
  return paintText(COLOR[verdict], text, style.color);
}
