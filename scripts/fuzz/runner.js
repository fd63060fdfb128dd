// Runs the built CLI once as a child process with a clean environment and measures it: exit code or
// signal, wall time, peak RSS (GNU time's %M when /usr/bin/time exists, else /proc polling), and kills it
// at the timeout or at the RSS cap. Its process group is killed, so nothing it started outlives it.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const GNU_TIME = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M %U %S %e', 'true']).status === 0 ? '/usr/bin/time' : undefined;

const STDERR_KEEP = 64 * 1024;
const STDOUT_KEEP = 4 * 1024;

/** The environment every case runs in: nothing of the caller's but PATH. */
export function cleanEnv(home, extra = {}) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    NO_COLOR: '1',
    C8YTOKEN_KEYSTORE_PASSWORD: 'changeit',
    C8YTOKEN_TRUSTSTORE_PASSWORD: 'changeit',
    ...extra,
  };
}

function readPeakKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function childPid(pid) {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `node [nodeFlags] bin args` in `home`; stdinFile, when given, is the child's stdin.
 * Resolves { exitCode, signal, timedOut, rssCapped, wallMs, rssKb, cpuMs (user + system, GNU time only), stdout, stderr, stderrBytes, stdoutBytes }.
 */
export function runCli({ bin, args, home, env, timeoutMs, maxRssKb, stdinFile, nodeFlags = [], timeFile, useTime = true }) {
  return new Promise((resolve) => {
    const time = useTime ? GNU_TIME : undefined;
    if (time) rmSync(timeFile, { force: true });
    const argv = [...nodeFlags, bin, ...args];
    const stdinFd = stdinFile ? openSync(stdinFile, 'r') : undefined;
    const start = process.hrtime.bigint();
    const child = time
      ? spawn(time, ['-f', '%M %U %S %e', '-o', timeFile, process.execPath, ...argv], { cwd: home, env, stdio: [stdinFd ?? 'ignore', 'pipe', 'pipe'], detached: true })
      : spawn(process.execPath, argv, { cwd: home, env, stdio: [stdinFd ?? 'ignore', 'pipe', 'pipe'], detached: true });
    if (stdinFd !== undefined) closeSync(stdinFd);
    let stdout = '';
    let stderr = '';
    let stdoutBytes = 0;
    let stderrBytes = 0;
    child.stdout.on('data', (d) => {
      stdoutBytes += d.length;
      if (stdout.length < STDOUT_KEEP) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d) => {
      stderrBytes += d.length;
      if (stderr.length < STDERR_KEEP) stderr += d.toString('utf8');
    });
    let timedOut = false;
    let rssCapped = false;
    let polledKb = 0;
    let nodePid = time ? undefined : child.pid;
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      if (nodePid) polledKb = Math.max(polledKb, readPeakKb(nodePid));
      killGroup();
    }, timeoutMs);
    // Most cases end within a few hundred ms: poll only the ones that run longer (for the RSS cap, and
    // for the peak of a process that is killed, which GNU time cannot report).
    const poll = setInterval(() => {
      nodePid ??= childPid(child.pid);
      if (!nodePid) return;
      polledKb = Math.max(polledKb, readPeakKb(nodePid));
      if (maxRssKb && polledKb > maxRssKb) {
        rssCapped = true;
        killGroup();
      }
    }, 100);
    child.on('error', (err) => {
      stderr += `\n[runner] spawn failed: ${err.message}`;
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      clearInterval(poll);
      let wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      let exitCode = code;
      let signal = sig;
      let rssKb = polledKb;
      let cpuMs;
      if (time) {
        let text = '';
        try {
          text = readFileSync(timeFile, 'utf8');
        } catch {
          // killed before time wrote it
        }
        const lines = text.trim().split('\n');
        const m = /^(\d+) ([\d.]+) ([\d.]+) ([\d.]+)$/.exec(lines[lines.length - 1] ?? '');
        if (m) {
          rssKb = Math.max(rssKb, Number(m[1]));
          cpuMs = Math.round((Number(m[2]) + Number(m[3])) * 1000);
          // GNU time measured the child itself: neither this process's event loop (busy generating the
          // next case) nor a late timer can inflate it. And GNU time wrote its report, so the child ended
          // on its own: a timer that fired late (after the child's end) is not a timeout.
          wallMs = Number(m[4]) * 1000;
          if (timedOut && Number(m[4]) * 1000 < timeoutMs) timedOut = false;
        }
        const s = /Command terminated by signal (\d+)/.exec(text);
        if (s) {
          signal = signalName(Number(s[1]));
          exitCode = null;
        }
        if (!text && (timedOut || rssCapped)) {
          exitCode = null;
          signal = 'SIGKILL';
        }
      }
      resolve({ exitCode, signal, timedOut, rssCapped, wallMs, rssKb, cpuMs, stdout, stderr, stdoutBytes, stderrBytes });
    });
  });
}

const SIGNALS = { 1: 'SIGHUP', 2: 'SIGINT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };
function signalName(n) {
  return SIGNALS[n] ?? `signal ${n}`;
}

/** A per-slot scratch file for GNU time's output. */
export function timeFileFor(dir, slot) {
  return join(dir, `time-${slot}.txt`);
}
