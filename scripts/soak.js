#!/usr/bin/env node
// `npm run soak [-- --refreshes 1000] [-- --proxy]`: runs `c8ytoken watch` against the local endpoint with
// sub-second tokens until it has written N new tokens, and reports the watch process's memory (RSS, Linux
// /proc) against a baseline measured in the same run: an idle Node process with `https` loaded. With
// --proxy every refresh goes through a CONNECT proxy on loopback (the `proxy` package). With --unit-env
// watch runs with the Environment= of the systemd unit (packaging/systemd/c8ytoken-watch@.service), as
// it runs installed (--env NAME=VALUE adds to it); the baseline is a plain Node either way. Loopback only; bounded in count and in time.
// The goal: watch's steady state within 1.3x of the baseline.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createServer as createHttpServer } from 'node:http';
import { Emulator } from '../dist/emulator.js';
import { EC_DEVICE } from './bench/fixtures.js';

const { values } = parseArgs({
  options: {
    refreshes: { type: 'string', default: '1000' },
    lifetime: { type: 'string', default: '0.3' },
    'max-minutes': { type: 'string', default: '15' },
    proxy: { type: 'boolean', default: false },
    'unit-env': { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
  },
});
// The unit's Environment=NAME=VALUE lines (one assignment per line there).
const unitEnv = values['unit-env']
  ? Object.fromEntries(
      readFileSync(new URL('../packaging/systemd/c8ytoken-watch@.service', import.meta.url), 'utf8')
        .split('\n')
        .flatMap((l) => /^Environment="?([A-Z_][A-Z0-9_]*)=([^"]*)"?$/.exec(l)?.slice(1, 3) ?? [])
        .reduce((pairs, x, i, all) => (i % 2 ? pairs : [...pairs, [x, all[i + 1]]]), []),
    )
  : {};
// --env NAME=VALUE (repeatable): more of watch's environment, to try a setting before it goes into the unit.
for (const pair of values.env) unitEnv[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
const target = Number(values.refreshes);
const root = fileURLToPath(new URL('..', import.meta.url));
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
let proxyServer;
let tunnels = 0;
const proxyArgs = [];
if (values.proxy) {
  const { createProxy } = await import('proxy');
  proxyServer = createProxy(createHttpServer());
  proxyServer.on('connect', () => (tunnels += 1));
  await new Promise((resolve) => proxyServer.listen(0, '127.0.0.1', resolve));
  proxyArgs.push('--proxy', `http://127.0.0.1:${proxyServer.address().port}`);
}
const file = join(mkdtempSync(join(tmpdir(), 'soak-')), 'token');
const child = spawn(process.execPath, [join(root, 'bin/c8ytoken.js'), 'watch', '--json', '-o', file, '--url', emulator.url, ...EC_DEVICE, '--min-retry', '100ms', '--max-retry', '1s', ...proxyArgs], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, ...unitEnv },
});
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
proxyServer?.close();
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
      ...(values.proxy ? { proxyTunnels: tunnels } : {}),
      ...(Object.keys(unitEnv).length ? { watchEnvironment: unitEnv } : {}),
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
