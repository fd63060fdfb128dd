#!/usr/bin/env node
// `npm run bench:proxy`: what the proxy support costs, measured in this run on this machine (the figures
// behind docs/adr/0002-proxy.md). A benchmark, not a test: nothing fails on a number.
//
// 1. A token request in process (postTokenRequest, a new TLS session each) against the local endpoint,
//    direct and through a CONNECT proxy on loopback (the `proxy` package), round-robin; medians.
// 2. Loading https-proxy-agent in a fresh Node: as an ES module from node_modules, and bundled into one
//    CommonJS file the way scripts/bundle.js bundles the CLI; medians of fresh processes.
// 3. Where Node has built-in proxy support (https.Agent `proxyEnv`, Node 24): does the device certificate
//    reach the platform through it, and how do a 407 and an https:// proxy with its own CA look.
//
//   npm run bench:proxy                 table on stdout
//   npm run bench:proxy -- --runs 50    more requests per case
//   npm run bench:proxy -- --json       one JSON object
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { createProxy } from 'proxy';
import { Emulator } from '../dist/emulator/server.js';
import { readCertificates } from '../dist/core/encoding/pem.js';
import { tokenEndpoint } from '../dist/core/platform/endpoint.js';
import { postTokenRequest } from '../dist/core/platform/request.js';
import { createProxyRoute } from '../dist/core/platform/proxy/agent.js';
import { selectProxy } from '../dist/core/platform/proxy/select.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, loads: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
const LOADS = Number(values.loads);
const root = fileURLToPath(new URL('..', import.meta.url));
const pki = (f) => readFileSync(join(root, 'fixtures/pki', f));
const proxyPki = (f) => readFileSync(join(root, 'fixtures/proxy', f));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x) => Math.round(x * 10) / 10;
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

const identity = { key: createPrivateKey(pki('device-ec256.key')), chain: readCertificates(pki('device-ec256.chain.pem'), 'device-ec256', 'certificate'), source: 'device-ec256' };
const trust = { cas: readCertificates(pki('truststore.pem'), 'truststore.pem', 'truststore'), source: 'truststore.pem', warnings: [] };

// --- 1. request cost ---------------------------------------------------------------------------------
const emulator = await new Emulator().start();
const endpoint = tokenEndpoint(emulator.url, 'bench');
const proxyServer = createProxy(createHttpServer());
const proxyPort = await listen(proxyServer);
const route = await createProxyRoute(selectProxy({ flag: `http://127.0.0.1:${proxyPort}`, env: {}, target: endpoint }));
// Wall time, and CPU time of this process (client, proxy and endpoint alike: all run here), which a busy
// shared machine disturbs less than wall time.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const once = async (proxy, cpu) => {
  const t = performance.now();
  const c = cpuMs();
  const res = await postTokenRequest({ endpoint, identity, trust, chainHeader: 'auto', timeoutMs: 10_000, ...(proxy ? { proxy } : {}) });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  cpu?.push(cpuMs() - c);
  return performance.now() - t;
};
for (let i = 0; i < 3; i++) (await once(undefined), await once(route));
const direct = [];
const proxied = [];
const directCpu = [];
const proxiedCpu = [];
for (let i = 0; i < RUNS; i++) {
  direct.push(await once(undefined, directCpu));
  proxied.push(await once(route, proxiedCpu));
}
const request = {
  runs: RUNS,
  directMs: round(median(direct)),
  proxiedMs: round(median(proxied)),
  extraMs: round(median(proxied) - median(direct)),
  directCpuMs: round(median(directCpu)),
  proxiedCpuMs: round(median(proxiedCpu)),
  directRange: [round(Math.min(...direct)), round(Math.max(...direct))],
  proxiedRange: [round(Math.min(...proxied)), round(Math.max(...proxied))],
};

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
      endpoint,
      {
        method: 'POST',
        agent,
        key: identity.key.export({ type: 'pkcs8', format: 'pem' }),
        cert: identity.chain.map((c) => c.toString()).join('\n'),
        ca: [...trust.cas.map((c) => c.toString()), ...(extra.ca ?? [])],
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
  const tunnels = { n: 0 };
  proxyServer.on('connect', () => (tunnels.n += 1));
  const plain = await viaBuiltin(`http://127.0.0.1:${proxyPort}`);
  builtin.mtlsThroughProxy = { ...plain, tunnelOpened: tunnels.n > 0 };
  builtin.supported = tunnels.n > 0;
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

const result = { request, load, builtin };
if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  console.log(`Node ${process.version}, ${RUNS} requests each, round-robin, new TLS session each`);
  console.log(`  token request direct:        median ${request.directMs} ms wall (${request.directRange.join('–')}), ${request.directCpuMs} ms CPU`);
  console.log(`  through a loopback proxy:    median ${request.proxiedMs} ms wall (${request.proxiedRange.join('–')}), ${request.proxiedCpuMs} ms CPU; extra ${request.extraMs} ms wall`);
  console.log(`Loading https-proxy-agent in a fresh process, median of ${LOADS} (wall / CPU):`);
  console.log(`  the built-ins a request loads anyway (net, tls, http, https): ${load.builtins.wallMs} / ${load.builtins.cpuMs} ms`);
  console.log(`  then the library as ES modules from node_modules:        ${load.esmImport.wallMs} / ${load.esmImport.cpuMs} ms`);
  console.log(`  then the library bundled as CommonJS (${Math.round(bundleBytes / 1024)} KiB):           ${load.bundled.wallMs} / ${load.bundled.cpuMs} ms`);
  console.log(`Node's built-in proxy (https.Agent proxyEnv): ${builtin.supported ? 'used' : 'ignored: the request went direct'}`);
  for (const [k, v] of Object.entries(builtin)) if (typeof v === 'object') console.log(`  ${k}: ${JSON.stringify(v)}`);
}
