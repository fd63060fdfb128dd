/**
 * Files c8ytoken writes must not be files it reads, nor each other: `fetch -o device.key` would replace
 * the device key with a token, `--meta` on the token file would replace the token with its sidecar, and
 * `cert enroll --cert X --key X` would write the certificate over the only copy of a new key. Checked
 * before any request, with links and relative paths resolved, as a usage error (the command line names
 * the same file twice).
 */
// realpath(3) called synchronously (see files/target.ts: no thread pool round trips at start-up).
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { C8yError } from '../errors.js';

export interface NamedFile {
  path: string;
  /** How the user named it: "-o", "--meta", "--key". */
  option: string;
}

/** USAGE when an output is another output or an input (compared as the files they resolve to). */
export function refuseOverlaps(outputs: readonly NamedFile[], inputs: readonly NamedFile[]): void {
  const resolved = (f: NamedFile): NamedFile & { real: string } => ({ ...f, real: canonical(f.path) });
  const outs = outputs.map(resolved);
  const ins = inputs.map(resolved);
  for (const [i, out] of outs.entries()) {
    const other = [...outs.slice(0, i), ...ins].find((f) => f.real === out.real);
    if (other) {
      throw new C8yError('USAGE', {
        detail: `${out.option} ${out.path} is the same file as ${other.option}${other.path === out.path ? '' : ` ${other.path}`}: writing it would replace that file.`,
        suggestion: `Give ${out.option} a file of its own.`,
      });
    }
  }
}

/** The file a path means: links resolved where they exist, the folder's links where the file does not yet. */
function canonical(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync.native(absolute);
  } catch {
    let dir = dirname(absolute);
    try {
      dir = realpathSync.native(dir);
    } catch {
      // the folder as given
    }
    return join(dir, basename(absolute));
  }
}
