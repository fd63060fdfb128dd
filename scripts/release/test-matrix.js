#!/usr/bin/env node
// `npm run test:matrix [-- --versions 20,22,24]`: the whole suite, as `npm test` runs it (build, tsc type
// check, ESLint and Prettier, vitest), on each Node version, one after the other. Runtimes are the npm registry's
// node-<os>-<arch> packages for this machine, cached outside the repository (scripts/release/runtimes.js);
// a version is the newest release of that major (or an exact version). One line per version: version,
// passed/failed/skipped, seconds. Logs go to a temporary folder, named at the end. dist/ is rebuilt by
// this Node afterwards, so its code cache fits the Node that `npm test` and the bin use here.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { root } from './sea-bundle.js';
import { TARGETS, cacheDir, getRuntime, hostTarget, matchingVersions } from './runtimes.js';

const { values } = parseArgs({ options: { versions: { type: 'string', default: '20,22,24' } } });
const specs = values.versions.split(',').map((v) => v.trim()).filter(Boolean);
const host = hostTarget();
const logs = mkdtempSync(join(tmpdir(), 'c8ytoken-matrix-'));
const say = (line) => console.log(`matrix: ${line}`);
const started = Date.now();
const results = [];

if (!host) {
  say(`skipped: the registry has no Node runtimes for ${process.platform}-${process.arch}`);
  process.exit(0);
}
say(`Node ${specs.join(', ')} (${TARGETS[host].pkg} from the npm registry, cached in ${cacheDir()}); logs in ${logs}`);

for (const spec of specs) {
  let version;
  let node;
  try {
    version = matchingVersions(TARGETS[host].pkg, spec).at(-1);
    if (!version) {
      say(`Node ${spec}: skipped: the registry has no ${TARGETS[host].pkg} ${spec}`);
      results.push({ spec, skipped: true });
      continue;
    }
    node = join(getRuntime(host, version, (l) => say(l)), TARGETS[host].exe);
  } catch (err) {
    say(`Node ${spec}: skipped: ${err.message}`);
    results.push({ spec, skipped: true });
    continue;
  }
  const t0 = Date.now();
  const log = join(logs, `node-${version}.log`);
  const out = createWriteStream(log);
  // The runtime's folder first on PATH too, for anything the tests start by name.
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH}`, FORCE_COLOR: '0' };
  const step = (args) =>
    new Promise((resolve) => {
      out.write(`\n$ node ${args.join(' ')}\n`);
      const child = spawn(node, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      for (const s of [child.stdout, child.stderr]) s.on('data', (d) => ((text += d), out.write(d)));
      child.on('close', (code) => resolve({ code, text }));
    });
  const steps = [];
  const bundle = await step(['scripts/bundle.js']);
  steps.push(`build ${bundle.code === 0 ? 'ok' : 'FAILED'}`);
  const typecheck = await step(['node_modules/typescript/bin/tsc', '--noEmit']);
  steps.push(`type check ${typecheck.code === 0 ? 'ok' : 'FAILED'}`);
  const eslint = await step(['node_modules/eslint/bin/eslint.js', '.']);
  const prettier = await step(['node_modules/prettier/bin/prettier.cjs', '--check', '.']);
  const lint = eslint.code === 0 && prettier.code === 0;
  steps.push(`lint ${lint ? 'ok' : 'FAILED'}`);
  let counts = { passed: 0, failed: 0, skipped: 0 };
  let vitestCode = 1;
  if (bundle.code === 0) {
    const tests = await step(['node_modules/vitest/vitest.mjs', 'run']);
    vitestCode = tests.code;
    const m = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(tests.text);
    if (m) counts = { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) };
    else steps.push('vitest printed no count');
    const failedNames = [...tests.text.matchAll(/^\s*(?:FAIL|×)\s+(.+)$/gm)].map((f) => f[1].trim());
    if (failedNames.length) steps.push(`failing: ${[...new Set(failedNames)].slice(0, 5).join(' | ')}`);
  }
  out.end();
  const seconds = (Date.now() - t0) / 1000;
  const ok = typecheck.code === 0 && lint && bundle.code === 0 && vitestCode === 0 && counts.failed === 0;
  results.push({ spec, version, ok, counts, seconds });
  say(`Node ${version.padEnd(8)} ${ok ? 'ok    ' : 'FAILED'} ${String(counts.passed).padStart(4)} passed ${String(counts.failed).padStart(3)} failed ${String(counts.skipped).padStart(3)} skipped ${seconds.toFixed(1).padStart(7)} s  (${steps.join(', ')})`);
}

// Put dist/ back as `npm run build` with this Node makes it (the code cache is per V8 version).
const rebuilt = spawnSync(process.execPath, ['scripts/bundle.js'], { cwd: root, stdio: 'inherit' }).status === 0;
if (!rebuilt) say(`rebuilding dist/ with Node ${process.version} failed`);
const ran = results.filter((r) => !r.skipped);
say(`${ran.filter((r) => r.ok).length}/${ran.length} versions passed, ${results.length - ran.length} skipped, in ${((Date.now() - started) / 1000).toFixed(1)} s; dist/ rebuilt with Node ${process.version}`);
process.exitCode = ran.every((r) => r.ok) && rebuilt ? 0 : 1;
