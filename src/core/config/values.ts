/** Reading one option's value, the same way whether a flag, a variable or the config file gives it. */
import { isBareNumber, parseDuration } from '../time/duration.js';
import type { OptionRow } from './options.js';

export type OptionValue = string | number | boolean;

/** The value (a duration in milliseconds, a choice as the table writes it), or the problem in words. */
export function readValue(row: OptionRow, raw: unknown): { value: OptionValue } | { problem: string } {
  switch (row.kind) {
    case 'switch': {
      // From a variable a switch comes as text: C8YTOKEN_ALLOW_SHORTER=true (or 1, yes; false, 0, no).
      const text = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
      if (text !== undefined && ['true', '1', 'yes'].includes(text)) return { value: true };
      if (text !== undefined && ['false', '0', 'no'].includes(text)) return { value: false };
      return typeof raw === 'boolean' ? { value: raw } : { problem: `must be true or false, not ${describe(raw)}` };
    }
    case 'text':
    case 'path':
      return typeof raw === 'string' && raw.trim() !== '' ? { value: raw } : { problem: `must be a non-empty string, not ${describe(raw)}` };
    case 'password':
      // A password written as a number (keystore.password: 73519468) is still a password: named by its type only.
      return typeof raw === 'string' && raw.trim() !== '' ? { value: raw } : { problem: `must be a non-empty string (in quotes), not ${typeOnly(raw)}` };
    case 'choice': {
      const choice = typeof raw === 'string' ? row.choices!.find((c) => c.toLowerCase() === raw.trim().toLowerCase()) : undefined;
      return choice !== undefined ? { value: choice } : { problem: `must be one of ${row.choices!.join(', ')}, not ${describe(raw)}` };
    }
    case 'duration': {
      const bareSeconds = row.unitRequired !== true;
      const ms = typeof raw === 'string' || typeof raw === 'number' ? parseDuration(raw, { bareSeconds }) : undefined;
      const max = row.max !== undefined ? parseDuration(row.max)! : Infinity;
      if (ms === undefined && !bareSeconds && (typeof raw === 'string' || typeof raw === 'number') && isBareNumber(raw))
        return { problem: `needs a unit: "${String(raw).trim()}d" for days or "${String(raw).trim()}h" for hours, not ${describe(raw)} (a bare number would be seconds)` };
      if (ms === undefined || ms <= 0) return { problem: `must be a duration like ${bareSeconds ? '"30s", "5m" or "1h30m"' : '"30d", "12h" or "1d12h"'}, not ${describe(raw)}` };
      if (ms > max) return { problem: `must be at most ${row.max}, not ${describe(raw)}` };
      return { value: ms };
    }
  }
}

/** What a secret value is, without any of it: "a number", "an empty string". */
function typeOnly(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'an empty string';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A value as a message shows it: quoted text, never more than a few dozen characters. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${value}`;
  return `${typeof value === 'object' ? 'an object' : typeof value}`;
}
