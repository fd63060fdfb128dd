/** `c8ytoken inspect`: read a token from an argument, a file or stdin, decode it, judge its times. */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { C8yError, fileError } from '../core/errors.js';
import { parseDuration } from '../core/time/duration.js';
import { cleanToken, decodeJwt, tokenStatus, tokenTimes, type DecodedJwt, type TokenStatus, type TokenTimes } from '../core/token/jwt.js';

export interface InspectOptions {
  /** A token, a file path, "-" for stdin; undefined reads stdin when it is not a terminal. */
  input?: string | undefined;
  check: boolean;
  expiresWithin?: string | undefined;
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

/** Decodes and judges a token. Throws TOKEN_MALFORMED (exit 4) for what is not a JWT. */
export async function inspectCommand(options: InspectOptions, io: InspectIo): Promise<InspectResult> {
  let windowSeconds: number | undefined;
  if (options.expiresWithin !== undefined) {
    const ms = parseDuration(options.expiresWithin);
    if (ms === undefined) throw new C8yError('USAGE', `--expires-within must be a duration like 90s, 5m, 1h or 1h30m, not "${options.expiresWithin}".`);
    windowSeconds = ms / 1000;
  }
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
  if (input === undefined) {
    throw new C8yError('USAGE', 'No token given.', { hint: 'Give the token or a token file as argument, or pipe it: c8ytoken fetch | c8ytoken inspect -' });
  }
  const path = resolve(io.cwd, input);
  const isFile = await stat(path).then((s) => s.isFile(), () => false);
  if (isFile) {
    try {
      return { text: await readFile(path, 'utf8'), source: 'file', path: input };
    } catch (err) {
      throw fileError(err, input, 'token');
    }
  }
  const cleaned = cleanToken(input);
  // Something with dots that is no file is meant as a token: decode it and say what is wrong with it.
  if (cleaned.split('.').length >= 2 && !/[/\\]/.test(cleaned)) return { text: input, source: 'argument' };
  throw new C8yError('FILE_NOT_FOUND', `"${input.length > 60 ? `${input.slice(0, 57)}...` : input}" is neither a readable file nor a JWT.`, {
    hint: 'Give a token (eyJ...), the path of a token file, or - to read stdin.',
  });
}

const MAX_STDIN = 1024 * 1024;

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_STDIN) throw new C8yError('TOKEN_MALFORMED', 'The input on stdin is over 1 MiB: not a token.', { hint: 'Pipe only the token.' });
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
