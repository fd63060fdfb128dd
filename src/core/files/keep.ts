/**
 * What a replacement file takes over from the file it replaces: its permission bits, owner and group.
 * A renewal replaces a file by writing a new one and renaming it over the old one, so without this a
 * documented 0640 root:c8ytoken key would come back as 0600 root and the service reading it through its
 * group would lose it. Before any request, checkReplaceable refuses a file whose owner or group this
 * process could not give to a new file, or that was made read-only: the replacement would change what the
 * administrator set. Windows has no POSIX owners or modes: there only the bits Node emulates apply.
 */
import { constants, type Stats } from 'node:fs';
import { access, stat, type FileHandle } from 'node:fs/promises';
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
 * Gives an open file the attributes: owner and group first (a change of owner may clear set-id bits),
 * then the exact mode (open() applied the umask). Ownership is changed only when it differs, so a user
 * who is not root replacing their own file makes no chown call at all.
 */
export async function applyAttributes(handle: FileHandle, attributes: FileAttributes): Promise<void> {
  if (posix && attributes.uid !== undefined && attributes.gid !== undefined) {
    const now = await handle.stat();
    if (now.uid !== attributes.uid || now.gid !== attributes.gid) await handle.chown(attributes.uid, attributes.gid);
  }
  await handle.chmod(attributes.mode);
}

/**
 * Checks, before anything is asked of the platform, that `target` (a path the output policy allowed) can
 * be replaced by a file with its mode, owner and group: refuses a file without any write permission (an
 * administrator's "do not change"), one owned by another user (only root may give a file to someone
 * else), and one whose group this process is not in. Returns the attributes to keep; undefined when
 * the file does not exist yet.
 */
export async function checkReplaceable(target: string, shownPath: string, role: FileRole): Promise<FileAttributes | undefined> {
  const info = await stat(target).catch(() => undefined);
  if (!info) return undefined;
  const refuse = (reason: string, cause?: unknown): C8yError => new C8yError('OUTPUT_UNWRITABLE', { path: shownPath, role, reason }, { cause });
  // Root may write anything: a file with no write bit at all was made read-only on purpose.
  if ((info.mode & 0o222) === 0) throw refuse('file read-only');
  try {
    await access(target, constants.W_OK);
  } catch (err) {
    throw refuse('file read-only', err);
  }
  const uid = currentUid();
  if (posix && uid !== undefined && uid !== 0) {
    if (info.uid !== uid) throw refuse('file owned by another user');
    const groups = new Set([process.getegid?.(), ...(process.getgroups?.() ?? [])]);
    if (!groups.has(info.gid)) throw refuse('file group not ours');
  }
  return attributesFrom(info);
}
