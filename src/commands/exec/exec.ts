/**
 * `c8ytoken exec -- CMD ARGS...`: runs CMD with a valid token in its environment (the session variables
 * of `fetch --format env`) and C8Y_TOKEN_FILE, a 0600 file kept fresh on the half-life schedule for as
 * long as CMD runs (watch's loop, in this process). CMD is started once and never restarted: a
 * long-running CMD reads the file. SIGINT, SIGTERM and SIGHUP go to CMD; its exit code is ours.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../../core/config/settings.js';
import { childEnvironment } from '../../core/config/environment.js';
import { sessionVariables } from '../../core/token/session.js';
import { obtainToken } from '../../core/token/obtain.js';
import { keepTokenFresh, type TokenEvent } from '../../core/token/keeper.js';
import type { CommandIo } from '../command.js';

export interface ExecOptions {
  /** CMD and its arguments. */
  command: string[];
  /** Keep this file (else a private temporary one, removed when CMD ends). */
  output?: string | undefined;
  minRetryMs: number;
  maxRetryMs: number;
  slowRetryMs: number;
}

export interface ExecIo extends CommandIo {
  // (CommandIo: env, cwd, warn, progress, prompt, signal, now)
  /** Takes SIGINT, SIGTERM and SIGHUP from the process, to forward them; returns the function that gives them back. */
  takeSignals?(handler: (signal: NodeJS.Signals) => void): () => void;
  /** The refresh loop's events (errors and expiry are worth a line on stderr). */
  emit(event: TokenEvent): void;
  random(): number;
}

export interface ExecResult {
  /** CMD's exit code, or 128 + N when a signal N ended it (127: it could not be started). */
  exitCode: number;
  /** Why CMD did not run, when it did not. */
  startError?: string;
}

/** Gets a token (a failure throws: CMD is not started), runs CMD, keeps the token file fresh until CMD ends. */
export async function execCommand(settings: Settings, options: ExecOptions, io: ExecIo): Promise<ExecResult> {
  const dir = options.output ? undefined : await mkdtemp(join(tmpdir(), 'c8ytoken-exec-'));
  const file = options.output ?? join(dir!, 'token');
  try {
    // The token first: when it cannot be had, CMD must not start.
    const result = await obtainToken(settings, { output: file }, io);
    const env: NodeJS.ProcessEnv = { ...childEnvironment(io.env), C8Y_TOKEN_FILE: file };
    for (const [name, value] of sessionVariables(result.token, result.tenant)) env[name] = value;

    const refresher = new AbortController();
    const [command, ...args] = options.command;
    const child = spawn(command!, args, { stdio: 'inherit', env, shell: false });
    const release = io.takeSignals?.((signal) => void child.kill(signal));
    const started = new Promise<ExecResult>((resolve) => {
      child.once('error', (err: NodeJS.ErrnoException) => resolve({ exitCode: err.code === 'EACCES' ? 126 : 127, startError: err.message }));
      child.once('exit', (code, signal) => resolve({ exitCode: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0) }));
    });
    // The file is kept fresh in the background: watch's schedule, retries and file handling.
    const refreshing = keepTokenFresh(
      settings,
      { output: file, once: false, exitOnError: false, minRetryMs: options.minRetryMs, maxRetryMs: options.maxRetryMs, slowRetryMs: options.slowRetryMs },
      { ...io, signal: refresher.signal },
    ).catch(() => undefined);
    const outcome = await started;
    release?.();
    refresher.abort('exit');
    await refreshing;
    return outcome;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
