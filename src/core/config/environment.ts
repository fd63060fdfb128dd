/** The environment c8ytoken hands to programs it starts (watch --exec hooks, exec's command). */
import { OPTIONS } from './options.js';

/** Variables that hold secrets for c8ytoken: the password variables of the option table. */
export const SECRET_VARIABLES: readonly string[] = OPTIONS.filter((row) => row.kind === 'password').flatMap((row) => row.env ?? []);

/** `env` without the variables that hold c8ytoken's secrets: a hook needs the token, never the keystore password. */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!SECRET_VARIABLES.includes(name)) out[name] = value;
  return out;
}
