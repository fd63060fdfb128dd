/** How a fetched token is printed: --format token|header|json|env, and the one-line summary for stderr. */
import type { FetchResult } from '../commands/fetch.js';
import { tenantBaseUrl } from '../core/platform/endpoint.js';
import { formatRelative } from '../core/time/duration.js';
import { isoTime } from '../core/token/jwt.js';
import { exportLine, type Shell } from './shell.js';

export const FORMATS = ['token', 'header', 'json', 'env'] as const;
export type Format = (typeof FORMATS)[number];

/** The token in the requested form, ending in a newline; this and nothing else goes to stdout. */
export function renderToken(result: FetchResult, format: Format, shell: Shell): string {
  const { token } = result.token;
  switch (format) {
    case 'token':
      return `${token}\n`;
    case 'header':
      // `curl -H @-` reads header lines from stdin.
      return `Authorization: Bearer ${token}\n`;
    case 'json':
      return `${JSON.stringify(tokenJson(result), null, 2)}\n`;
    case 'env': {
      const claims = result.token.claims;
      const vars: [string, string][] = [
        ['C8Y_TOKEN', token],
        ['C8Y_HOST', tenantBaseUrl(result.endpoint)],
        ['C8Y_TENANT', typeof claims.ten === 'string' ? claims.ten : ''],
        ['C8Y_USER', typeof claims.sub === 'string' ? claims.sub : ''],
        ['C8Y_HEADER_AUTHORIZATION', `Bearer ${token}`],
      ];
      return vars.map(([n, v]) => exportLine(shell, n, v)).join('\n') + '\n';
    }
  }
}

/** The --format json object: the token, its claims and the derived times as ISO 8601. */
export function tokenJson(result: FetchResult): Record<string, unknown> {
  const t = result.times;
  const out: Record<string, unknown> = {
    token: result.token.token,
    claims: result.token.claims,
    issuedAt: isoTime(t.issuedAt) ?? null,
    expiresAt: isoTime(t.expiresAt) ?? null,
    refreshAfter: isoTime(t.refreshAfter) ?? null,
    url: result.endpoint.href,
  };
  if (result.written) out.file = result.written;
  return out;
}

/** "token for device_X (tenant t1) expires 12:00Z (in 1 h), refresh after ..." for stderr. */
export function summaryLine(result: FetchResult, nowMs: number): string {
  const c = result.token.claims;
  const who = typeof c.sub === 'string' ? c.sub : 'unknown device user';
  const tenant = typeof c.ten === 'string' ? ` on tenant ${c.ten}` : '';
  const exp = result.times.expiresAt;
  const expiry = exp === undefined ? 'with no expiry claim' : `valid until ${isoTime(exp)} (${formatRelative(exp * 1000, nowMs)})`;
  const where = result.written ? `, written to ${result.written}` : '';
  const origin = result.source === 'cache' ? ` Reused (${result.cacheNote}); no request sent.` : ' New from the platform.';
  return `Token for ${who}${tenant}, ${expiry}${where}.${origin}`;
}
