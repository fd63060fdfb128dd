#!/usr/bin/env node
// `npm run bench:auth-proxy` (and the end of `npm run bench`): what `c8ytoken proxy` adds, measured in this
// run on this machine against the local endpoint (dist/emulator.js). A benchmark, not a test: nothing fails
// on a number; the goals of issue 19 are printed beside the figures.
//
// 1. Latency: GET /tenant/currentTenant one at a time, direct (Node's https client, keep-alive, mTLS with the
//    device certificate) and through the proxy (plain HTTP on loopback, keep-alive), interleaved in rounds;
//    medians and p99, and the difference (goal: at most 1 ms at the median).
// 2. Throughput: as many requests as CONCURRENCY clients get done in SECONDS, direct and through the proxy;
//    the ratio (goal: at least 0.8). The endpoint, the load generator and the proxy share the machine's
//    cores, so the ratio depends on the load: also the CPU time per request (load-independent), of this
//    process (endpoint and clients) and of the proxy. With --pin the proxy runs on the last CPU and this
//    process on the others (taskset), as a proxy on a device runs beside its callers.
// 3. Memory of the proxy process (VmRSS from /proc): at rest, with 200 concurrent connections, and while
//    1 GB is downloaded through it (goal: under 120 MB, flat while streaming).
//
//   npm run bench:auth-proxy                 table on stdout
//   npm run bench:auth-proxy -- --json       one JSON object
//   npm run bench:auth-proxy -- --requests 5000 --seconds 10 --gigabytes 2
//   npm run bench:auth-proxy -- --pin         the proxy on its own CPU (needs taskset and 2 CPUs)
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Emulator } from '../dist/emulator.js';
import { EC_DEVICE, pkiPath } from './bench/fixtures.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '32' },
    gigabytes: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
  },
});
const cpus = availableParallelism();
if (values.pin && cpus < 2) throw new Error('--pin needs at least 2 CPUs');
// This process (endpoint and clients) on all CPUs but the last, the proxy on the last one.
if (values.pin) execFileSync('taskset', ['-a', '-cp', `0-${cpus - 2}`, String(process.pid)], { stdio: 'ignore' });
const REQUESTS = Number(values.requests);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const BYTES = Math.round(Number(values.gigabytes) * 1024 ** 3);
const root = fileURLToPath(new URL('..', import.meta.url));
const pki = (f) => readFileSync(pkiPath(f));
const say = (m) => values.json || process.stderr.write(`${m}\n`);

const emulator = await new Emulator({ clientCheck: 'http' }).start();
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const child = spawn(
  values.pin ? 'taskset' : process.execPath,
  [
    ...(values.pin ? ['-c', String(cpus - 1), process.execPath] : []),
    join(root, 'bin/c8ytoken.js'),
    'proxy',
    '--url',
    emulator.url,
    ...EC_DEVICE,
    '--proxy',
    'none',
    '--listen',
    `127.0.0.1:${port}`,
    '-q',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let stderr = '';
child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
/** CPU time (user + system) in µs: the proxy's from /proc (clock ticks of 10 ms), this process's own. */
const proxyCpu = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};
const ownCpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const direct = new HttpsAgent({ keepAlive: true, maxSockets: 256 });
const local = new HttpAgent({ keepAlive: true, maxSockets: 256 });
const target = new URL(emulator.url);
const tls = { ca: pki('server-ca.crt'), cert: pki('device-ec256.chain.pem'), key: pki('device-ec256.key'), servername: 'localhost' };

/** One GET; resolves with its duration in ms. */
function once(viaProxy, path = '/tenant/currentTenant') {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const done = (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`HTTP ${res.statusCode}`))));
    };
    const req = viaProxy ? httpRequest({ host: '127.0.0.1', port, path, agent: local }, done) : httpsRequest({ host: target.hostname, port: target.port, path, agent: direct, ...tls }, done);
    req.on('error', reject).end();
  });
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

try {
  for (let i = 0; i < 200 && !/listen /.test(stderr); i++) await new Promise((r) => setTimeout(r, 25));
  // Warm both paths (TLS sessions, the token, JIT).
  for (let i = 0; i < 200; i++) await Promise.all([once(false), once(true)]);
  const rest = rss();

  say(`latency: ${REQUESTS} requests each way, one at a time ...`);
  const d = [];
  const p = [];
  for (let i = 0; i < REQUESTS; i++) {
    d.push(await once(false));
    p.push(await once(true));
  }
  const latency = {
    directMedianMs: quantile(d, 0.5),
    directP99Ms: quantile(d, 0.99),
    proxyMedianMs: quantile(p, 0.5),
    proxyP99Ms: quantile(p, 0.99),
  };
  latency.addedMedianMs = latency.proxyMedianMs - latency.directMedianMs;
  latency.addedP99Ms = latency.proxyP99Ms - latency.directP99Ms;

  const throughput = async (viaProxy, concurrency, seconds, sample) => {
    const until = Date.now() + seconds * 1000;
    let done = 0;
    let peak = 0;
    const sampler = sample ? setInterval(() => (peak = Math.max(peak, rss())), 20) : undefined;
    const cpu0 = [ownCpu(), proxyCpu()];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < until) {
          await once(viaProxy);
          done += 1;
        }
      }),
    );
    if (sampler) clearInterval(sampler);
    return { perSecond: done / seconds, peak, ownUs: (ownCpu() - cpu0[0]) / done, proxyUs: (proxyCpu() - cpu0[1]) / done };
  };
  say(`throughput: ${CONCURRENCY} clients for ${SECONDS} s each way ...`);
  const directRun = await throughput(false, CONCURRENCY, SECONDS, false);
  const proxyRun = await throughput(true, CONCURRENCY, SECONDS, false);
  const directRate = directRun.perSecond;
  const proxyRate = proxyRun.perSecond;
  // CPU per request: direct, this process does the client's and the endpoint's TLS; through the proxy, the
  // client is plain HTTP and the proxy does an HTTP server and a TLS client.
  const cpu = { directUs: directRun.ownUs, viaProxyClientAndEndpointUs: proxyRun.ownUs, proxyUs: proxyRun.proxyUs };

  say('memory: 200 concurrent connections ...');
  const at200 = await throughput(true, 200, 3, true);

  say(`memory: ${values.gigabytes} GB downloaded through the proxy ...`);
  let peak = 0;
  const samples = [];
  const sampler = setInterval(() => {
    const r = rss();
    peak = Math.max(peak, r);
    samples.push(r);
  }, 50);
  const started = Date.now();
  await new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: `/download?bytes=${BYTES}`, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  const tail = samples.slice(Math.floor(samples.length / 2));
  const result = {
    node: process.version,
    latency,
    throughput: { directPerSecond: directRate, proxyPerSecond: proxyRate, ratio: proxyRate / directRate, concurrency: CONCURRENCY, pinned: values.pin, cpuPerRequest: cpu },
    memory: {
      restMb: rest,
      at200ConnectionsPeakMb: at200.peak,
      at200PerSecond: at200.perSecond,
      downloadPeakMb: peak,
      downloadSecondHalfSpreadMb: Math.max(...tail) - Math.min(...tail),
      downloadMBps: BYTES / 1024 ** 2 / seconds,
    },
  };
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    const f = (n, unit = '') => `${n.toFixed(n < 10 ? 3 : 1)}${unit}`;
    console.log(`c8ytoken proxy on ${process.version} (goals of issue 19 in brackets)
  latency   direct median ${f(latency.directMedianMs, ' ms')}  p99 ${f(latency.directP99Ms, ' ms')}
            proxy  median ${f(latency.proxyMedianMs, ' ms')}  p99 ${f(latency.proxyP99Ms, ' ms')}
            added  median ${f(latency.addedMedianMs, ' ms')} [<= 1 ms]  p99 ${f(latency.addedP99Ms, ' ms')}
  throughput direct ${f(directRate, ' req/s')}, proxy ${f(proxyRate, ' req/s')}: ratio ${f(result.throughput.ratio)} [>= 0.8] (${CONCURRENCY} clients${values.pin ? ', proxy pinned to its own CPU' : ''})
  CPU/req   direct ${f(cpu.directUs, ' µs')} (client and endpoint); through the proxy ${f(cpu.viaProxyClientAndEndpointUs, ' µs')} (client and endpoint) + ${f(cpu.proxyUs, ' µs')} (proxy)
  memory    at rest ${f(rest, ' MB')}; 200 connections peak ${f(at200.peak, ' MB')} [< 120 MB] at ${f(at200.perSecond, ' req/s')}
            ${values.gigabytes} GB download peak ${f(peak, ' MB')}, second half spread ${f(result.memory.downloadSecondHalfSpreadMb, ' MB')} [flat], ${f(result.memory.downloadMBps, ' MB/s')}`);
  }
} finally {
  child.kill('SIGTERM');
  direct.destroy();
  local.destroy();
  await emulator.stop();
}
