/**
 * Password resolution. Order (design.md): the option's file, the environment variable, the config file
 * (a warning when that file is readable by group or others), then a prompt when stdin is a terminal,
 * naming the file, with up to three tries. Passwords are never argv values, and never appear in a message.
 */
import { isC8yError, type PasswordRole, type SecretRole, type WarningSink } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readFileOrPipe } from '../files/read.js';
import { readableByOthers } from '../files/ownership.js';

/** Asks the user for a secret without echo; supplied by the CLI only when stdin is a terminal. */
export type SecretPrompt = (question: string) => Promise<string>;

/** Where a password may come from, highest precedence first (flag file, env, config file, config inline). */
export interface PasswordSources {
  role: SecretRole;
  flagFile?: string;
  envName: string;
  envValue?: string;
  configFile?: string;
  configValue?: string;
  /** The config file holding configValue, to warn when others can read it. */
  configPath?: string;
  /** How long a password file that is a pipe may take to be written (--timeout). */
  pipeWaitMs?: number;
}

/** Tries at a prompt before a wrong password is final. */
export const PROMPT_TRIES = 3;

/** How long a password pipe's writer is waited for when the sources do not say (the default --timeout). */
const PIPE_WAIT_MS = 30_000;

/**
 * A password read from a pipe, per sources: a pipe gives its content once (`<(pass show x)` is empty the
 * second time), and watch resolves passwords again at every refresh.
 */
const fromPipes = new WeakMap<PasswordSources, Map<string, string>>();

/**
 * Reads a password file: its content without one trailing newline (echo "pw" > file adds one). The file
 * may be a pipe (`<(pass show NAME)`, a FIFO), read to its end within `waitMs`.
 */
export async function readPasswordFile(path: string, role: SecretRole, waitMs: number): Promise<{ password: string; pipe: boolean }> {
  const { data, pipe } = await readFileOrPipe(path, `${role} password`, LIMITS.passwordBytes, waitMs);
  return { password: data.toString('utf8').replace(/\r?\n$/, ''), pipe };
}

/** A password file of these sources, read once when it is a pipe. */
async function sourcePasswordFile(src: PasswordSources, path: string): Promise<string> {
  const kept = fromPipes.get(src)?.get(path);
  if (kept !== undefined) return kept;
  const { password, pipe } = await readPasswordFile(path, src.role, src.pipeWaitMs ?? PIPE_WAIT_MS);
  if (pipe) fromPipes.set(src, (fromPipes.get(src) ?? new Map<string, string>()).set(path, password));
  return password;
}

/** The password from the first non-interactive source that has one, or undefined. */
export async function givenPassword(src: PasswordSources, warn: WarningSink): Promise<string | undefined> {
  if (src.flagFile !== undefined) return sourcePasswordFile(src, src.flagFile);
  if (src.envValue !== undefined) return src.envValue;
  if (src.configFile !== undefined) return sourcePasswordFile(src, src.configFile);
  if (src.configValue !== undefined) {
    if (src.configPath) warnConfigReadable(src.configPath, src.role, warn);
    return src.configValue;
  }
  return undefined;
}

/** Warns when the config file that holds a password (inline, or inside the proxy URL) can be read by group or others. */
export function warnConfigReadable(configPath: string, role: SecretRole, warn: WarningSink): void {
  if (readableByOthers(configPath)) warn(`${configPath} holds the ${role} password and can be read by other users: chmod 600 ${configPath}, or move the password to a passwordFile.`);
}

interface Resolved {
  value: Promise<string | undefined>;
  prompted: boolean;
  tries: number;
}

/** Resolves each password at most once, and only when it is needed (so no needless prompt). */
export class PasswordBook {
  private readonly resolved = new Map<PasswordRole, Resolved>();
  constructor(
    private readonly sources: Partial<Record<PasswordRole, PasswordSources>>,
    private readonly prompt: SecretPrompt | undefined,
    private readonly warn: WarningSink,
  ) {}

  /** The password for the file at `path`, or undefined when none was given and none can be asked for. */
  get(role: PasswordRole, path: string): Promise<string | undefined> {
    let r = this.resolved.get(role);
    if (!r) {
      const given = this.given(role);
      const ask = !given && this.prompt ? this.prompt : undefined;
      r = {
        value: given ? givenPassword(this.sources[role]!, this.warn) : ask ? ask(`Enter the ${role} password for ${path}: `) : Promise.resolve(undefined),
        prompted: ask !== undefined,
        tries: 1,
      };
      this.resolved.set(role, r);
    }
    return r.value;
  }

  /** True when a password can be asked for (stdin is a terminal). */
  canAsk(): boolean {
    return this.prompt !== undefined;
  }

  /** True when a password was given without prompting (file, env or config). */
  given(role: PasswordRole): boolean {
    const s = this.sources[role];
    if (!s) return false;
    return s.flagFile !== undefined || s.envValue !== undefined || s.configFile !== undefined || s.configValue !== undefined;
  }

  /**
   * After a wrong password: true when it was typed at the prompt and tries are left, and then the next
   * `get` asks again; false when the wrong password is final (given by file, env or config, or the last try).
   */
  retry(role: PasswordRole, path: string): boolean {
    const r = this.resolved.get(role);
    if (!r?.prompted || r.tries >= PROMPT_TRIES || !this.prompt) return false;
    this.warn(`wrong ${role} password for ${path}; try ${r.tries + 1} of ${PROMPT_TRIES}`);
    this.resolved.set(role, { value: this.prompt(`Enter the ${role} password for ${path}: `), prompted: true, tries: r.tries + 1 });
    return true;
  }

  /** Runs `use` with the password, asking again after a wrong one typed at the prompt (up to PROMPT_TRIES). */
  async with<T>(role: PasswordRole, path: string, use: (password: string | undefined) => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await use(await this.get(role, path));
      } catch (err) {
        if (isC8yError(err, 'WRONG_PASSWORD') && err.facts.password === role && this.retry(role, path)) continue;
        throw err;
      }
    }
  }
}
