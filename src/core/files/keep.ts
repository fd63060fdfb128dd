/**
 * What a replacement file takes over from the file it replaces: its permission bits, owner and group.
 * A renewal replaces a file by writing a new one and renaming it over the old one, so without this a
 * documented 0640 root:c8ytoken key would come back as 0600 root and the service reading it through its
 * group would lose it. Before any request, checkReplaceable refuses a file whose group this process
 * could not give to a new file, or that was made read-only: the replacement would change what the
 * administrator set. Only root can give a file to another user: run as another user (the packaged
 * c8ytoken-cert-renew@ unit runs as `c8ytoken` on root:c8ytoken 0640 files in a 2770 folder), the
 * replacement belongs to that user, with the group and mode kept, so the services reading it through
 * the group still can. Windows has no POSIX owners or modes: there only the bits Node emulates apply.
 */
import type { Stats } from 'node:fs';
import { stat, type FileHandle } from 'node:fs/promises';
import { C8yError, type FileRole } from '../errors.js';
import { currentUid } from './ownership.js';

/** The mode, and the owner and group to give (when known: POSIX). */
export interface FileAttributes {
  mode: number;
  uid?: number;
  gid?: number;
}

const posix = process.platform !== 'win32';

/** The attributes of an existing file, or undefined when there is none. */
export async function attributesOf(path: string): Promise<FileAttributes | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info ? attributesFrom(info) : undefined;
}

function attributesFrom(info: Stats): FileAttributes {
  return posix ? { mode: info.mode & 0o7777, uid: info.uid, gid: info.gid } : { mode: info.mode & 0o777 };
}

/**
 * Gives an open file the attributes: owner (root only) and group first (a change of owner may clear
 * set-id bits), then the exact mode (open() applied the umask). Ownership is changed only when it
 * differs, so a user replacing their own file makes no chown call at all.
 */
export async function applyAttributes(handle: FileHandle, attributes: FileAttributes): Promise<void> {
  if (posix && attributes.uid !== undefined && attributes.gid !== undefined) {
    const now = await handle.stat();
    const uid = currentUid() === 0 ? attributes.uid : now.uid;
    if (now.uid !== uid || now.gid !== attributes.gid) await handle.chown(uid, attributes.gid);
  }
  await handle.chmod(attributes.mode);
}

/**
 * Checks, before anything is asked of the platform, that `target` (a path the output policy allowed: its
 * folder is writable) can be replaced by a file with its mode and group: refuses a file without any
 * write permission bit (an administrator's "do not change"; root is not stopped by modes otherwise), and,
 * for a user other than root, one whose group that user is not in. Returns the attributes to keep;
 * undefined when the file does not exist yet.
 */
export async function checkReplaceable(target: string, shownPath: string, role: FileRole): Promise<FileAttributes | undefined> {
  const info = await stat(target).catch(() => undefined);
  if (!info) return undefined;
  const refuse = (reason: string): C8yError => new C8yError('OUTPUT_UNWRITABLE', { path: shownPath, role, reason });
  // Replacing goes through the folder, not the file's own bits: a file with no write bit at all was made read-only on purpose.
  if ((info.mode & 0o222) === 0) throw refuse('file read-only');
  const uid = currentUid();
  if (posix && uid !== undefined && uid !== 0) {
    const groups = new Set([process.getegid?.(), ...(process.getgroups?.() ?? [])]);
    if (!groups.has(info.gid)) throw refuse('file group not ours');
  }
  return attributesFrom(info);
}
