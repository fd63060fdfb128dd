/** How a fetched token is printed: --format token|header|json|env, and the one-line summary for stderr. */
import type { ObtainedToken } from '../../core/token/obtain.js';
import { C8yError } from '../../core/errors.js';
import { formatRelative } from '../../core/time/duration.js';
import { SECRET_CLAIMS } from '../../core/token/jwt.js';
import { isoSeconds, isoTime } from '../../core/time/iso.js';
import { shownText } from '../../core/text.js';
import { exportable, exportLine, type Shell } from '../../output/shell.js';
import { sessionVariables } from '../../core/token/session.js';

export const FORMATS = ['token', 'header', 'json', 'env'] as const;
export type Format = (typeof FORMATS)[number];

/** The token in the requested form, ending in a newline; this and nothing else goes to stdout. */
export function renderToken(result: ObtainedToken, format: Format, shell: Shell): string {
  const { token } = result.token;
  switch (format) {
    case 'token':
      return `${token}\n`;
    case 'header':
      // `curl -H @-` reads header lines from stdin.
      return `Authorization: Bearer ${token}\n`;
    case 'json':
      return `${JSON.stringify(tokenJson(result, true), null, 2)}\n`;
    case 'env': {
      const vars = sessionVariables(result.token, result.tenant);
      // A hostile platform must not inject shell code through a claim: values with control characters are refused.
      const bad = vars.find(([, v]) => !exportable(v));
      if (bad) throw new C8yError('NO_TOKEN', { url: result.endpoint.href, reason: `the value for ${bad[0]} holds control characters; it is not put into a shell` });
      return vars.map(([n, v]) => exportLine(shell, n, v)).join('\n') + '\n';
    }
  }
}

/** The JSON object: the token (when asked for), its claims, where it came from and the derived times as ISO 8601. */
export function tokenJson(result: ObtainedToken, withToken: boolean): Record<string, unknown> {
  const t = result.times;
  const out: Record<string, unknown> = {};
  if (withToken) out.token = result.token.token;
  // Without the token (-o FILE --json), its secret claims stay off stdout as well: inspect masks them too.
  const claims = withToken ? result.token.claims : maskedClaims(result.token.claims);
  Object.assign(out, {
    claims,
    issuedAt: isoTime(t.issuedAt) ?? null,
    expiresAt: isoTime(t.expiresAt) ?? null,
    refreshAfter: isoTime(t.refreshAfter) ?? null,
    url: result.endpoint.href,
    source: result.source,
    state: result.state,
    clockOffsetSeconds: result.offset ? Math.round(result.offset.offsetMs / 1000) : null,
  });
  if (result.written) out.file = result.written;
  return out;
}

/** The claims with the secret ones' values replaced by "(masked)", as inspect --json shows them. */
function maskedClaims(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, SECRET_CLAIMS.has(k) ? '(masked)' : v]));
}

const STATE_TEXT: Record<ObtainedToken['state'], string> = {
  new: 'New from the platform.',
  same: 'The platform returned the same token as before (it issues a new one only after the half-life).',
  reused: 'Reused',
  older: "The platform answered with an older token than the file's, which was kept.",
};

/** "Token for device_X on tenant t1, valid until ... (in 1 h), written to F. New from the platform. New token possible from ..." */
export function summaryLine(result: ObtainedToken, nowMs: number): string {
  const c = result.token.claims;
  const who = typeof c.sub === 'string' ? shownText(c.sub, 80) : 'unknown device user';
  const tenant = typeof c.ten === 'string' ? ` on tenant ${shownText(c.ten, 40)}` : '';
  const exp = result.times.expiresAt;
  const expiry = exp === undefined ? 'with no expiry claim' : `valid until ${isoSeconds(exp * 1000)} (${formatRelative(exp * 1000, nowMs)})`;
  const where = result.written ? `, written to ${result.written}` : '';
  const origin = result.state === 'reused' ? ` Reused (${result.cacheNote}); no request sent.` : ` ${STATE_TEXT[result.state]}${result.cacheNote ? ` (${result.cacheNote})` : ''}`;
  const half = result.times.refreshAfter;
  const next = half === undefined ? '' : ` New token possible from ${isoSeconds(half * 1000)} (${formatRelative(half * 1000, nowMs)}).`;
  return `Token for ${who}${tenant}, ${expiry}${where}.${origin}${next}`;
}
