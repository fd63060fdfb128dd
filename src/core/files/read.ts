/**
 * Reading a file c8ytoken did not make: a regular file (never a device or socket, which can block forever
 * or never end), opened without blocking, capped in size (LIMITS). A symbolic link is followed, as every
 * reader of a credential file does; what it points at must be a regular file too. Password files may also
 * be a pipe (`--keystore-password-file <(pass show device)`, a named FIFO): read to its end, capped in size
 * and in time, since a FIFO nobody writes to would otherwise wait forever.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { C8yError, fileError, type FileRole } from '../errors.js';
import { formatDuration } from '../time/duration.js';

// O_NONBLOCK: opening a FIFO for reading waits for a writer; non-blocking, it opens at once and fstat
// says what it is. Windows has no such flag (and no FIFOs at paths).
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

// Synchronous calls for a regular file: a credential or token file is a few kilobytes on a local disk,
// and each asynchronous call was a round trip through libuv's thread pool (five per file, the pool's
// threads started for the first). A pipe is read through the event loop (readPipe), since it may wait.
// A file system that stalls a call (a hung network mount) holds the process until the call returns: no
// signal is answered meanwhile (src/cli/process.ts).
// Numeric descriptors, not FileHandles: a pipe's descriptor is handed to a net.Socket, which closes it.

/** The bytes of a regular file of at most `maxBytes`; C8yError FILE_* otherwise. */
export async function readRegularFile(path: string, role: FileRole, maxBytes: number): Promise<Buffer> {
  return (await readInput(path, role, maxBytes)).data;
}

/**
 * The bytes of a regular file, or of a pipe read until its writer closes it (for password files only):
 * at most `maxBytes`, waiting at most `waitMs` for the writer. `pipe` says which it was (a pipe gives its
 * content once).
 */
export async function readFileOrPipe(path: string, role: FileRole, maxBytes: number, waitMs: number): Promise<{ data: Buffer; pipe: boolean }> {
  return readInput(path, role, maxBytes, waitMs);
}

async function readInput(path: string, role: FileRole, maxBytes: number, pipeWaitMs?: number): Promise<{ data: Buffer; pipe: boolean }> {
  let fd: number | undefined;
  try {
    fd = openSync(path, READ_FLAGS);
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new C8yError('FILE_UNREADABLE', { path, role, reason: 'a folder, not a file' });
    if (info.isFIFO() && pipeWaitMs !== undefined) {
      const pipeFd = fd;
      fd = undefined; // the socket owns it now
      return { data: await readPipe(pipeFd, path, role, maxBytes, pipeWaitMs), pipe: true };
    }
    if (!info.isFile()) throw new C8yError('FILE_UNREADABLE', { path, role, reason: `not a regular file (${kindOf(info)})` });
    if (info.size > maxBytes) throw tooLarge(path, role, maxBytes, info.size);
    // Read one byte more than allowed: a file growing while we read must not slip past the cap.
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > maxBytes) throw tooLarge(path, role, maxBytes, filled);
      if (filled === buffer.length) break;
    }
    return { data: buffer.subarray(0, filled), pipe: false };
  } catch (err) {
    if (err instanceof C8yError) throw err;
    throw fileError(err, path, role);
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

/**
 * A pipe's content up to its end. Through the event loop (a net.Socket on the descriptor), not a thread
 * pool read: a read that waits for a writer can then be given up when the time is over, and the process
 * still exits. Linux reports no hang-up on a FIFO opened without blocking until a writer has come, so a
 * writer that starts late (a password manager asking for its passphrase) is waited for.
 */
function readPipe(fd: number, path: string, role: FileRole, maxBytes: number, waitMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // node:net only now: reading a regular file, which is every start-up's case, does not need it.
    const socket = new (process.getBuiltinModule('node:net').Socket)({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: C8yError | undefined): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.destroy();
      if (err) reject(err);
      else if (size === 0) reject(new C8yError('FILE_UNREADABLE', { path, role, reason: 'a pipe that ended without a password' }));
      else resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(() => finish(new C8yError('FILE_UNREADABLE', { path, role, reason: `a pipe whose writer did not finish within ${formatDuration(waitMs)}`, timeoutMs: waitMs })), waitMs);
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return finish(tooLarge(path, role, maxBytes, size));
      chunks.push(chunk);
    });
    socket.once('end', () => finish(undefined));
    socket.once('error', (err) => finish(fileError(err, path, role)));
  });
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed or never usable: nothing to give back
  }
}

function tooLarge(path: string, role: FileRole, limit: number, actual: number): C8yError {
  return new C8yError('FILE_TOO_LARGE', { path, role, limit, actual, unit: 'bytes' });
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a file';
}
