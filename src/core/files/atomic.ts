/**
 * Atomic replacement of a file: a temporary file in the same folder (created exclusively and 0600: its
 * final mode, owner and group are given only once it is written, so a key is never readable by a group
 * before it belongs to that group), written and flushed, then renamed over the target. A reader sees the old file or the new
 * one, never a partial or empty one, and a failure leaves the old file as it was and no temporary file.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { C8yError, type FileRole } from '../errors.js';
import { applyAttributes } from './keep.js';

export interface AtomicWriteOptions {
  /** POSIX mode of the new file (0600 for tokens and keys). */
  mode: number;
  role: FileRole;
  /** The owner and group to give the new file (a replaced file's, kept by a renewal); the mode is then exact, whatever the umask. */
  owner?: { uid?: number | undefined; gid?: number | undefined } | undefined;
  /** Sets the file's modification time (ms since the epoch), e.g. to when a token was received. */
  mtimeMs?: number;
}

/** Replaces `target` (a path the output policy allowed) with `data`. */
export async function writeFileAtomic(target: string, data: string | Buffer, options: AtomicWriteOptions): Promise<void> {
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fail = (err: unknown): C8yError => {
    const code = (err as NodeJS.ErrnoException).code;
    return new C8yError('OUTPUT_UNWRITABLE', { path: target, role: options.role, otherPath: dirname(target), reason: code ?? String(err), ...(code ? { nodeCode: code } : {}) }, { cause: err });
  };
  let handle;
  try {
    handle = await open(tmp, 'wx', 0o600);
  } catch (err) {
    throw fail(err);
  }
  try {
    await handle.writeFile(data);
    await applyAttributes(handle, { mode: options.mode, ...options.owner });
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (options.mtimeMs !== undefined) await utimes(tmp, new Date(), new Date(options.mtimeMs));
    await renameOver(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw fail(err);
  }
}

/**
 * rename(2), retried on Windows while another process has the target open (EPERM, EBUSY, EACCES: an
 * antivirus scanner or a reader holding the old token file); POSIX renames over open files.
 */
async function renameOver(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (process.platform !== 'win32' || attempt >= 20 || !(code === 'EPERM' || code === 'EBUSY' || code === 'EACCES')) throw err;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
}
