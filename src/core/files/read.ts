/**
 * Reading a file c8ytoken did not make: only a regular file (never a FIFO, device or socket, which can
 * block forever or never end), opened without blocking, capped in size (LIMITS). A symbolic link is
 * followed, as every reader of a credential file does; what it points at must be a regular file too.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { C8yError, fileError, type FileRole } from '../errors.js';

// O_NONBLOCK: opening a FIFO for reading waits for a writer; non-blocking, it opens at once and fstat
// says what it is. Windows has no such flag (and no FIFOs at paths).
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** The bytes of a regular file of at most `maxBytes`; C8yError FILE_* otherwise. */
export async function readRegularFile(path: string, role: FileRole, maxBytes: number): Promise<Buffer> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, READ_FLAGS);
    const info = await handle.stat();
    if (info.isDirectory()) throw new C8yError('FILE_UNREADABLE', { path, role, reason: 'a folder, not a file' });
    if (!info.isFile()) throw new C8yError('FILE_UNREADABLE', { path, role, reason: `not a regular file (${kindOf(info)})` });
    if (info.size > maxBytes) throw tooLarge(path, role, maxBytes, info.size);
    // Read one byte more than allowed: a file growing while we read must not slip past the cap.
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > maxBytes) throw tooLarge(path, role, maxBytes, filled);
      if (filled === buffer.length) break;
    }
    return buffer.subarray(0, filled);
  } catch (err) {
    if (err instanceof C8yError) throw err;
    throw fileError(err, path, role);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function tooLarge(path: string, role: FileRole, limit: number, actual: number): C8yError {
  return new C8yError('FILE_TOO_LARGE', { path, role, limit, actual, unit: 'bytes' });
}

function kindOf(info: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a file';
}
