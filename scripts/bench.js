#!/usr/bin/env node
// `npm run bench`: what c8ytoken costs against the floor (bare Node, a minimal Node client) and the peer
// (curl), measured in the same run on the same machine. Whole processes, a warm-up, then several runs;
// medians, min–max spread and ratios. Cases run round-robin, so drift in the machine's speed affects
// all alike. A benchmark, not a test: nothing fails on a number.
//
//   npm run bench                 table on stdout
//   npm run bench -- --runs 20    more runs per case
//   npm run bench -- --json       one JSON object, for tracking
//   npm run bench -- --instructions  also count instructions of one run of each case under valgrind
//                                 (callgrind): repeatable whatever else the machine is doing (without
//                                 address randomisation, setarch -R, and with V8's random seed fixed,
//                                 the same run counts the same to a few thousand instead of ±5 million)
//   npm run bench -- --vs DIR     also runs each c8ytoken case with the checkout in DIR (built: its
//                                 dist/), round-robin with the others, and prints this one's ratio to it:
//                                 before and after a change from one run (git worktree add DIR COMMIT)
//   npm run bench -- --no-extra-ca-certs  every case without NODE_EXTRA_CA_CERTS (where the machine sets
//                                 it, each Node start parses that bundle first, which hides the program's
//                                 own cost in the ratios to bare Node: run both ways and report both)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    instructions: { type: 'boolean', default: false },
    'no-extra-ca-certs': { type: 'boolean', default: false },
    vs: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
if (values['no-extra-ca-certs']) delete process.env.NODE_EXTRA_CA_CERTS;
const WARMUP = Number(values.warmup);
const root = fileURLToPath(new URL('..', import.meta.url));
const pki = (f) => join(root, 'fixtures/pki', f);
const bin = join(root, 'bin/c8ytoken.js');
const node = process.execPath;
// GNU time gives CPU time and peak memory of the child; without it only wall time is measured.
const gnuTime = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%e', 'true']).status === 0 ? '/usr/bin/time' : undefined;
const hasCurl = spawnSync('curl', ['--version']).status === 0;

/** Starts the local endpoint in its own process (spawnSync below would block one in this process). */
async function startEndpoint() {
  const child = spawn(node, [join(root, 'scripts/emulator.js'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /on (https:\/\/localhost:\d+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`endpoint exited ${code}: ${err}`)));
  });
  return { url, stop: () => child.kill() };
}

function once(cmd, args, env) {
  const timed = gnuTime ? [gnuTime, ['-f', 'BENCH %e %U %S %M', cmd, ...args]] : [cmd, args];
  const start = process.hrtime.bigint();
  // stdin on /dev/null, as cron and systemd start a service
  const r = spawnSync(timed[0], timed[1], { env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const m = /BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  return { wall, cpu: m ? (Number(m[2]) + Number(m[3])) * 1000 : undefined, rssKb: m ? Number(m[4]) : undefined };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** Runs every case round-robin, so a machine that slows down mid-run affects each case alike. */
function measureAll(cases, env) {
  const samples = new Map(cases.map(([name]) => [name, []]));
  for (let round = 0; round < WARMUP + RUNS; round++) {
    for (const [name, cmd, args] of cases) {
      const s = once(cmd, args, env);
      if (round >= WARMUP) samples.get(name).push(s);
    }
    if (!values.json) process.stderr.write(`round ${round + 1}/${WARMUP + RUNS}\r`);
  }
  return Object.fromEntries(cases.map(([name]) => [name, summarize(name, samples.get(name))]));
}

function summarize(name, samples) {
  const walls = samples.map((s) => s.wall);
  const cpus = samples.map((s) => s.cpu).filter((x) => x !== undefined);
  const rss = samples.map((s) => s.rssKb).filter((x) => x !== undefined);
  return {
    name,
    wallMs: median(walls),
    wallMinMs: Math.min(...walls),
    wallMaxMs: Math.max(...walls),
    cpuMs: cpus.length ? median(cpus) : null,
    peakRssMb: rss.length ? Math.max(...rss) / 1024 : null,
  };
}

const endpoint = await startEndpoint();
const results = {};
try {
  const env = { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' };
  const common = ['fetch', '--url', endpoint.url, '--truststore', pki('truststore.pem'), '-q'];
  const pem = [...common, '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')];
  const token = spawnSync(node, [bin, ...pem], { encoding: 'utf8' }).stdout.trim();
  // A token file before its half-life: fetch -o answers from it without a request.
  const cacheFile = join(mkdtempSync(join(tmpdir(), 'c8ytoken-bench-')), 'token');
  spawnSync(node, [bin, ...pem, '-o', cacheFile]);
  const cases = [
    ['node -e 0', node, ['-e', '0']],
    ['c8ytoken --version', node, [bin, '--version']],
    ['c8ytoken inspect TOKEN', node, [bin, 'inspect', token]],
    ['minimal Node https client (PEM)', node, [join(root, 'scripts/bench/min-client.js'), endpoint.url, pki('device-rsa.chain.pem'), pki('device-rsa.key'), pki('truststore.pem')]],
    ...(hasCurl
      ? [
          [
            'curl --cert --key --cacert',
            'curl',
            [
              '-sf',
              '-X',
              'POST',
              '-H',
              'Accept: application/json',
              '--cert',
              pki('device-rsa.chain.pem'),
              '--key',
              pki('device-rsa.key'),
              '--cacert',
              pki('truststore.pem'),
              `${endpoint.url}/devicecontrol/deviceAccessToken`,
            ],
          ],
        ]
      : []),
    ['c8ytoken fetch (PEM)', node, [bin, ...pem]],
    ['c8ytoken fetch (PKCS#12, OpenSSL 3)', node, [bin, ...common, '--keystore', pki('device-rsa.p12')]],
    ['c8ytoken fetch (PKCS#12, legacy)', node, [bin, ...common, '--keystore', pki('device-rsa.legacy.p12')]],
    ['c8ytoken fetch (PKCS#12, keytool)', node, [bin, ...common, '--keystore', pki('device-rsa.keytool.p12')]],
    ['c8ytoken fetch (JKS)', node, [bin, ...common, '--keystore', pki('device-rsa.jks')]],
    ['c8ytoken fetch -o FILE (cached, PEM)', node, [bin, ...pem, '-o', cacheFile]],
  ];
  // --vs: the same c8ytoken cases with the other checkout's bin (its own token file for the cached case).
  const other = values.vs ? join(values.vs, 'bin/c8ytoken.js') : undefined;
  if (other) {
    if (!existsSync(other)) throw new Error(`--vs ${values.vs}: no bin/c8ytoken.js there`);
    const otherCache = join(mkdtempSync(join(tmpdir(), 'c8ytoken-bench-')), 'token');
    spawnSync(node, [other, ...pem, '-o', otherCache]);
    for (const [name, cmd, args] of cases.filter(([, , args]) => args[0] === bin)) {
      cases.push([`${name} [--vs]`, cmd, [other, ...args.slice(1).map((a) => (a === cacheFile ? otherCache : a))]]);
    }
  }
  Object.assign(results, measureAll(cases, env));
  if (values.instructions) {
    if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('--instructions needs valgrind');
    const valgrind = spawnSync('setarch', ['-R', 'true']).status === 0 ? ['setarch', '-R', 'valgrind'] : ['valgrind'];
    for (const [name, cmd, args] of cases) {
      const seeded = cmd === node ? ['--random-seed=1', ...args] : args;
      const r = spawnSync(valgrind[0], [...valgrind.slice(1), '--tool=callgrind', '--callgrind-out-file=/dev/null', cmd, ...seeded], {
        env: { ...process.env, NO_COLOR: '1', ...env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const m = /Collected : (\d+)/.exec(r.stderr ?? '');
      results[name].instructions = m ? Number(m[1]) : null;
      if (!values.json) process.stderr.write(`counted ${name}\n`);
    }
  }
} finally {
  endpoint.stop();
}

const ratio = (a, b) => (results[a] && results[b] ? results[a].wallMs / results[b].wallMs : null);
// Medians are the measure; the ratio of the fastest runs shows the intrinsic cost when the machine is noisy.
const minRatio = (a, b) => (results[a] && results[b] ? results[a].wallMinMs / results[b].wallMinMs : null);
const instructionRatio = (a, b) => (results[a]?.instructions && results[b]?.instructions ? results[a].instructions / results[b].instructions : null);
const comparisons = [
  ['c8ytoken --version', 'node -e 0', 1.1],
  ['c8ytoken inspect TOKEN', 'node -e 0', 1.1],
  ['c8ytoken fetch (PEM)', 'minimal Node https client (PEM)', 1.05],
  ['c8ytoken fetch (PEM)', 'curl --cert --key --cacert', null],
  ['c8ytoken fetch (PKCS#12, OpenSSL 3)', 'c8ytoken fetch (PEM)', 1.1],
  ['c8ytoken fetch (PKCS#12, legacy)', 'c8ytoken fetch (PEM)', 1.1],
  ['c8ytoken fetch (PKCS#12, keytool)', 'c8ytoken fetch (PEM)', 1.1],
  ['c8ytoken fetch (JKS)', 'c8ytoken fetch (PEM)', 1.1],
  ['c8ytoken fetch -o FILE (cached, PEM)', 'node -e 0', 1.2],
  // --vs: this checkout against the other, case by case (below 1: faster now)
  ...Object.keys(results)
    .filter((name) => name.endsWith(' [--vs]'))
    .map((name) => [name.slice(0, -' [--vs]'.length), name, null]),
].map(([a, b, goal]) => ({ case: a, baseline: b, ratio: ratio(a, b), minRatio: minRatio(a, b), instructionRatio: instructionRatio(a, b), goal }));

const machine = {
  node: process.version,
  // Node reads this file of extra CA certificates at every start, before any script: a fixed cost in
  // every Node case that brings their ratios towards 1. Set or not, it is named in the report.
  extraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'NODE_EXTRA_CA_CERTS set' : 'no NODE_EXTRA_CA_CERTS',
  platform: `${process.platform} ${process.arch}`,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  runs: RUNS,
  warmup: WARMUP,
  ...(values.vs ? { vs: values.vs } : {}),
  cpuAndMemory: gnuTime ? 'GNU time' : 'not measured (no /usr/bin/time)',
};
if (values.json) {
  process.stdout.write(`${JSON.stringify({ machine, results: Object.values(results), comparisons }, null, 2)}\n`);
} else {
  const f = (x, d = 0) => (x === null || x === undefined ? '—' : x.toFixed(d));
  console.log(
    `\nc8ytoken benchmark: ${machine.node}, ${machine.platform}, ${machine.cpus} × ${machine.cpu}; ${RUNS} runs after ${WARMUP} warm-up; CPU and memory: ${machine.cpuAndMemory}; ${machine.extraCaCerts}\n`,
  );
  console.log('| case | wall median ms | min–max ms | CPU median ms | peak RSS MB |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of Object.values(results)) console.log(`| ${r.name} | ${f(r.wallMs, 1)} | ${f(r.wallMinMs)}–${f(r.wallMaxMs)} | ${f(r.cpuMs)} | ${f(r.peakRssMb, 1)} |`);
  const counted = values.instructions;
  console.log(`\n| case | compared with | ratio of medians | ratio of minima |${counted ? ' ratio of instructions |' : ''} goal |`);
  console.log(`|---|---|---:|---:|${counted ? '---:|' : ''}---:|`);
  for (const c of comparisons) {
    console.log(`| ${c.case} | ${c.baseline} | ${f(c.ratio, 2)} | ${f(c.minRatio, 2)} |${counted ? ` ${f(c.instructionRatio, 2)} |` : ''} ${c.goal ? `≤ ${c.goal}` : '—'} |`);
  }
}
