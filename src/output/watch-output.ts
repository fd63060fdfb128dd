/** watch events: one human line each on stderr, or NDJSON on stdout with --json. Never a token. */
import type { WatchEvent } from '../commands/watch.js';

/** One log line for people. */
export function renderWatchEvent(e: WatchEvent): string {
  switch (e.event) {
    case 'start':
      return `${e.time} start    keeping ${e.file} fresh from ${e.url}`;
    case 'token': {
      const what = e.source === 'file' ? 'token in the file is still fresh' : e.same ? 'platform returned the same token' : 'new token';
      return `${e.time} token    ${what}${e.written ? ', written' : ''} for ${e.deviceUser ?? 'unknown device'}, expires ${e.expiresAt ?? 'never (no exp)'}, next refresh ${e.refreshAt}`;
    }
    case 'retry':
      return `${e.time} retry    attempt ${e.attempt} failed (${e.code}): ${e.message} Next try ${e.retryAt}.`;
    case 'error':
      return `${e.time} error    ${e.code}: ${e.message}${e.hint ? ` ${e.hint}` : ''}${e.retryAt ? ` Next try ${e.retryAt}.` : ''}`;
    case 'expired':
      return `${e.time} EXPIRED  ${e.message}`;
    case 'warning':
      return `${e.time} warning  ${e.message}`;
    case 'hook':
      return `${e.time} hook     ${e.command} ${e.error ? `could not run: ${e.error}` : e.signal ? `killed by ${e.signal}` : `exited ${e.exitCode}`} after ${e.durationMs} ms`;
    case 'stop':
      return `${e.time} stop     ${e.reason}`;
  }
}
