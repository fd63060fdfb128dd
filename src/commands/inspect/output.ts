/** The inspect report: a readable explanation for people, one JSON object for scripts. */
import type { InspectResult } from './inspect.js';
import { formatDuration, formatRelative } from '../../core/time/duration.js';
import { numericDate, SECRET_CLAIMS } from '../../core/token/jwt.js';
import { isoSeconds, isoTime } from '../../core/time/iso.js';
import { shownText } from '../../core/text.js';
import { timeline } from '../../output/timeline.js';
import { painter as colours } from '../../output/colour.js';

const MASK = '•••••• (masked; --show-secrets shows it)';
const EXPLAINED = new Set(['ten', 'sub', 'tci', 'iss', 'aud', 'iat', 'nbf', 'exp']);

const STATUS_TEXT: Record<InspectResult['status'], string> = {
  valid: 'valid',
  'expiring-soon': 'expiring soon',
  expired: 'EXPIRED',
  'not-yet-valid': 'not yet valid',
  unknown: 'unknown',
};

interface Paint {
  ok(s: string): string;
  warn(s: string): string;
  bad(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

function painter(color: boolean): Paint {
  const c = colours(color);
  return { ok: c.green, warn: c.yellow, bad: c.red, dim: c.dim, bold: c.bold };
}

/** The human report for stdout. */
export function renderInspect(r: InspectResult, opts: { color: boolean; showSecrets: boolean; now: number; timeline?: { unicode: boolean } }): string {
  const p = painter(opts.color);
  const { header, claims } = r.jwt;
  const t = r.times;
  const lines: string[] = [];
  const row = (label: string, value: string): void => void lines.push(`${(label + ':').padEnd(15)} ${value}`);
  // Claims come from whoever made the token: no escape sequences reach the terminal, no wall of text.
  // JSON.stringify gives undefined for undefined (a claim that is absent): never pass that on.
  const str = (v: unknown): string => shownText(typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));

  const headerBits = [`alg ${str(header.alg ?? '(none)')}`, header.typ !== undefined ? `typ ${str(header.typ)}` : '', header.kid !== undefined ? `kid ${str(header.kid)}` : ''].filter(Boolean);
  lines.push(`${p.bold('JWT')} ${headerBits.join(', ')} ${p.dim('(signature not verified: decoding only)')}`);
  lines.push(statusLine(r, p));
  if (t.problems.length) for (const problem of t.problems) lines.push(p.warn(`  ! ${shownText(problem)}`));
  const ahead = t.issuedAt !== undefined ? t.issuedAt - r.nowSeconds : 0;
  // inspect judges on this machine's clock; a token issued "in the future" says that clock is behind.
  if (ahead > 60) lines.push(p.warn(`  ! iat is ${formatDuration(ahead * 1000)} in the future: this machine's clock is probably behind the issuer's (check NTP)`));
  if (opts.timeline) {
    const clock = (ms: number): string => isoSeconds(ms).slice(11, 16);
    const drawn = timeline(t.issuedAt ?? t.notBefore, t.expiresAt, opts.now, { unicode: opts.timeline.unicode, clock });
    if (drawn.length) lines.push('', ...drawn.map((l) => `  ${l}`));
  }
  lines.push('');
  row('Tenant', claims.ten !== undefined ? str(claims.ten) : p.dim('(no ten claim)'));
  row('Device user', claims.sub !== undefined ? str(claims.sub) : p.dim('(no sub claim)'));
  const deviceToken = claims.tci === 'device_token_config';
  row('Token type', deviceToken ? 'device access token (tci device_token_config)' : claims.tci !== undefined ? `tci ${str(claims.tci)} (not a device token)` : p.dim('(no tci claim)'));
  row('Issuer', claims.iss !== undefined ? str(claims.iss) : p.dim('(no iss claim)'));
  if (claims.aud !== undefined && (claims.iss === undefined || str(claims.aud) !== str(claims.iss))) row('Audience', str(claims.aud));
  lines.push('');
  for (const [name, label] of [
    ['iat', 'Issued at'],
    ['nbf', 'Not before'],
    ['exp', 'Expires'],
  ] as const) {
    row(label, timeCell(claims[name], opts.now, p));
  }
  row('Lifetime', t.lifetimeSeconds !== undefined ? formatDuration(t.lifetimeSeconds * 1000) : p.dim('(cannot be worked out)'));
  row(
    'Refresh after',
    t.refreshAfter !== undefined
      ? `${isoSeconds(t.refreshAfter * 1000)} (${formatRelative(t.refreshAfter * 1000, opts.now)}) ${p.dim('half-life: the platform gives a new token only after this')}`
      : p.dim('(cannot be worked out)'),
  );
  const others = Object.entries(claims).filter(([k]) => !EXPLAINED.has(k));
  if (others.length) {
    lines.push('');
    lines.push('Other claims:');
    for (const [k, v] of others) lines.push(`  ${shownText(k, 60)}: ${SECRET_CLAIMS.has(k) && !opts.showSecrets ? MASK : str(v)}`);
  }
  lines.push(`Signature:      ${opts.showSecrets ? r.jwt.signature : MASK}`);
  return lines.join('\n') + '\n';
}

function statusLine(r: InspectResult, p: Paint): string {
  const t = r.times;
  const nowMs = r.nowSeconds * 1000;
  const text = STATUS_TEXT[r.status];
  switch (r.status) {
    case 'valid':
      return `Status:         ${p.ok(text)}, expires ${formatRelative(t.expiresAt! * 1000, nowMs)}`;
    case 'expiring-soon':
      return `Status:         ${p.warn(text)}, expires ${formatRelative(t.expiresAt! * 1000, nowMs)} (within ${formatDuration(r.expiresWithinSeconds! * 1000)})`;
    case 'expired':
      return `Status:         ${p.bad(text)} ${formatRelative(t.expiresAt! * 1000, nowMs)}`;
    case 'not-yet-valid':
      return `Status:         ${p.warn(text)}, valid ${formatRelative(t.notBefore! * 1000, nowMs)}`;
    case 'unknown':
      return `Status:         ${p.warn(text)}: the expiry cannot be worked out`;
  }
}

function timeCell(raw: unknown, now: number, p: Paint): string {
  if (raw === undefined) return p.dim('(absent)');
  const seconds = numericDate(raw);
  if (seconds === undefined) return `${shownText(JSON.stringify(raw) ?? '')} ${p.warn('(not a usable date)')}`;
  return `${JSON.stringify(raw)}  ${isoSeconds(seconds * 1000)}  (${formatRelative(seconds * 1000, now)})`;
}

/** The --json object: header, claims (raw values), derived times and status. */
export function inspectJson(r: InspectResult, showSecrets = false): Record<string, unknown> {
  const t = r.times;
  const claims = Object.fromEntries(Object.entries(r.jwt.claims).map(([k, v]) => [k, SECRET_CLAIMS.has(k) && !showSecrets ? '(masked)' : v]));
  const out: Record<string, unknown> = {
    header: r.jwt.header,
    claims,
    issuedAt: isoTime(t.issuedAt) ?? null,
    notBefore: isoTime(t.notBefore) ?? null,
    expiresAt: isoTime(t.expiresAt) ?? null,
    refreshAfter: isoTime(t.refreshAfter) ?? null,
    lifetimeSeconds: t.lifetimeSeconds ?? null,
    expiresInSeconds: t.expiresAt !== undefined ? Math.round(t.expiresAt - r.nowSeconds) : null,
    status: r.status,
    signatureVerified: false,
    problems: t.problems,
  };
  if (showSecrets) out.signature = r.jwt.signature;
  return out;
}
