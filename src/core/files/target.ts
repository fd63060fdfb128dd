/**
 * Where an output file (a token, a sidecar, a renewed certificate) may be written, decided before any
 * network work. The policy (docs/token-file.md, docs/security.md):
 * - a missing file is created in an existing, writable folder;
 * - a regular file is replaced atomically (write beside it, then rename), never truncated in place;
 * - a symbolic link is followed only when the user or root owns the link (Linux's protected_symlinks
 *   rule for sticky shared folders), and so is every link after it and every link among the folders on the
 *   way: a link of the user's that leads to another user's link gains nothing. At most 40 links, as the
 *   kernel's ELOOP. The file at the end is replaced, and the links stay;
 * - a folder, FIFO, device or socket is refused: writing there hangs, or reaches something that is not a
 *   token file (`-o -` writes to stdout).
 */
// Synchronous calls: a handful of lstat/stat calls on local paths, each a round trip through libuv's
// thread pool when asynchronous (and the pool's four threads started for them), the larger part of what a
// fetch answered from its token file spent on its checks. Nothing else runs meanwhile.
import { accessSync, constants, lstatSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, parse, resolve } from 'node:path';
import { C8yError, type FileRole } from '../errors.js';
import { ownedByUserOrRoot } from './ownership.js';

/** The file to replace (a link resolved), once the policy allows it; OUTPUT_UNWRITABLE otherwise. */
export function outputTarget(path: string, role: FileRole = 'output'): string {
  const refuse = (reason: string, extra: { otherPath?: string } = {}, cause?: unknown): C8yError => new C8yError('OUTPUT_UNWRITABLE', { path, role, reason, ...extra }, { cause });
  const target = followLinks(resolve(path), refuse);
  const final = statsOrUndefined(() => statSync(target));
  if (final?.isDirectory()) throw refuse('a folder');
  if (final && !final.isFile()) throw refuse(final.isFIFO() ? 'a FIFO' : final.isSocket() ? 'a socket' : 'a device', {}, undefined);
  const dir = dirname(target);
  const dirInfo = statsOrUndefined(() => statSync(dir));
  if (!dirInfo) throw refuse('no such folder', { otherPath: dir });
  if (!dirInfo.isDirectory()) throw refuse('not in a folder', { otherPath: dir });
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw refuse('folder not writable', { otherPath: dir }, err);
  }
  return target;
}

/** Links followed in one path at most: Linux's MAXSYMLINKS (ELOOP after 40). */
const MAX_LINKS = 40;

/**
 * The path with every link resolved, component by component as the kernel walks it, each link checked
 * for its owner before it is followed. A missing component ends the walk: the rest is created (a dangling
 * link's target) or refused later (a missing folder).
 */
function followLinks(path: string, refuse: (reason: string, extra?: { otherPath?: string }) => C8yError): string {
  const split = (p: string): string[] => p.split(/[\\/]+/).filter((part) => part !== '' && part !== '.');
  const root = parse(path).root;
  let current = root;
  const rest = split(path.slice(root.length));
  let links = 0;
  while (rest.length > 0) {
    const name = rest.shift()!;
    if (name === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, name);
    const info = statsOrUndefined(() => lstatSync(next));
    if (!info) return join(next, ...rest);
    if (!info.isSymbolicLink()) {
      current = next;
      continue;
    }
    if (++links > MAX_LINKS) throw refuse('too many links', { otherPath: next });
    if (!ownedByUserOrRoot(info)) throw refuse('a link owned by another user', { otherPath: next });
    const to = readlinkSync(next);
    rest.unshift(...split(isAbsolute(to) ? to.slice(parse(to).root.length) : to));
    if (isAbsolute(to)) current = parse(to).root;
  }
  return current;
}

/** The file's information, or undefined when it cannot be had (missing, no permission on the way). */
export function statsOrUndefined(look: () => Stats | undefined): Stats | undefined {
  try {
    return look();
  } catch {
    return undefined;
  }
}
