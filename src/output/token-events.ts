/** watch events: one human line each on stderr, or NDJSON on stdout with --json. Never a token. */
import type { TokenEvent } from '../core/token/keeper.js';
import { describeError } from './messages.js';
import { shownText } from '../core/text.js';
import { isoSeconds } from '../core/time/iso.js';

/** The event as one JSON object: an error becomes its code, exit code, message and hint. */
export function watchEventJson(e: TokenEvent): Record<string, unknown> {
  if (e.event === 'retry' || e.event === 'error' || e.event === 'renew-failed') {
    const { error, ...rest } = e;
    const { message, hint } = describeError(error);
    return { ...rest, code: error.code, exitCode: error.exitCode, message, hint: hint ?? null };
  }
  if (e.event === 'token') return { ...e, same: e.state !== 'new' };
  return e;
}

/** One log line for people: one line whatever the platform or the files said (no line break, escape, BEL or CR reaches a terminal or the journal). */
export function renderWatchEvent(e: TokenEvent): string {
  return shownText(eventLine(e), Number.POSITIVE_INFINITY);
}

// NDJSON keeps the events' own times; the log line shows every date in the one human form.
const t = isoSeconds;

function eventLine(e: TokenEvent): string {
  switch (e.event) {
    case 'start':
      return `${t(e.time)} start    keeping ${e.file} fresh from ${e.url}`;
    case 'token': {
      const what =
        e.source === 'file'
          ? 'token in the file is still fresh'
          : e.state === 'same'
            ? 'platform returned the same token'
            : e.state === 'older'
              ? 'platform returned an OLDER token (kept the held one)'
              : 'new token';
      return `${t(e.time)} token    ${what}${e.written ? ', written' : ''} for ${e.deviceUser ?? 'unknown device'}, expires ${e.expiresAt ? t(e.expiresAt) : 'never (no exp)'}${e.refreshAfter ? `, new token possible from ${t(e.refreshAfter)}` : ''}, next refresh ${t(e.refreshAt)}`;
    }
    case 'retry': {
      const { message } = describeError(e.error);
      return `${t(e.time)} retry    attempt ${e.attempt} failed (${e.error.code}): ${message} Next try ${t(e.retryAt)}.`;
    }
    case 'error': {
      const { message, hint } = describeError(e.error);
      return `${t(e.time)} error    ${e.error.code}: ${message}${hint ? ` ${hint}` : ''}${e.retryAt ? ` Next try ${t(e.retryAt)}.` : ''}`;
    }
    case 'expired':
      return `${t(e.time)} EXPIRED  The token in ${e.file} expired at ${t(e.expiredAt)} and no new one could be fetched; retrying.`;
    case 'warning':
      return `${t(e.time)} warning  ${e.message}`;
    case 'clock':
      return `${t(e.time)} clock    this device's clock is ${e.skew} (from the ${e.basis}): fix its time synchronisation (NTP); refreshes follow the platform's clock meanwhile`;
    case 'renewed':
      return `${t(e.time)} renewed  the device certificate is valid until ${t(e.notAfter)} (was ${t(e.previousNotAfter)}); wrote ${e.files.join(', ')}${e.backups.length ? `, kept ${e.backups.join(', ')}` : ''}. ${e.chain}`;
    case 'renew-failed': {
      const { message } = describeError(e.error);
      return `${t(e.time)} renewal  attempt ${e.attempt} failed (${e.error.code}): ${message} Next try after ${t(e.retryAt)}; tokens come from the current certificate (valid until ${t(e.notAfter)}) meanwhile.`;
    }
    case 'hook':
      return `${t(e.time)} hook     ${e.command} ${e.error ? `could not run: ${e.error}` : e.signal ? `killed by ${e.signal}` : `exited ${e.exitCode}`} after ${e.durationMs} ms`;
    case 'stop':
      return `${t(e.time)} stop     ${e.reason}`;
  }
}
