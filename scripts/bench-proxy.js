#!/usr/bin/env node
// `npm run bench:proxy`: what the proxy support costs, measured in this run on this machine (the figures
// behind docs/adr/0002-proxy.md). A benchmark, not a test: nothing fails on a number.
//
// 1. `c8ytoken fetch` against the local endpoint (dist/emulator.js), direct (--proxy none) and through a
//    CONNECT proxy on loopback (the `proxy` package, --proxy URL), round-robin; medians and their ratio.
//    a) in process: the bundle's main() (dist/c8ytoken.cjs), so the figure is the command's own work
//       (settings, credentials, TLS, the request), without Node's start-up;
//    b) as a user runs it: `node bin/c8ytoken.js fetch ...`, a process each.
// 2. Loading https-proxy-agent in a fresh Node: as an ES module from node_modules, and bundled into one
//    CommonJS file the way scripts/bundle.js bundles the CLI; medians of fresh processes.
// 3. Where Node has built-in proxy support (https.Agent `proxyEnv`, Node 24): does the device certificate
//    reach the platform through it, and how do a 407 and an https:// proxy with its own CA look.
//
//   npm run bench:proxy                 table on stdout
//   npm run bench:proxy -- --runs 50    more requests per case
//   npm run bench:proxy -- --json       one JSON object
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { createProxy } from 'proxy';
import { Emulator } from '../dist/emulator.js';
import { EC_DEVICE, pkiPath } from './bench/fixtures.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '30' }, processes: { type: 'string', default: '15' }, loads: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } },
});
const RUNS = Number(values.runs);
const PROCESSES = Number(values.processes);
const LOADS = Number(values.loads);
const root = fileURLToPath(new URL('..', import.meta.url));
const pki = (f) => readFileSync(pkiPath(f));
const proxyPki = (f) => readFileSync(join(root, 'fixtures/proxy', f));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x) => Math.round(x * 10) / 10;
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

// --- 1. fetch, direct and through the proxy -----------------------------------------------------------
const emulator = await new Emulator().start();
const proxyServer = createProxy(createHttpServer());
const proxyPort = await listen(proxyServer);
let tunnels = 0;
proxyServer.on('connect', () => (tunnels += 1));
const proxyUrl = `http://127.0.0.1:${proxyPort}`;
const fetchArgs = (proxy) => ['fetch', '--url', emulator.url, ...EC_DEVICE, '--proxy', proxy];

// a) In process: the bundle's main(), as bin/c8ytoken.js calls it, with streams of its own.
const cli = createRequire(import.meta.url)('../dist/c8ytoken.cjs');
class Sink extends Writable {
  text = '';
  _write(chunk, _enc, cb) {
    this.text += chunk.toString();
    cb();
  }
}
const home = mkdtempSync(join(tmpdir(), 'c8ytoken-bench-proxy-home-'));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
// Wall time, and CPU time of this process (client, proxy and endpoint alike: all run here), which a busy
// shared machine disturbs less than wall time.
const inProcess = async (proxy, cpu) => {
  const stdout = new Sink();
  const stderr = new Sink();
  const t = performance.now();
  const c = cpuMs();
  const code = await cli.main(fetchArgs(proxy), { stdout, stderr, stdin: () => process.stdin, stdinIsTTY: false, env: { PATH: process.env.PATH, HOME: home }, cwd: home, version: 'bench' });
  if (code !== 0) throw new Error(stderr.text);
  cpu?.push(cpuMs() - c);
  return performance.now() - t;
};
for (let i = 0; i < 3; i++) (await inProcess('none'), await inProcess(proxyUrl));
const direct = [];
const proxied = [];
const directCpu = [];
const proxiedCpu = [];
const tunnelsBefore = tunnels;
for (let i = 0; i < RUNS; i++) {
  direct.push(await inProcess('none', directCpu));
  proxied.push(await inProcess(proxyUrl, proxiedCpu));
}
if (tunnels - tunnelsBefore !== RUNS) throw new Error(`expected ${RUNS} tunnels, the proxy saw ${tunnels - tunnelsBefore}`);
const request = {
  runs: RUNS,
  directMs: round(median(direct)),
  proxiedMs: round(median(proxied)),
  extraMs: round(median(proxied) - median(direct)),
  ratio: Math.round((median(proxied) / median(direct)) * 100) / 100,
  cpuRatio: Math.round((median(proxiedCpu) / median(directCpu)) * 100) / 100,
  directCpuMs: round(median(directCpu)),
  proxiedCpuMs: round(median(proxiedCpu)),
  directRange: [round(Math.min(...direct)), round(Math.max(...direct))],
  proxiedRange: [round(Math.min(...proxied)), round(Math.max(...proxied))],
};

// b) As a user runs it: a process each (asynchronous: the endpoint and the proxy run in this process).
const spawned = (proxy) =>
  new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, [join(root, 'bin/c8ytoken.js'), ...fetchArgs(proxy)], { cwd: home, env: { PATH: process.env.PATH, HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(err))));
  });
await spawned('none');
await spawned(proxyUrl);
const directProc = [];
const proxiedProc = [];
for (let i = 0; i < PROCESSES; i++) {
  directProc.push(await spawned('none'));
  proxiedProc.push(await spawned(proxyUrl));
}
const processes = {
  runs: PROCESSES,
  directMs: round(median(directProc)),
  proxiedMs: round(median(proxiedProc)),
  extraMs: round(median(proxiedProc) - median(directProc)),
  ratio: Math.round((median(proxiedProc) / median(directProc)) * 100) / 100,
};
rmSync(home, { recursive: true, force: true });

// --- 2. loading the library --------------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'c8ytoken-bench-proxy-'));
const PRELOAD = "await Promise.all(['node:net', 'node:tls', 'node:http', 'node:https'].map((m) => import(m)));";
// Each timed snippet prints "wall-ms cpu-ms" of what runs between START and STOP.
const START = 'const t = performance.now(), c = process.cpuUsage();';
const STOP = 'process.stdout.write(`${performance.now() - t} ${(process.cpuUsage(c).user + process.cpuUsage(c).system) / 1000}`);';
const timeIn = (args) => {
  const xs = [];
  for (let i = 0; i < LOADS; i++) {
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    xs.push(r.stdout.split(' ').map(Number));
  }
  return { wallMs: round(median(xs.map((x) => x[0]))), cpuMs: round(median(xs.map((x) => x[1]))) };
};
writeFileSync(join(work, 'entry.js'), "export const load = () => import('https-proxy-agent');\n");
await build({
  entryPoints: [join(work, 'entry.js')],
  outfile: join(work, 'bundle.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  logLevel: 'error',
  nodePaths: [join(root, 'node_modules')],
});
const bundleBytes = readFileSync(join(work, 'bundle.cjs')).length;
const load = {
  processes: LOADS,
  // The built-ins a request loads anyway come first: what is timed is the library's own cost.
  builtins: timeIn(['--input-type=module', '-e', `${START} ${PRELOAD} ${STOP}`]),
  esmImport: timeIn(['--input-type=module', '-e', `${PRELOAD} ${START} await import('https-proxy-agent'); ${STOP}`]),
  bundled: timeIn([
    '--input-type=module',
    '-e',
    `${PRELOAD} const { createRequire } = await import('node:module'); const req = createRequire(import.meta.url); ${START} await req(${JSON.stringify(join(work, 'bundle.cjs'))}).load(); ${STOP}`,
  ]),
  bundledBytes: bundleBytes,
};
rmSync(work, { recursive: true, force: true });

// --- 3. Node's built-in proxy support ----------------------------------------------------------------
const builtin = { node: process.version };
const viaBuiltin = (proxyUrl, extra = {}) =>
  new Promise((resolve) => {
    const before = emulator.requests.length;
    const agent = new HttpsAgent({ proxyEnv: { HTTPS_PROXY: proxyUrl }, ...extra.agent });
    const req = httpsRequest(
      new URL('/devicecontrol/deviceAccessToken', emulator.url),
      {
        method: 'POST',
        agent,
        key: pki('device-ec256.key'),
        cert: pki('device-ec256.chain.pem'),
        ca: [pki('truststore.pem').toString(), ...(extra.ca ?? [])],
        headers: { 'Content-Length': '0' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, platformSawCn: emulator.requests[before]?.clientCn ?? null }));
      },
    );
    req.on('error', (e) => resolve({ error: e.code, message: e.message.replace(/127\.0\.0\.1:\d+|localhost:\d+/g, 'HOST:PORT') }));
    req.end();
  });
{
  const before = tunnels;
  const plain = await viaBuiltin(`http://127.0.0.1:${proxyPort}`);
  builtin.mtlsThroughProxy = { ...plain, tunnelOpened: tunnels > before };
  builtin.supported = tunnels > before;
  if (builtin.supported) {
    const authProxy = createProxy(createHttpServer());
    authProxy.authenticate = () => false;
    builtin.proxyWants407 = await viaBuiltin(`http://127.0.0.1:${await listen(authProxy)}`);
    authProxy.close();
    const tlsProxy = createProxy(createHttpsServer({ key: proxyPki('proxy.key'), cert: proxyPki('proxy.crt') }));
    const tlsPort = await listen(tlsProxy);
    const proxyCa = proxyPki('proxy-ca.crt').toString();
    builtin.httpsProxyCaOnAgent = await viaBuiltin(`https://localhost:${tlsPort}`, { agent: { ca: [proxyCa] } });
    builtin.httpsProxyCaOnRequest = await viaBuiltin(`https://localhost:${tlsPort}`, { ca: [proxyCa] });
    tlsProxy.close();
  }
}

await emulator.stop();
proxyServer.close();

const result = { request, processes, load, builtin };
if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  console.log(`Node ${process.version}: c8ytoken fetch in process (the bundle's main), ${RUNS} each, round-robin, new TLS session each`);
  console.log(`  direct (--proxy none):       median ${request.directMs} ms wall (${request.directRange.join('–')}), ${request.directCpuMs} ms CPU`);
  console.log(`  through a loopback proxy:    median ${request.proxiedMs} ms wall (${request.proxiedRange.join('–')}), ${request.proxiedCpuMs} ms CPU`);
  console.log(`  ratio proxied/direct:        ${request.ratio} wall (extra ${request.extraMs} ms), ${request.cpuRatio} CPU`);
  console.log(`c8ytoken fetch as a process (node bin/c8ytoken.js), ${PROCESSES} each, round-robin:`);
  console.log(`  direct ${processes.directMs} ms, through the proxy ${processes.proxiedMs} ms: ratio ${processes.ratio} (extra ${processes.extraMs} ms)`);
  console.log(`Loading https-proxy-agent in a fresh process, median of ${LOADS} (wall / CPU):`);
  console.log(`  the built-ins a request loads anyway (net, tls, http, https): ${load.builtins.wallMs} / ${load.builtins.cpuMs} ms`);
  console.log(`  then the library as ES modules from node_modules:        ${load.esmImport.wallMs} / ${load.esmImport.cpuMs} ms`);
  console.log(`  then the library bundled as CommonJS (${Math.round(bundleBytes / 1024)} KiB):           ${load.bundled.wallMs} / ${load.bundled.cpuMs} ms`);
  console.log(`Node's built-in proxy (https.Agent proxyEnv): ${builtin.supported ? 'used' : 'ignored: the request went direct'}`);
  for (const [k, v] of Object.entries(builtin)) if (typeof v === 'object') console.log(`  ${k}: ${JSON.stringify(v)}`);
}
