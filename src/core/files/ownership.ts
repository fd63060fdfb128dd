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

/** True when group or others may write it (never on Windows). */
export function writableByOthers(info: Pick<Stats, 'mode'>): boolean {
  return posix && (info.mode & 0o022) !== 0;
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
