/**
 * Which proxy, if any, a connection to the platform goes through, and why: a pure decision from the flag,
 * the environment and the config file, so the verbose line can say where it came from and tests need no
 * network. Precedence, highest first: `--proxy` > `C8YTOKEN_PROXY` > `https_proxy`/`HTTPS_PROXY` >
 * `all_proxy`/`ALL_PROXY` > config "proxy". Lower case wins over upper case when both are set, as in curl
 * (which reads `https_proxy` first and its upper-case form only when the lower-case one is absent); an
 * empty variable counts as unset, as curl's getenv does. `http_proxy` is never read: every connection this
 * tool makes is HTTPS. The first source that is set decides; `none` there means no proxy, whatever the
 * sources below it say. NO_PROXY/no_proxy then exempts the target, whichever source named the proxy
 * (curl does the same for -x).
 */
import { C8yError } from '../../errors.js';
import { matchNoProxy } from './no-proxy.js';
import { redactProxyText, redactProxyUrl, Secret } from './redact.js';

/** Where a proxy setting can come from, in the order they are consulted. */
export const PROXY_VARIABLES = ['C8YTOKEN_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'] as const;
/** The bypass lists, lower case first as curl reads them. */
export const NO_PROXY_VARIABLES = ['no_proxy', 'NO_PROXY'] as const;
/** The source named when no proxy is set anywhere. */
export const NO_PROXY_SETTING = 'default';
/** The config file key, as a source name when the caller does not say which file. */
export const CONFIG_SOURCE = 'config "proxy"';

export interface ProxySelectionInput {
  /**
   * The setting already chosen by the option table's merge (flag > PROXY_VARIABLES > config file) and
   * where it came from; absent: chosen here from `flag`, the variables and `config` in the same order.
   */
  chosen?: { value: string; source: string } | undefined;
  /** The --proxy value, when given ('' means no proxy, as curl's --proxy ""). */
  flag?: string;
  /** The config file's "proxy" value, when set, and where it is (e.g. '"proxy" in /etc/c8ytoken.yaml'). */
  config?: string;
  configSource?: string;
  env: NodeJS.ProcessEnv;
  /** Where the connection goes: the host and port NO_PROXY is matched against. */
  target: URL;
}

export interface ProxyDecision {
  /** The proxy to tunnel through; absent: connect directly. Carries the user name but never the password. */
  proxy?: URL;
  /** The password from the proxy URL, percent-decoded; it prints as `***`. */
  password?: Secret;
  /** Where the setting that decided came from: '--proxy', 'C8YTOKEN_PROXY', 'HTTPS_PROXY', ..., 'config "proxy"', or 'default'. */
  source: string;
  /** Why no proxy is used although a setting exists: the NO_PROXY entry that matched, or 'none'. */
  bypass?: string;
  /** The variable the matching NO_PROXY entry came from ('no_proxy' or 'NO_PROXY'). */
  bypassSource?: string;
  /** The proxy that a NO_PROXY entry bypassed, redacted, for the verbose line. */
  bypassed?: string;
}

/** Decides the proxy for one target; throws PROXY_INVALID (exit 3, naming the source) for a bad URL. */
export function selectProxy(input: ProxySelectionInput): ProxyDecision {
  const chosen = input.chosen ? { value: input.chosen.value.trim(), source: input.chosen.source } : firstSetting(input);
  if (!chosen) return { source: NO_PROXY_SETTING };
  const { value, source } = chosen;
  if (value === '' || value.toLowerCase() === 'none') return { source, bypass: 'none' };
  const { proxy, password } = parseProxyUrl(value, source);
  for (const name of NO_PROXY_VARIABLES) {
    const list = input.env[name];
    if (!list) continue;
    // Only the first non-empty list is read, as curl reads no_proxy and then NO_PROXY only when it is unset.
    const entry = matchNoProxy(list, { hostname: input.target.hostname, port: targetPort(input.target) });
    if (entry !== undefined) return { source, bypass: entry, bypassSource: name, bypassed: redactProxyUrl(proxy, password !== undefined) };
    break;
  }
  return password ? { proxy, password, source } : { proxy, source };
}

function firstSetting(input: ProxySelectionInput): { value: string; source: string } | undefined {
  if (input.flag !== undefined) return { value: input.flag.trim(), source: '--proxy' };
  for (const name of PROXY_VARIABLES) {
    const value = input.env[name]?.trim();
    if (value) return { value, source: name };
  }
  if (input.config !== undefined) return { value: input.config.trim(), source: input.configSource ?? CONFIG_SOURCE };
  return undefined;
}

function targetPort(target: URL): number {
  return Number(target.port || (target.protocol === 'http:' ? 80 : 443));
}

/**
 * Reads a proxy URL: http:// or https:// (a bare `host:port` means http://, as in curl), a host, an
 * optional port (default 80 or 443: the scheme's, as Node, Go and Python use; curl alone assumes 1080),
 * optional percent-encoded user and password. Path, query and fragment are ignored.
 */
export function parseProxyUrl(value: string, source: string): { proxy: URL; password?: Secret } {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  const invalid = (problem: 'not-url' | 'scheme' | 'no-host' | 'encoding', reason?: string): C8yError =>
    new C8yError('PROXY_INVALID', { proxy: redactProxyText(value), proxySource: source, problem, ...(reason ? { reason } : {}) });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('not-url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('scheme', url.protocol.slice(0, -1));
  if (!url.hostname) throw invalid('no-host');
  let password: string;
  try {
    decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch {
    throw invalid('encoding');
  }
  const proxy = new URL(`${url.protocol}//${url.host}`);
  // Kept percent-encoded, as WHATWG URL holds it; decoded only for the Proxy-Authorization header.
  proxy.username = url.username;
  return url.password ? { proxy, password: new Secret(password) } : { proxy };
}

/** The verbose line: which proxy is used and which setting chose it, or why none is. */
export function describeProxy(decision: ProxyDecision): string {
  if (decision.proxy) return `proxy ${redactProxyUrl(decision.proxy, decision.password !== undefined)} (from ${decision.source}); TLS to the platform stays end to end through the CONNECT tunnel`;
  if (decision.bypass === 'none') {
    return decision.source === '--proxy' ? 'no proxy: --proxy none' : `no proxy: ${decision.source} is "none"`;
  }
  if (decision.bypass !== undefined) {
    return `no proxy: ${decision.bypassSource ?? 'NO_PROXY'} entry "${decision.bypass}" exempts the platform host (proxy ${decision.bypassed ?? '?'} from ${decision.source} bypassed)`;
  }
  return 'no proxy: none set (--proxy, C8YTOKEN_PROXY, HTTPS_PROXY, ALL_PROXY, config "proxy")';
}
