/**
 * The token file: written atomically (a temporary file in the same folder, flushed, then renamed over
 * the target) with mode 0600, no trailing newline. A reader never sees a partial or empty file, and a
 * failed write leaves the old file as it was.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { C8yError } from '../errors.js';

function unwritable(path: string, reason: string, hint: string, cause?: unknown): C8yError {
  return new C8yError('OUTPUT_UNWRITABLE', `Cannot write the token file ${path}: ${reason}.`, { hint, cause });
}

/** Checks the output folder exists and is writable, before any network work is done. */
export async function checkWritable(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw unwritable(path, `${dir} is not a folder`, 'Give a path inside an existing folder.');
  } catch (err) {
    if (err instanceof C8yError) throw err;
    throw unwritable(path, `the folder ${dir} does not exist`, `Create it first: mkdir -p ${dir}`, err);
  }
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    throw unwritable(path, `the folder ${dir} is not writable`, 'Run as a user that may write there, or choose another path.', err);
  }
  try {
    if ((await stat(path)).isDirectory()) throw unwritable(path, 'it is a folder', 'Name a file inside the folder.');
  } catch (err) {
    if (err instanceof C8yError) throw err;
    // Not there yet: fine.
  }
}

/** Replaces the token file atomically with `token` (mode 0600 on POSIX). */
export async function writeTokenFile(path: string, token: string): Promise<void> {
  if (token === '') throw new C8yError('INTERNAL', 'Refusing to write an empty token.');
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(tmp, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw unwritable(path, `the folder ${dirname(path)} does not exist`, `Create it first: mkdir -p ${dirname(path)}`, err);
    throw unwritable(path, `${code ?? String(err)} in ${dirname(path)}`, 'Check the folder permissions and free space.', err);
  }
  try {
    await handle.writeFile(token, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    throw unwritable(path, code ?? String(err), code === 'ENOSPC' ? 'Free some disk space.' : 'Check the folder permissions.', err);
  }
}

/** The token in a file, trimmed; undefined when the file does not exist. */
export async function readTokenFile(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new C8yError('FILE_UNREADABLE', `Cannot read the token file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, {
      hint: 'Check the file permissions.',
      cause: err,
    });
  }
}
