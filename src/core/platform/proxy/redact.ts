/**
 * Proxy credentials never reach a message, a verbose line, an event or an error: the proxy is shown as
 * `http://user:***@host:port`, and the password travels inside a Secret that prints as `***` however it
 * is printed (template string, JSON, util.inspect), so a settings dump cannot leak it by accident.
 */
import { inspect } from 'node:util';

/** A password that only `reveal()` gives out; every other way of printing it gives `***`. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The password itself: for the Proxy-Authorization header and nothing else. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '***';
  }

  toJSON(): string {
    return '***';
  }

  [inspect.custom](): string {
    return '***';
  }
}

/** The port a proxy URL means: the one it names, else its scheme's default (what https-proxy-agent uses). */
export function proxyPort(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/**
 * A proxy URL for display: scheme, user (when one is given), `***` where a password is (only then: a
 * user without one shows as `user@`), host and the port always written out, so the line names exactly
 * where the connection goes. Path and query are dropped. `hasPassword`: a password is sent though the
 * URL no longer holds it (kept in a Secret, or from a password file).
 */
export function redactProxyUrl(url: URL, hasPassword = url.password !== ''): string {
  const user = hasPassword ? `${url.username}:***@` : url.username ? `${url.username}@` : '';
  return `${url.protocol}//${user}${url.hostname}:${proxyPort(url)}`;
}

/**
 * A proxy setting that may not even parse, for an error about it: everything between the scheme and the
 * last `@` is user information, and what follows its first `:` is shown as `***`. Over-redacting an odd
 * path is fine; showing a password is not. Total on any string.
 */
export function redactProxyText(text: string): string {
  const at = text.lastIndexOf('@');
  if (at === -1) return text;
  let scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  if (at < scheme.length) scheme = '';
  const userinfo = text.slice(scheme.length, at);
  const colon = userinfo.indexOf(':');
  return `${scheme}${colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:***`}${text.slice(at)}`;
}
