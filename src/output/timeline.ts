/**
 * A token's life as one line, for a terminal: issued ├──▲──┼─────┤ expiry, the half-life marked ┼ (from
 * then on the platform hands out a new token) and now ▲ (« or » when now is before the issue or after
 * the expiry), with the times below.
 */

const WIDTH = 40;

export interface TimelineStyle {
  unicode: boolean;
  /** ms since the epoch → a short local time. */
  clock(ms: number): string;
}

/** Two lines (bar and labels), or [] when the token's issue and expiry are not known. */
export function timeline(issuedAt: number | undefined, expiresAt: number | undefined, nowMs: number, style: TimelineStyle): string[] {
  if (issuedAt === undefined || expiresAt === undefined || expiresAt <= issuedAt) return [];
  const g = style.unicode ? { start: '├', line: '─', half: '┼', end: '┤', now: '▲', before: '«', after: '»' } : { start: '|', line: '-', half: '+', end: '|', now: '^', before: '<', after: '>' };
  const bar = Array.from({ length: WIDTH + 1 }, () => g.line);
  bar[0] = g.start;
  bar[WIDTH / 2] = g.half;
  bar[WIDTH] = g.end;
  const fraction = (nowMs / 1000 - issuedAt) / (expiresAt - issuedAt);
  const at = Math.round(Math.min(1, Math.max(0, fraction)) * WIDTH);
  bar[at] = fraction < 0 ? g.before : fraction > 1 ? g.after : g.now;
  const start = style.clock(issuedAt * 1000);
  const end = style.clock(expiresAt * 1000);
  const half = style.clock(((issuedAt + expiresAt) / 2) * 1000);
  // Labels under their marks: "issued" from ├, the half-life centred on ┼, "expiry" ending at ┤.
  const origin = start.length + 1;
  const labels = Array.from({ length: origin + WIDTH + 1 }, () => ' ');
  const put = (column: number, text: string): void => [...text].forEach((ch, i) => (labels[column + i] = ch));
  const middle = `half-life ${half}`;
  put(origin, 'issued');
  put(origin + WIDTH / 2 - Math.floor(middle.length / 2), middle);
  put(origin + WIDTH + 1 - 'expiry'.length, 'expiry');
  return [`${start} ${bar.join('')} ${end}   ${g.now} now`, labels.join('').trimEnd()];
}
