/**
 * Where an output file (a token, a sidecar, a renewed certificate) may be written, decided before any
 * network work. The policy (README "Security notes"):
 * - a missing file is created in an existing, writable folder;
 * - a regular file is replaced atomically (write beside it, then rename), never truncated in place;
 * - a symbolic link is followed only when the user or root owns the link (Linux's protected_symlinks
 *   rule for sticky shared folders); the file it points at is replaced, and the link stays;
 * - a folder, FIFO, device or socket is refused: writing there hangs, or reaches something that is not a
 *   token file (`-o -` writes to stdout).
 */
import { constants } from 'node:fs';
import { access, lstat, readlink, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { C8yError, type FileRole } from '../errors.js';
import { ownedByUserOrRoot } from './ownership.js';

/** The file to replace (a link resolved), once the policy allows it; OUTPUT_UNWRITABLE otherwise. */
export async function outputTarget(path: string, role: FileRole = 'output'): Promise<string> {
  const refuse = (reason: string, extra: { otherPath?: string } = {}, cause?: unknown): C8yError => new C8yError('OUTPUT_UNWRITABLE', { path, role, reason, ...extra }, { cause });
  let target = resolve(path);
  const info = await lstat(target).catch(() => undefined);
  if (info?.isSymbolicLink()) {
    if (!ownedByUserOrRoot(info)) throw refuse('a link owned by another user');
    try {
      target = await realpath(target);
    } catch {
      // A dangling link: its target is created (resolved by hand, one level as the kernel would).
      target = resolve(dirname(target), await readlink(target));
    }
  }
  const final = await stat(target).catch(() => undefined);
  if (final?.isDirectory()) throw refuse('a folder');
  if (final && !final.isFile()) throw refuse(final.isFIFO() ? 'a FIFO' : final.isSocket() ? 'a socket' : 'a device', {}, undefined);
  const dir = dirname(target);
  const dirInfo = await stat(dir).catch(() => undefined);
  if (!dirInfo) throw refuse('no such folder', { otherPath: dir });
  if (!dirInfo.isDirectory()) throw refuse('not in a folder', { otherPath: dir });
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    throw refuse('folder not writable', { otherPath: dir }, err);
  }
  return target;
}
