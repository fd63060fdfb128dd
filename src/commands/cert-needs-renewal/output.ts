/** cert needs-renewal: the verdict for people, or one JSON object with --json. */
import type { NeedsRenewalResult } from './needs-renewal.js';
import { formatDuration, formatRelative } from '../../core/time/duration.js';
import { shownText } from '../../core/text.js';
import { isoSeconds } from '../../core/time/iso.js';

/** The verdict for people: renew now (and why) or not yet. */
export function renderNeedsRenewal(r: NeedsRenewalResult, nowMs: number): string {
  const what = `${shownText(r.subject)} (${shownText(r.source)})`;
  const window = formatDuration(r.withinMs);
  if (r.expired) {
    return `renew now: ${what} EXPIRED at ${isoSeconds(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}); an expired certificate cannot be renewed over EST: enroll the device again.\n`;
  }
  if (r.renewNow) return `renew now: ${what} expires at ${isoSeconds(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}), within ${window}.\n`;
  return `not yet: ${what} expires at ${isoSeconds(r.notAfter)} (${formatRelative(r.notAfter.getTime(), nowMs)}), later than ${window} from now.\n`;
}

export function needsRenewalJson(r: NeedsRenewalResult): Record<string, unknown> {
  return {
    renewNow: r.renewNow,
    notAfter: isoSeconds(r.notAfter),
    daysLeft: r.daysLeft,
    expired: r.expired,
    withinSeconds: Math.round(r.withinMs / 1000),
    windowExceedsLifetime: r.windowExceedsLifetime,
    subject: r.subject,
    commonName: r.commonName ?? null,
    source: r.source,
  };
}
