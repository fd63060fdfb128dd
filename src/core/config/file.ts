/**
 * Finding and parsing the config file. The places are cosmiconfig's for the module name `c8ytoken`
 * (`.c8ytokenrc` as JSON or YAML, `.c8ytokenrc.json|.yaml|.yml`, the `c8ytoken` key of package.json),
 * searched from the working directory upwards, then the user's config folder; the search is our own so
 * that it can apply the rules of docs/adr/0001-config-search.md: it stops at a folder that belongs to
 * another user (git's safe.directory lesson) or that others can write without the sticky bit, ignores a
 * file owned by another user or writable by others, refuses a named config file others can write or that
 * lies in such a folder (OpenSSH's StrictModes), refuses JavaScript configs wherever it meets one, and
 * reports syntax errors by line and column, never with the line's text.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { C8yError, isC8yError, type WarningSink } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readRegularFile } from '../files/read.js';
import { openFolder, ownedByUserOrRoot, writableByOthers } from '../files/ownership.js';

export const MODULE = 'c8ytoken';
/** What is looked for in each folder, in order. */
export const SEARCH_PLACES = ['package.json', `.${MODULE}rc`, `.${MODULE}rc.json`, `.${MODULE}rc.yaml`, `.${MODULE}rc.yml`];
/** Programs where a config could be expected: refused, never run. */
const PROGRAM_PLACES = ['js', 'cjs', 'mjs', 'ts', 'cts', 'mts'].flatMap((ext) => [`.${MODULE}rc.${ext}`, `${MODULE}.config.${ext}`]);
/** In the user's config folder. */
const GLOBAL_PLACES = ['config', 'config.json', 'config.yaml', 'config.yml'];
const GLOBAL_PROGRAMS = ['js', 'cjs', 'mjs', 'ts'].map((ext) => `config.${ext}`);

export interface FoundConfig {
  path: string;
  raw: unknown;
}

export interface FindConfigInput {
  /** --config / C8YTOKEN_CONFIG: this file, no search. */
  named?: string | undefined;
  /** Where the search starts (the working directory). */
  from: string;
  env: NodeJS.ProcessEnv;
  warn: WarningSink;
}

/** The config file to use and its parsed content, or undefined when there is none. */
export async function findConfig(input: FindConfigInput): Promise<FoundConfig | undefined> {
  if (input.named) {
    // Named on purpose, so another user's file is read; one that anyone may change is not, nor one in a
    // folder where anyone may replace it (the search stops at such folders for the same reason).
    if (writableByOthers(statOf(input.named), { group: false })) throw new C8yError('CONFIG_INVALID', { path: input.named, role: 'config', reason: 'writable by others' });
    const folder = dirname(resolve(input.named));
    if (openFolder(statOf(folder))) throw new C8yError('CONFIG_INVALID', { path: input.named, role: 'config', reason: 'in an open folder', otherPath: folder });
    return { path: input.named, raw: await parseConfigFile(input.named, true) };
  }
  const path = searchConfig(input);
  return path ? { path, raw: await parseConfigFile(path, false) } : undefined;
}

/** The path of the config file the search finds (no parsing), or undefined. */
export function searchConfig(input: Omit<FindConfigInput, 'named'>): string | undefined {
  const home = homeOf(input.env);
  for (let dir = resolve(input.from); ;) {
    const dirInfo = statOf(dir);
    // In a folder others can write without the sticky bit, anyone may replace any file, ours included.
    const foreign = dirInfo && (!ownedByUserOrRoot(dirInfo) ? 'belongs to another user' : openFolder(dirInfo) ? 'any user can write (no sticky bit)' : undefined);
    if (foreign) {
      const planted = SEARCH_PLACES.find((name) => statOf(join(dir, name)));
      input.warn(`the config search stopped at ${dir}, which ${foreign}${planted ? `; ${join(dir, planted)} was not read` : ''}`);
      break;
    }
    const program = PROGRAM_PLACES.find((name) => statOf(join(dir, name))?.isFile());
    if (program) throw programConfig(join(dir, program));
    for (const name of SEARCH_PLACES) {
      const path = join(dir, name);
      const info = statOf(path);
      if (!info?.isFile()) continue;
      if (name === 'package.json' && !packageHasKey(path)) continue;
      if (trusted(path, info, input.warn)) return path;
    }
    const parent = dirname(dir);
    if (dir === home || parent === dir) break;
    dir = parent;
  }
  const global = globalConfigDir(input.env, home);
  const program = GLOBAL_PROGRAMS.find((name) => statOf(join(global, name))?.isFile());
  if (program) throw programConfig(join(global, program));
  return GLOBAL_PLACES.map((name) => join(global, name)).find((path) => {
    const info = statOf(path);
    return info?.isFile() && trusted(path, info, input.warn);
  });
}

/** A config file found by searching counts when only the user or root can have written it; otherwise a warning says why it was passed over. */
function trusted(path: string, info: Stats, warn: WarningSink): boolean {
  if (!ownedByUserOrRoot(info)) {
    warn(`${path} belongs to another user and was not read as a config file`);
    return false;
  }
  if (writableByOthers(info, { group: false })) {
    warn(`${path} can be changed by any user (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}) and was not read as a config file; make it yours alone: chmod o-w ${path}`);
    return false;
  }
  return true;
}

const set = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v : undefined);

/** The user's home folder: HOME (USERPROFILE on Windows) as given, else the system's idea of it. */
export function homeOf(env: NodeJS.ProcessEnv): string {
  return set(process.platform === 'win32' ? env.USERPROFILE : env.HOME) ?? homedir();
}

/** The user's config folder for c8ytoken, as cosmiconfig (env-paths) names it on each platform; an empty variable counts as unset. */
export function globalConfigDir(env: NodeJS.ProcessEnv, home = homeOf(env)): string {
  if (process.platform === 'darwin') return join(home, 'Library', 'Preferences', MODULE);
  if (process.platform === 'win32') return join(set(env.APPDATA) ?? join(home, 'AppData', 'Roaming'), MODULE, 'Config');
  return join(set(env.XDG_CONFIG_HOME) ?? join(home, '.config'), MODULE);
}

function programConfig(path: string): C8yError {
  return new C8yError('CONFIG_INVALID', { path, role: 'config', reason: 'a program' });
}

/**
 * True when users other than the owner and the group may write it (never on Windows). The group is left
 * out: with per-user groups (Debian's umask 002) a group-writable file is still the user's alone.
 */
function statOf(path: string): Stats | undefined {
  try {
    // Most places searched do not exist: undefined without an exception (a thrown ENOENT costs ~30 µs,
    // and the search looks at 18 names a folder).
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function packageHasKey(path: string): boolean {
  try {
    // Synchronous: the search is a handful of stat calls; package.json is known to be a small regular file.
    const data = statOf(path)!.size <= LIMITS.configBytes ? (JSON.parse(readFileSync(path, 'utf8')) as unknown) : undefined;
    return typeof data === 'object' && data !== null && Object.hasOwn(data, MODULE);
  } catch {
    return false; // a broken package.json is someone else's problem unless it is meant for us
  }
}

/** Parses a config file as JSON or YAML by its name (package.json: its c8ytoken key). */
export async function parseConfigFile(path: string, named: boolean): Promise<unknown> {
  if (PROGRAM_PLACES.includes(basename(path)) || /\.(c|m)?[jt]s$/.test(path)) throw programConfig(path);
  let text: string;
  try {
    text = (await readRegularFile(path, 'config', LIMITS.configBytes)).toString('utf8');
  } catch (err) {
    if (err instanceof C8yError && err.code === 'FILE_NOT_FOUND') throw new C8yError('CONFIG_UNREADABLE', { path, role: 'config', reason: named ? 'does not exist' : 'vanished' });
    if (isC8yError(err, 'FILE_UNREADABLE', 'FILE_TOO_LARGE')) throw new C8yError('CONFIG_UNREADABLE', { ...err.facts, path, role: 'config' }, { cause: err });
    throw err;
  }
  if (basename(path) === 'package.json') return (parseJson(text, path) as Record<string, unknown> | null)?.[MODULE];
  if (/\.json$/i.test(path)) return parseJson(text, path);
  return parseYaml(text, path);
}

/** JSON with the error's line and column: V8's message can quote the text (a password), so only its position is used. */
function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = String((err as Error).message);
    const position = /at position (\d+)/.exec(message)?.[1];
    const reason =
      /^(Expected [^"]*?|Unexpected end of JSON input|Unexpected non-whitespace character after JSON|Bad control character in string literal|Bad escaped character in JSON)(?= in JSON| at |$)/.exec(
        message,
      )?.[1] ?? 'not valid JSON';
    throw syntaxError(path, reason.replace(/ in JSON$/, ''), position === undefined ? undefined : lineColumn(text, Number(position)));
  }
}

async function parseYaml(text: string, path: string): Promise<unknown> {
  const { parseYamlText } = await import('./yaml.js');
  try {
    return parseYamlText(text, basename(path));
  } catch (err) {
    // js-yaml's `reason` is its words only; `message` and `mark.snippet` quote the file.
    const e = err as { reason?: string; mark?: { line: number; column: number } };
    throw syntaxError(path, e.reason ?? 'not valid YAML', e.mark ? { line: e.mark.line + 1, column: e.mark.column + 1 } : undefined);
  }
}

function syntaxError(path: string, reason: string, at: { line: number; column: number } | undefined): C8yError {
  return new C8yError('CONFIG_UNREADABLE', { path, role: 'config', reason, ...(at ? { line: at.line, column: at.column } : {}) });
}

function lineColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return { line, column: position - before.lastIndexOf('\n') };
}
