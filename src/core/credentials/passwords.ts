/**
 * Password resolution. Order (design.md): the option's file, the environment variable, the config file
 * (a warning when that file is readable by group or others), then a prompt when stdin is a terminal.
 * Passwords are never argv values, and never appear in a message.
 */
import { readFile } from 'node:fs/promises';
import { fileError } from '../errors.js';
import { readableByOthers, type PasswordSources } from '../config/settings.js';

/** Asks the user for a secret without echo; supplied by the CLI only when stdin is a terminal. */
export type SecretPrompt = (question: string) => Promise<string>;

/** Reads a password file: its content without one trailing newline (echo "pw" > file adds one). */
export async function readPasswordFile(path: string, label: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw fileError(err, path, `${label} file`);
  }
}

/** The password from the first source that has one; undefined when none has and no prompt is possible. */
export async function resolvePassword(src: PasswordSources, prompt: SecretPrompt | undefined, warn: (message: string) => void): Promise<string | undefined> {
  if (src.flagFile !== undefined) return readPasswordFile(src.flagFile, src.label);
  if (src.envValue !== undefined) return src.envValue;
  if (src.configFile !== undefined) return readPasswordFile(src.configFile, src.label);
  if (src.configValue !== undefined) {
    if (src.configPath && readableByOthers(src.configPath)) {
      warn(`${src.configPath} holds the ${src.label} and can be read by other users: chmod 600 ${src.configPath}, or move the password to a passwordFile.`);
    }
    return src.configValue;
  }
  if (prompt) return prompt(`Enter the ${src.label}: `);
  return undefined;
}

export type PasswordName = 'key' | 'keystore' | 'truststore';

/** Resolves each password at most once, and only when it is needed (so no needless prompt). */
export class PasswordBook {
  private readonly cache = new Map<PasswordName, Promise<string | undefined>>();
  constructor(
    private readonly sources: Record<PasswordName, PasswordSources>,
    private readonly prompt: SecretPrompt | undefined,
    private readonly warn: (message: string) => void,
  ) {}

  /** The password, or undefined when none was given and none could be asked for. */
  get(name: PasswordName): Promise<string | undefined> {
    let p = this.cache.get(name);
    if (!p) {
      p = resolvePassword(this.sources[name], this.prompt, this.warn);
      this.cache.set(name, p);
    }
    return p;
  }

  /** True when a password was given without prompting (file, env or config). */
  given(name: PasswordName): boolean {
    const s = this.sources[name];
    return s.flagFile !== undefined || s.envValue !== undefined || s.configFile !== undefined || s.configValue !== undefined;
  }

  /** How to give a password, for hints. */
  howToGive(name: PasswordName): string {
    const s = this.sources[name];
    return `--${name}-password-file FILE or ${s.envName}`;
  }
}
