/**
 * Who may change a file: the rules c8ytoken applies before trusting a file it finds in a shared place
 * (a token to reuse, a config file found by searching). OpenSSH's StrictModes and git's safe.directory
 * are the models: a file or folder counts only when it belongs to the current user or to root and no one
 * else can write it. Windows has no POSIX owners or modes: there these checks pass (NTFS ACLs decide).
 */
import { statSync, type Stats } from 'node:fs';

const posix = process.platform !== 'win32';

/** The current user's id, or undefined where there is none (Windows). */
export function currentUid(): number | undefined {
  return posix && typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** True when the user or root owns it (always true on Windows). */
export function ownedByUserOrRoot(info: Pick<Stats, 'uid'>): boolean {
  const uid = currentUid();
  return uid === undefined || info.uid === uid || info.uid === 0;
}

/**
 * True when others may write it, or, with `group`, its group too (never on Windows). A token file counts
 * the group (it is the user's alone); a config file does not (a per-user group and umask 002 are common).
 */
export function writableByOthers(info: Pick<Stats, 'mode'> | undefined, options: { group: boolean }): boolean {
  return posix && info !== undefined && (info.mode & (options.group ? 0o022 : 0o002)) !== 0;
}

/** True for a folder others may write without the sticky bit: anyone there may replace any file (never on Windows). */
export function openFolder(info: Pick<Stats, 'mode'> | undefined): boolean {
  return writableByOthers(info, { group: false }) && (info!.mode & 0o1000) === 0;
}

/** True when group or others may read the file at path (never on Windows, or when it cannot be read). */
export function readableByOthers(path: string): boolean {
  if (!posix) return false;
  try {
    return (statSync(path).mode & 0o044) !== 0;
  } catch {
    return false;
  }
}
