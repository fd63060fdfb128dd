/** Runs the built CLI as a child process with a clean environment, as a user's shell would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin } from './paths.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  input?: string;
  cwd?: string;
  /** Kill with this signal after the given milliseconds. */
  killAfter?: { ms: number; signal: NodeJS.Signals };
  /** Run as this user (needs root): the child's HOME is given to it. */
  user?: { uid: number; gid: number };
  /** Another copy of bin/c8ytoken.js to run (e.g. one another user can read). */
  bin?: string;
}

/** What a child with piped stdout and stderr printed, and how it ended. */
export function collectOutput(child: ChildProcess): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A fresh, empty folder (used as HOME and working directory, so no real config is found). */
export function tempDir(prefix = 'c8ytoken-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Asynchronous on purpose: the local endpoint runs in the test process and must keep answering. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const home = tempDir('c8ytoken-home-');
  if (options.user) chownSync(home, options.user.uid, options.user.gid);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    NO_COLOR: '1',
    ...options.env,
  };
  const child = spawn(process.execPath, [options.bin ?? bin, ...args], { cwd: options.cwd ?? home, env, stdio: ['pipe', 'pipe', 'pipe'], ...options.user });
  const run = collectOutput(child);
  // A child that exits before reading its stdin closes the pipe: EPIPE on our side is no failure.
  child.stdin.on('error', () => undefined);
  if (options.killAfter) setTimeout(() => child.kill(options.killAfter!.signal), options.killAfter.ms);
  child.stdin.end(options.input ?? '');
  return run.finally(() => rmSync(home, { recursive: true, force: true }));
}
