#!/usr/bin/env node
// `npm run soak [-- --refreshes 1000]`: runs `c8ytoken watch` against the local endpoint with sub-second
// tokens until it has written N new tokens, and reports the watch process's memory (RSS, Linux /proc)
// against a baseline measured in the same run: an idle Node process with `https` loaded. Loopback only;
// bounded in count and in time. The goal: watch's steady state within 1.3x of the baseline.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Emulator } from '../dist/emulator.js';

const { values } = parseArgs({ options: { refreshes: { type: 'string', default: '1000' }, lifetime: { type: 'string', default: '0.3' }, 'max-minutes': { type: 'string', default: '15' } } });
const target = Number(values.refreshes);
const root = fileURLToPath(new URL('..', import.meta.url));
const pki = (f) => join(root, 'fixtures/pki', f);
const statusKb = (pid, field) => {
  const status = `/proc/${pid}/status`;
  if (!existsSync(status)) return undefined;
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(status, 'utf8'))?.[1]);
};
const rssKb = (pid) => statusKb(pid, 'VmRSS');
// RSS counts the pages of the node binary a process has executed (file-backed, shared, reclaimable): a
// process that does TLS handshakes touches more of them than an idle one. RssAnon is its own memory.
const anonKb = (pid) => statusKb(pid, 'RssAnon');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The baseline: what any Node process that can make an HTTPS request holds when idle.
const idle = spawn(process.execPath, ['-e', "require('node:https'); require('node:tls').createSecureContext(); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
await sleep(1500);
const baselineKb = rssKb(idle.pid);
const baselineAnonKb = anonKb(idle.pid);
idle.kill();

const emulator = await new Emulator({ lifetimeSeconds: Number(values.lifetime) }).start();
const file = join(mkdtempSync(join(tmpdir(), 'soak-')), 'token');
const child = spawn(
  process.execPath,
  [
    join(root, 'bin/c8ytoken.js'),
    'watch',
    '--json',
    '-o',
    file,
    '--url',
    emulator.url,
    '--truststore',
    pki('truststore.pem'),
    '--cert',
    pki('device-ec256.chain.pem'),
    '--key',
    pki('device-ec256.key'),
    '--min-retry',
    '100ms',
    '--max-retry',
    '1s',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let written = 0;
let retries = 0;
const samples = [];
const started = Date.now();
const deadline = setTimeout(() => child.kill('SIGTERM'), Number(values['max-minutes']) * 60_000);
let buffer = '';
child.stdout.setEncoding('utf8').on('data', (d) => {
  buffer += d;
  let nl;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    const e = JSON.parse(buffer.slice(0, nl));
    buffer = buffer.slice(nl + 1);
    if (e.event === 'retry' || e.event === 'error') retries += 1;
    if (e.event === 'token' && e.written) {
      written += 1;
      if (written % 50 === 0 || written === 5) {
        samples.push({ refreshes: written, rssKb: rssKb(child.pid), anonKb: anonKb(child.pid) });
        if (written % 200 === 0) process.stderr.write(`${written} refreshes, RSS ${rssKb(child.pid)} kB\n`);
      }
      if (written === target) child.kill('SIGTERM');
    }
  }
});
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
clearTimeout(deadline);
await emulator.stop();
// Steady state: the second half of the run (start-up allocations settled).
const steady = samples.filter((s) => s.refreshes > target / 2).map((s) => s.rssKb);
const peak = Math.max(...samples.map((s) => s.rssKb));
const median = steady.sort((a, b) => a - b)[steady.length >> 1];
const steadyAnon = samples
  .filter((s) => s.refreshes > target / 2)
  .map((s) => s.anonKb)
  .sort((a, b) => a - b)[0 | (steady.length / 2)];
console.log(
  JSON.stringify(
    {
      node: process.version,
      lifetimeSeconds: Number(values.lifetime),
      refreshes: written,
      seconds: (Date.now() - started) / 1000,
      retries,
      tokensIssued: emulator.issued,
      baselineIdleHttpsRssMb: +(baselineKb / 1024).toFixed(1),
      watchSteadyRssMb: +(median / 1024).toFixed(1),
      watchPeakRssMb: +(peak / 1024).toFixed(1),
      ratioSteady: +(median / baselineKb).toFixed(2),
      ratioPeak: +(peak / baselineKb).toFixed(2),
      baselineAnonMb: +(baselineAnonKb / 1024).toFixed(1),
      watchSteadyAnonMb: +(steadyAnon / 1024).toFixed(1),
      ratioSteadyAnon: +(steadyAnon / baselineAnonKb).toFixed(2),
      samples: samples.map((s) => `${s.refreshes}:${(s.rssKb / 1024).toFixed(1)}`).join(' '),
    },
    null,
    2,
  ),
);
if (written < target) {
  console.error(`soak stopped after ${written} refreshes (exit ${code})`);
  process.exitCode = 1;
}
