/**
 * The token file: written atomically with mode 0600 and no trailing newline, its modification time set to
 * when the token arrived (the token's age on this device's own clock, see token/clock.ts), read back for
 * reuse only when nobody else could have put it there.
 */
// Synchronous calls on one local file (see files/target.ts: no thread pool round trips at start-up).
import { chmodSync, lstatSync, statSync } from 'node:fs';
import { C8yError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { writeFileAtomic } from '../files/atomic.js';
import { readRegularFile } from '../files/read.js';
import { currentUid, ownedByUserOrRoot, writableByOthers } from '../files/ownership.js';
import { outputTarget, statsOrUndefined } from '../files/target.js';

/** Checks, before any network work, that the token can be written there (see files/target.ts). */
export function checkWritable(path: string): string {
  return outputTarget(path, 'token');
}

/** Replaces the token file atomically (mode 0600 on POSIX); `receivedAtMs` becomes its modification time. */
export async function writeTokenFile(path: string, token: string, receivedAtMs?: number): Promise<void> {
  if (token === '') throw new C8yError('INTERNAL', { detail: 'refusing to write an empty token' });
  const target = outputTarget(path, 'token');
  await writeFileAtomic(target, token, { mode: 0o600, role: 'token', ...(receivedAtMs !== undefined ? { mtimeMs: receivedAtMs } : {}) });
}

/** The token in a file, trimmed, for comparing with what is held; undefined when there is no readable token file. */
export async function readTokenFile(path: string): Promise<string | undefined> {
  try {
    return (await readRegularFile(path, 'token', LIMITS.tokenBytes)).toString('utf8').trim();
  } catch {
    return undefined;
  }
}

export interface TrustedToken {
  token?: string;
  /** The file's modification time: when c8ytoken received the token. */
  mtimeMs?: number;
  /** Why there is no token to reuse (completes "the token file ..."). */
  note?: string;
}

/**
 * The token of a file that may be reused: a regular file (a link only when the user or root owns it),
 * owned by the current user, not writable by others (OpenSSH's StrictModes rule); brought back to 0600.
 * In a shared folder another user cannot plant a token this way, nor keep a file they can change.
 */
export async function readTrustedTokenFile(path: string): Promise<TrustedToken> {
  const link = statsOrUndefined(() => lstatSync(path));
  if (!link) return { note: 'does not exist' };
  if (link.isSymbolicLink() && !ownedByUserOrRoot(link)) return { note: 'is a link owned by another user' };
  const info = statsOrUndefined(() => statSync(path));
  if (!info?.isFile()) return { note: 'is not a regular file' };
  const uid = currentUid();
  if (uid !== undefined && info.uid !== uid) return { note: 'belongs to another user' };
  if (writableByOthers(info, { group: true })) return { note: 'is writable by other users' };
  let text: string;
  try {
    text = (await readRegularFile(path, 'token', LIMITS.tokenBytes)).toString('utf8').trim();
  } catch {
    return { note: 'cannot be read' };
  }
  if (!text) return { note: 'holds no token' };
  if (uid !== undefined && (info.mode & 0o077) !== 0) {
    try {
      chmodSync(path, 0o600);
    } catch {
      // read-only file system: the token is still the user's own
    }
  }
  return { token: text, mtimeMs: info.mtimeMs };
}
