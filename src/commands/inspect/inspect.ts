/** `c8ytoken inspect`: read a token from an argument, a file or stdin, decode it, judge its times. */
// node:fs, not node:fs/promises: loading that (with the readline it brings) was a tenth of inspect's start-up.
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { C8yError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { readRegularFile } from '../../core/files/read.js';
import { statsOrUndefined } from '../../core/files/target.js';
import { cleanToken, decodeJwt, tokenStatus, tokenTimes, type DecodedJwt, type TokenStatus, type TokenTimes } from '../../core/token/jwt.js';

export interface InspectOptions {
  /** A token, a file path, "-" for stdin; undefined reads stdin when it is not a terminal. */
  input?: string | undefined;
  check: boolean;
  /** With check: the window in milliseconds. */
  expiresWithinMs?: number | undefined;
}

export interface InspectIo {
  stdin: () => NodeJS.ReadableStream;
  stdinIsTTY: boolean;
  cwd: string;
  now(): number;
}

export interface InspectResult {
  source: 'argument' | 'file' | 'stdin';
  path?: string;
  jwt: DecodedJwt;
  times: TokenTimes;
  status: TokenStatus;
  nowSeconds: number;
  expiresWithinSeconds?: number;
  /** Whether `--check` passes: valid, and not expiring within the window. */
  checkPassed: boolean;
}

/** Decodes and judges a token on the local clock. Throws TOKEN_MALFORMED (exit 4) for what is not a JWT. */
export async function inspectCommand(options: InspectOptions, io: InspectIo): Promise<InspectResult> {
  const windowSeconds = options.expiresWithinMs !== undefined ? options.expiresWithinMs / 1000 : undefined;
  const { text, source, path } = await readInput(options.input, io);
  const where = source === 'stdin' ? 'from stdin' : source === 'file' ? `in ${path}` : 'given as argument';
  const jwt = decodeJwt(cleanToken(text), where);
  const times = tokenTimes(jwt.claims);
  const nowSeconds = io.now() / 1000;
  const status = tokenStatus(times, nowSeconds, windowSeconds ?? 0);
  const result: InspectResult = { source, jwt, times, status, nowSeconds, checkPassed: status === 'valid' };
  if (path) result.path = path;
  if (windowSeconds !== undefined) result.expiresWithinSeconds = windowSeconds;
  return result;
}

async function readInput(input: string | undefined, io: InspectIo): Promise<{ text: string; source: InspectResult['source']; path?: string }> {
  if (input === '-' || (input === undefined && !io.stdinIsTTY)) return { text: await readStream(io.stdin()), source: 'stdin' };
  if (input === undefined) throw new C8yError('USAGE', { detail: 'No token given.', suggestion: 'Give the token or a token file as argument, or pipe it: c8ytoken fetch | c8ytoken inspect -' });
  const path = resolve(io.cwd, input);
  // Whatever exists at the path is read as a file (a FIFO or device is refused by the reader). Looked at
  // synchronously: the argument is most often the token itself, and an asynchronous lstat of it started
  // libuv's thread pool (four threads) and kept the process alive for them, about a tenth of inspect's run.
  if (statsOrUndefined(() => lstatSync(path, { throwIfNoEntry: false }))) {
    return { text: (await readRegularFile(path, 'token', LIMITS.tokenBytes)).toString('utf8'), source: 'file', path: input };
  }
  const cleaned = cleanToken(input);
  // A token starts with the base64url of '{"'; anything else that looks like a path is a missing file.
  if (cleaned.startsWith('eyJ')) return { text: input, source: 'argument' };
  if (/[./\\]/.test(input)) throw new C8yError('FILE_NOT_FOUND', { path: input, role: 'token' });
  throw new C8yError('TOKEN_MALFORMED', { problem: 'not-found', value: input });
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size > LIMITS.tokenBytes) throw new C8yError('TOKEN_MALFORMED', { problem: 'stdin-too-large', limit: LIMITS.tokenBytes });
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
