/**
 * One renewal at a time per identity: `FILE.lock` beside the file a renewal or enrollment replaces, holding
 * the PID of the process that runs it. The watch service (--renew-before) and the daily
 * c8ytoken-cert-renew@ timer can meet on the same files; without the lock each would take the other's
 * `.new` files for stale leftovers and delete them mid-proof.
 *
 * The lock file is made complete under a name of its own (created exclusively) and then linked to
 * `FILE.lock`; link(2) fails when the name exists, so exactly one process gets it and a reader never
 * sees it empty. A lock whose PID no longer runs (a killed process) is stale and taken over: it is first
 * renamed aside (only one process can do that) and checked to be the one that was found stale.
 */
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { C8yError, type FileRole } from '../errors.js';

/** Releases a lock; never throws. */
export type Release = () => Promise<void>;

/** True while a process with this id exists (EPERM: it exists and belongs to another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holderOf(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'latin1').catch(() => undefined);
  const pid = text === undefined ? NaN : Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes `${target}.lock` for this process, or throws OUTPUT_UNWRITABLE (exit 9) naming the PID that holds
 * it. `shown` and `role` name the file in messages.
 */
export async function takeRenewalLock(target: string, shown: string, role: FileRole): Promise<Release> {
  const lockPath = `${target}.lock`;
  const fail = (err: unknown): C8yError => {
    const code = (err as NodeJS.ErrnoException).code;
    return new C8yError('OUTPUT_UNWRITABLE', { path: lockPath, role, otherPath: dirname(lockPath), reason: code ?? String(err), ...(code ? { nodeCode: code } : {}) }, { cause: err });
  };
  const mine = join(dirname(target), `.${basename(target)}.lock.${process.pid}`);
  try {
    const handle = await open(mine, 'wx', 0o600);
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
  } catch (err) {
    await unlink(mine).catch(() => undefined);
    throw fail(err);
  }
  try {
    // Three rounds: a stale lock taken over by another process between our look and our move is looked at again.
    for (let round = 0; round < 3; round++) {
      try {
        await link(mine, lockPath);
        return () => unlink(lockPath).catch(() => undefined);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fail(err);
      }
      const holder = await holderOf(lockPath);
      if (holder !== undefined && running(holder)) throw new C8yError('OUTPUT_UNWRITABLE', { path: shown, role, reason: 'renewal running', pid: holder, otherPath: lockPath });
      const aside = `${mine}.stale`;
      try {
        await rename(lockPath, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = await holderOf(aside);
      if (moved !== holder && moved !== undefined && running(moved)) {
        // Another process took the stale lock over in between: give it back.
        await link(aside, lockPath).catch(() => undefined);
        await unlink(aside).catch(() => undefined);
        throw new C8yError('OUTPUT_UNWRITABLE', { path: shown, role, reason: 'renewal running', pid: moved, otherPath: lockPath });
      }
      await unlink(aside).catch(() => undefined);
    }
    throw new C8yError('OUTPUT_UNWRITABLE', { path: shown, role, reason: 'renewal running', otherPath: lockPath });
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/** Runs `work` holding the renewal lock of `target`. */
export async function withRenewalLock<T>(target: string, shown: string, role: FileRole, work: () => Promise<T>): Promise<T> {
  const release = await takeRenewalLock(target, shown, role);
  try {
    return await work();
  } finally {
    await release();
  }
}
