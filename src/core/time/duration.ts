/**
 * Durations as people write them: `90s`, `5m`, `1h30m`, `2d`, `250ms`; a bare number is seconds, where
 * that is allowed. Day-scale options (a certificate's renewal window) refuse a bare number: `--within 30`
 * read as 30 seconds would never renew.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Whether a bare number (no unit) counts, as seconds. */
export interface DurationRules {
  bareSeconds?: boolean;
}

/** True when the text is a bare number (no unit): for the message that asks for one. */
export function isBareNumber(text: string | number): boolean {
  return typeof text === 'number' || /^\d+(\.\d+)?$/.test(text.trim());
}

/** Parses a duration to milliseconds; returns undefined when the text is not one (or is a bare number where none is allowed). */
export function parseDuration(text: string | number, rules: DurationRules = {}): number | undefined {
  const bareSeconds = rules.bareSeconds ?? true;
  if (typeof text === 'number') return bareSeconds && Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const s = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(s)) return bareSeconds ? Number(s) * 1000 : undefined;
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  let consumed = 0;
  for (let m = PART.exec(s); m; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = PART.lastIndex;
  }
  return consumed === s.length ? total : undefined;
}

/** A short human form of a duration: `42 min`, `3 h 5 min`, `12 s`, `4 d 2 h`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const s = Math.round(abs / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** "in 42 min" or "3 h ago", relative to now. */
export function formatRelative(targetMs: number, nowMs: number): string {
  const diff = targetMs - nowMs;
  if (Math.abs(diff) < 1000) return 'now';
  return diff > 0 ? `in ${formatDuration(diff)}` : `${formatDuration(diff)} ago`;
}
