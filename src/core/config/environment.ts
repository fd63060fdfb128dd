/** The environment c8ytoken hands to programs it starts (watch --exec hooks, exec's command). */
import { OPTIONS } from './options.js';

/** Variables that hold secrets for c8ytoken: the password variables of the option table. */
export const SECRET_VARIABLES: readonly string[] = OPTIONS.filter((row) => row.kind === 'password').flatMap((row) => row.env ?? []);

/** c8ytoken's own proxy variable: it may carry a password in its URL (http://user:pass@host). */
const OWN_PROXY_VARIABLE = 'C8YTOKEN_PROXY';

/**
 * `env` without c8ytoken's secrets: a hook needs the token, never the keystore password, nor the password
 * of c8ytoken's own proxy setting (C8YTOKEN_PROXY keeps its user and host, loses its password). The
 * machine's standard proxy variables (HTTPS_PROXY, ...) are the user's for every program and pass as set.
 */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!SECRET_VARIABLES.includes(name)) out[name] = value;
  const proxy = out[OWN_PROXY_VARIABLE];
  if (proxy !== undefined && proxy.includes('@')) {
    const withoutPassword = urlWithoutPassword(proxy);
    if (withoutPassword === undefined) delete out[OWN_PROXY_VARIABLE];
    else out[OWN_PROXY_VARIABLE] = withoutPassword;
  }
  return out;
}

/** The URL with its password removed; undefined when it cannot be parsed (then it is not passed on at all). */
function urlWithoutPassword(text: string): string | undefined {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
    url.password = '';
    return url.href.replace(/\/$/, '');
  } catch {
    return undefined;
  }
}
