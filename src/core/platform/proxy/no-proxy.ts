/**
 * NO_PROXY matching, as curl reads the variable (lib/noproxy.c), so that one bypass list serves curl and
 * c8ytoken alike: a comma-separated list of host names (each matches itself and its subdomains; a leading
 * dot is ignored), `*` (everything; curl honours it only as the whole value, we as any entry), IPv4/IPv6 addresses and CIDR ranges (matched only against a target
 * given as an address: no DNS lookup here). Beyond curl, as Go's and Python's readers do: entries may also
 * be separated by blanks, a `*.` prefix reads as `.`, an IPv6 entry may be bracketed, and `host:port` limits
 * an entry to one port. Pure, total and bounded: any string gives an answer, never an exception.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Entries read from one value at most: a bypass list is a few dozen names; the rest is ignored. */
export const MAX_NO_PROXY_ENTRIES = 1000;
/** Longest entry considered: a DNS name has at most 253 characters; an IPv6 CIDR far fewer. */
const MAX_ENTRY_LENGTH = 260;
/** Characters of the value read at most, so that matching time is bounded whatever the environment holds. */
const MAX_VALUE_LENGTH = MAX_NO_PROXY_ENTRIES * (MAX_ENTRY_LENGTH + 1);

/** The host and port a connection goes to; `hostname` as WHATWG URL gives it (IPv6 in brackets). */
export interface NoProxyTarget {
  hostname: string;
  port: number;
}

/** The NO_PROXY entry that exempts target from the proxy, as written in value; undefined when none does. */
export function matchNoProxy(value: string, target: NoProxyTarget): string | undefined {
  const host = normalizeHost(target.hostname);
  if (!host) return undefined;
  const kind = isIPv4(host) ? 'ipv4' : isIPv6(host) ? 'ipv6' : 'name';
  let count = 0;
  for (const raw of value.slice(0, MAX_VALUE_LENGTH).split(/[\s,]+/)) {
    if (!raw) continue;
    if (++count > MAX_NO_PROXY_ENTRIES) break;
    if (raw.length > MAX_ENTRY_LENGTH) continue;
    if (entryMatches(raw, host, kind, target.port)) return raw;
  }
  return undefined;
}

function entryMatches(raw: string, host: string, kind: 'ipv4' | 'ipv6' | 'name', port: number): boolean {
  if (raw === '*') return true;
  const { pattern, entryPort } = splitPort(raw);
  if (entryPort !== undefined && entryPort !== port) return false;
  if (kind === 'name') return nameMatches(pattern, host);
  return addressMatches(pattern, host, kind);
}

/** `host:port`, `[v6]:port`, `v4:port`: the port part when there is one; a bare IPv6 address has none. */
function splitPort(raw: string): { pattern: string; entryPort?: number } {
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(raw);
  if (bracketed) return bracketed[2] !== undefined ? { pattern: bracketed[1]!, entryPort: Number(bracketed[2]) } : { pattern: bracketed[1]! };
  const colons = raw.split(':').length - 1;
  const withPort = colons === 1 ? /^([^:]*):(\d{1,5})$/.exec(raw) : null;
  return withPort ? { pattern: withPort[1]!, entryPort: Number(withPort[2]) } : { pattern: raw };
}

/** curl's rule: `example.com` and `.example.com` both match example.com and www.example.com, not nonexample.com. */
function nameMatches(pattern: string, host: string): boolean {
  let p = pattern.toLowerCase();
  if (p.startsWith('*.')) p = p.slice(1);
  if (p.endsWith('.')) p = p.slice(0, -1);
  if (p.startsWith('.')) p = p.slice(1);
  if (!p) return false;
  return host === p || (host.length > p.length && host.endsWith(p) && host[host.length - p.length - 1] === '.');
}

/** An address or CIDR range against an address target; a `/0` range covers every address of its family. */
function addressMatches(pattern: string, host: string, kind: 'ipv4' | 'ipv6'): boolean {
  const slash = pattern.indexOf('/');
  const address = (slash === -1 ? pattern : pattern.slice(0, slash)).replace(/^\[|\]$/g, '');
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family !== kind) return false;
  const max = family === 'ipv4' ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const suffix = pattern.slice(slash + 1);
    if (!/^\d{1,3}$/.test(suffix)) return false;
    bits = Number(suffix);
    if (bits > max) return false;
  }
  // BlockList compares the numeric addresses, so ::1, 0:0::1 and their other spellings agree.
  try {
    const list = new BlockList();
    list.addSubnet(address, bits, family);
    return list.check(host, family);
  } catch {
    // A form isIP accepts but BlockList does not (a zone id, fe80::1%eth0) matches nothing.
    return false;
  }
}

/** Lower case, brackets and one trailing dot removed: `[::1]` -> `::1`, `Example.COM.` -> `example.com`. */
function normalizeHost(hostname: string): string {
  let h = hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}
