/** The proxy's log: one human line per request and event on stderr, or NDJSON on stdout with --json. Never a token. */
import { renderWatchEvent, watchEventJson } from '../../output/token-events.js';
import { shownText } from '../../core/text.js';
import type { ProxyEvent } from './proxy.js';

/** The event as one JSON object (the keeper's events as watch gives them). */
export function proxyEventJson(e: ProxyEvent): Record<string, unknown> {
  if (e.event === 'access' || e.event === 'listening' || e.event === 'reload' || e.event === 'draining') return { ...e };
  return watchEventJson(e);
}

/** One line for people; control characters a client put in its path never reach the terminal or journal. */
export function renderProxyEvent(e: ProxyEvent): string {
  switch (e.event) {
    case 'access': {
      const notes = [e.retried ? 'retried after 401' : '', e.refused ? `refused: ${e.refused}` : '', e.websocket ? 'websocket' : ''].filter(Boolean);
      return shownText(`${e.time} ${e.method} ${e.path} ${e.status} ${e.bytes}B ${e.durationMs}ms${notes.length ? ` (${notes.join(', ')})` : ''}`, Number.POSITIVE_INFINITY);
    }
    case 'listening':
      return `${e.time} listen   ${e.address} -> ${e.upstream} (${e.mode === 'token' ? 'device token added' : 'mTLS with the device certificate'}; ${e.via})`;
    case 'reload':
      return `${e.time} reload   SIGHUP: reading the identity again`;
    case 'draining':
      return `${e.time} drain    no new connections; ${e.inFlight} request(s) in flight finishing`;
    default:
      return renderWatchEvent(e);
  }
}
