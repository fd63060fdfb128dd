/**
 * Which tenant path a request asks for, and whether it may go there. Matching happens on the path as the
 * platform would read it (percent-decoded, dot segments resolved, empty segments and `;params` dropped,
 * letter case folded), so `/c8y/APPS/`, `/inventory/%2e%2e/apps/x`, `//apps` and `/apps;x/` are all the UI;
 * what is forwarded is the raw path with the `/c8y` prefix cut and dot segments resolved, so encoded
 * characters in ids stay as the caller wrote them.
 */

export type PathVerdict =
  | { ok: true; path: string }
  /** 'ui': the web UI (a device token fetching it gets revoked); 'form': not an origin-form path; 'encoding': undecodable. */
  | { ok: false; reason: 'ui' | 'form' | 'encoding' };

/** The thin-edge form: /c8y/<path> is <path>. */
const TEDGE_PREFIX = /^\/c8y(?=\/|$|\?)/i;

/** Resolves `.`, `..` and empty segments (RFC 3986 5.2.4, plus `//` folded); `.` may be written %2e. */
function resolveSegments(segments: readonly string[], isDot: (s: string) => 0 | 1 | 2): string[] {
  const out: string[] = [];
  for (const seg of segments) {
    const dots = isDot(seg);
    if (seg === '' || dots === 1) continue;
    if (dots === 2) out.pop();
    else out.push(seg);
  }
  return out;
}

const rawDots = (seg: string): 0 | 1 | 2 => {
  const s = seg.replace(/%2e/gi, '.');
  return s === '.' ? 1 : s === '..' ? 2 : 0;
};

/** The path as the platform reads it, for matching only. */
export function normalisedPath(path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  const segments = decoded
    .split(/[/\\]/)
    .map((s) => s.replace(/;.*$/, '').toLowerCase())
    .map((s) => s.replace(/[\s.]+$/, (m) => (/^\.+$/.test(s) ? m : ''))); // trailing spaces and dots: "apps." is "apps" to some servers
  return `/${resolveSegments(segments, (s) => (s === '.' ? 1 : s === '..' ? 2 : 0)).join('/')}`;
}

/** Whether a normalised path is the platform's web UI: apps/... or a script. */
export function isUiPath(normalised: string): boolean {
  return /^\/apps(\/|$)/.test(normalised) || /\.js$/.test(normalised);
}

/**
 * A path with nothing to decode, resolve or trim (no `%`, `.`, `\\`, `;`, `//`, spaces): most requests. It is
 * forwarded as it is and matched lowercased, which is what the general rules give for it; skipping them
 * saves the decoding and the per-segment passes on every request.
 */
const PLAIN = /^(?:\/[\w~!$&'()*+,=:@-]+)*\/?$/;

/** The tenant path (with query) for a request target, or why it is refused. */
export function tenantPath(target: string, allowUi: boolean): PathVerdict {
  // Only origin-form: an absolute-form (http://other.host/...) or asterisk-form target is never followed.
  if (!target.startsWith('/')) return { ok: false, reason: 'form' };
  const q = target.indexOf('?');
  const rawPath = (q < 0 ? target : target.slice(0, q)).replace(TEDGE_PREFIX, '');
  const query = q < 0 ? '' : target.slice(q);
  if (PLAIN.test(rawPath)) {
    if (!allowUi && isUiPath(rawPath.toLowerCase().replace(/(.)\/$/, '$1'))) return { ok: false, reason: 'ui' };
    return { ok: true, path: `${rawPath || '/'}${query}` };
  }
  const normalised = normalisedPath(rawPath);
  if (normalised === undefined) return { ok: false, reason: 'encoding' };
  if (!allowUi && isUiPath(normalised)) return { ok: false, reason: 'ui' };
  const trailing = rawPath.length > 1 && rawPath.endsWith('/') ? '/' : '';
  const path = `/${resolveSegments(rawPath.split('/'), rawDots).join('/')}`;
  return { ok: true, path: `${path === '/' ? '/' : path + trailing}${query}` };
}

/** The path with query values dropped (`?pageSize=&q=`), for logs: a query may hold personal data or a secret. */
export function pathForLog(target: string): string {
  const q = target.indexOf('?');
  if (q < 0) return target;
  const names = target
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((p) => `${p.split('=')[0]}=`);
  return `${target.slice(0, q)}?${names.join('&')}`;
}
