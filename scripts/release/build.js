#!/usr/bin/env node
// `npm run release`: standalone binaries of c8ytoken (Node's single executable applications) for
// linux-x64, linux-arm64, win-x64, darwin-x64 and darwin-arm64, the Debian packages made from the Linux
// ones, THIRD-PARTY-NOTICES.txt and SHA256SUMS, all in release/.
//
//   npm run release [-- --node 22|24|22.23.3] [--targets linux-x64,win-x64] [--no-deb] [--no-build]
//
// Runtimes are the npm registry's node-<os>-<arch> packages, cached outside the repository
// (scripts/release/runtimes.js). Each binary is that runtime with the SEA blob injected by postject and
// the sentinel fuse flipped; only the binary this machine runs natively (linux-x64 here) carries V8's code
// cache, made by the very runtime it ships with. A target the registry has no runtime for, and every
// check that needs a tool this machine lacks, is skipped with one line saying why.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { bundledPackages, bundleSeaEntry, noticesText, packageVersion, root } from './sea-bundle.js';
import { TARGETS, cacheDir, getRuntime, hostTarget, resolveVersions } from './runtimes.js';
import { buildDeb } from './deb.js';
import { findQemuAarch64, machoLoadCommands, SEA_FUSE } from './binary-checks.js';

const require = createRequire(import.meta.url);
const started = Date.now();
const log = (line) => console.log(`release: ${line}`);

const { values } = parseArgs({
  options: {
    node: { type: 'string', default: '22' },
    targets: { type: 'string', default: Object.keys(TARGETS).join(',') },
    'no-deb': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
});
const targets = values.targets.split(',').map((t) => t.trim()).filter(Boolean);
for (const t of targets) if (!(t in TARGETS)) throw new Error(`unknown target ${t}; one of ${Object.keys(TARGETS).join(', ')}`);

const out = join(root, 'release');
const work = join(out, '.build');
const version = packageVersion();
const native = hostTarget();
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// 1. The program: dist/c8ytoken.cjs, then the SEA entry bundled with it.
if (!values['no-build']) {
  log('npm run build');
  const built = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
}
rmSync(out, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const seaMain = join(work, 'c8ytoken-sea.cjs');
await bundleSeaEntry(seaMain, { version });
log(`SEA entry bundled: ${relative(root, seaMain)} (${(statSync(seaMain).size / 1024).toFixed(0)} KB), version ${version}`);

// 2. Runtimes: one Node version for as many targets as the registry allows.
const versions = resolveVersions(targets, values.node);
log(`runtimes: Node ${values.node} from the npm registry, cached in ${cacheDir()}`);

const { inject } = require('postject');
const built = [];
let nodeLicense;
for (const target of targets) {
  const { version: nodeVersion, reason, note } = versions[target];
  if (!nodeVersion) {
    log(`${target}: skipped: ${reason}`);
    continue;
  }
  if (note) log(`${target}: ${note}`);
  const t0 = Date.now();
  const info = TARGETS[target];
  let runtime;
  let maker;
  try {
    runtime = getRuntime(target, nodeVersion, log);
    // The blob is made by a runtime of the same version this machine can run; for the native target
    // that is the shipped runtime itself, the only case where V8's code cache is valid in the binary.
    if (!native) throw new Error(`the registry has no runtime for this machine (${process.platform}-${process.arch}) to make SEA blobs with`);
    maker = join(getRuntime(native, nodeVersion, log), TARGETS[native].exe);
  } catch (err) {
    log(`${target}: skipped: ${err.message.split('\n')[0]}`);
    continue;
  }
  if (!nodeLicense && existsSync(join(runtime, 'LICENSE'))) nodeLicense = { version: nodeVersion, text: readFileSync(join(runtime, 'LICENSE'), 'utf8') };
  const useCodeCache = target === native;
  const blob = join(work, `${target}.blob`);
  const config = join(work, `${target}.sea-config.json`);
  // Paths relative to release/.build/: the blob keeps the main script's path as given, and no path of
  // the build machine belongs in a binary.
  writeFileSync(config, JSON.stringify({ main: relative(work, seaMain), output: relative(work, blob), disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache }, null, 2));
  const made = spawnSync(maker, ['--experimental-sea-config', relative(work, config)], { encoding: 'utf8', cwd: work });
  if (made.status !== 0) throw new Error(`${target}: making the SEA blob failed: ${made.stderr}`);

  const file = join(out, `c8ytoken-${target}${info.os === 'win' ? '.exe' : ''}`);
  copyFileSync(join(runtime, info.exe), file);
  chmodSync(file, 0o755);
  const steps = [];
  if (info.os === 'linux') steps.push(stripElf(file, target));
  if (info.os === 'darwin') {
    // A signature broken by the injection is worse than none: macOS kills such a binary. Removed here
    // (as `codesign --remove-signature` would), to be signed again on a Mac (docs/distribution.md).
    const unsigned = require('macho-unsign').unsign(readFileSync(file));
    if (unsigned) writeFileSync(file, Buffer.from(unsigned));
    steps.push(unsigned ? 'signature removed (unsigned: sign on a Mac)' : 'was not signed');
  }
  if (info.os === 'win') {
    // The same for Authenticode (`signtool remove /s`); Windows runs unsigned programs.
    const { signatureGet, signatureSet } = require('portable-executable-signature');
    const data = readFileSync(file);
    if (signatureGet(data)) {
      writeFileSync(file, Buffer.from(signatureSet(data, null)));
      steps.push('Authenticode signature removed (unsigned)');
    }
  }
  // postject's LIEF says "Can't find string offset for section name '.note.100'" a dozen times for a
  // stripped ELF file (the section names of the notes it adds): harmless, counted instead of printed.
  const warnings = [];
  const warn = console.warn;
  console.warn = (...a) => warnings.push(a.join(' '));
  try {
    await inject(file, 'NODE_SEA_BLOB', readFileSync(blob), {
      sentinelFuse: SEA_FUSE,
      ...(info.os === 'darwin' ? { machoSegmentName: 'NODE_SEA' } : {}),
    });
  } finally {
    console.warn = warn;
  }
  const other = warnings.filter((w) => !/Can't find string offset for section name/.test(w));
  for (const w of other) log(`${target}: postject: ${w}`);
  const size = statSync(file).size;
  log(`${target}: ${relative(root, file)} ${mb(size)}, Node ${nodeVersion}, code cache ${useCodeCache ? 'embedded' : 'none (cross-built)'}${steps.length ? `, ${steps.filter(Boolean).join(', ')}` : ''} (${seconds(Date.now() - t0)})`);
  built.push({ target, file, size, nodeVersion });
}

if (!built.length) {
  console.error('release: FAILED: no binary could be built (see the lines above)');
  process.exit(1);
}

// 3. Self-checks: the fuse of every binary, and each binary this machine can run, runs: version, inspect,
// and a fetch from the local endpoint (in a process of its own: the checks run the binaries synchronously).
const failures = [];
const endpoint = await startEndpoint();
try {
  for (const { target, file } of built) {
    const checks = selfCheck(target, file, endpoint.url);
    for (const c of checks) log(`${target}: check: ${c.line}`);
    for (const c of checks) if (c.ok === false) failures.push(`${target}: ${c.line}`);
  }
} finally {
  endpoint.child.kill();
}

// 4. Debian packages from the Linux binaries.
const notices = noticesText(await bundledPackages(), nodeLicense);
writeFileSync(join(out, 'THIRD-PARTY-NOTICES.txt'), notices);
copyFileSync(join(root, 'LICENSE'), join(out, 'LICENSE'));
if (values['no-deb']) log('Debian packages: skipped (--no-deb)');
else {
  for (const { target, file } of built.filter((b) => TARGETS[b.target].deb)) {
    const r = buildDeb({ arch: TARGETS[target].deb, binary: file, version, outDir: out, workDir: join(work, `deb-${target}`), notices, log });
    if (r?.ok === false) failures.push(`${target}: .deb: ${r.line}`);
  }
}

// 5. SHA256SUMS of everything shipped, as `sha256sum -c SHA256SUMS` reads it.
const shipped = readdirSync(out).filter((n) => !n.startsWith('.') && n !== 'SHA256SUMS').sort();
const sums = shipped.map((n) => `${createHash('sha256').update(readFileSync(join(out, n))).digest('hex')}  ${n}`).join('\n');
writeFileSync(join(out, 'SHA256SUMS'), `${sums}\n`);
log(`SHA256SUMS: ${shipped.length} files`);
for (const n of shipped) log(`  ${n.padEnd(34)} ${mb(statSync(join(out, n)).size).padStart(9)}`);
log(`done in ${seconds(Date.now() - started)}`);
if (failures.length) {
  for (const f of failures) console.error(`release: FAILED: ${f}`);
  process.exit(1);
}

/** Strips the symbol tables and debug info of a Linux runtime (about 17 MB of the x64 one): GNU strip for the host's architecture, aarch64-linux-gnu-strip for arm64. */
function stripElf(file, target) {
  const tool = target === 'linux-arm64' && native !== 'linux-arm64' ? 'aarch64-linux-gnu-strip' : 'strip';
  const run = spawnSync(tool, ['--strip-all', file], { encoding: 'utf8' });
  if (run.error) return `not stripped: ${tool} not found${tool.startsWith('aarch64') ? ' (apt-get install binutils-aarch64-linux-gnu)' : ''}`;
  if (run.status !== 0) return `not stripped: ${tool} failed: ${run.stderr.trim().split('\n')[0]}`;
  return 'stripped';
}

/** scripts/emulator.js on a free loopback port; resolves with its URL. */
function startEndpoint() {
  const child = spawn(process.execPath, [join(root, 'scripts', 'emulator.js'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /on (https:\/\/\S+)/.exec(err);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`the local endpoint exited (${code}): ${err}`)));
  });
}

/** What can be checked of one binary on this machine; each check a line, ok false when it failed. */
function selfCheck(target, file, url) {
  const checks = [];
  const data = readFileSync(file);
  const fused = data.includes(`${SEA_FUSE}:1`);
  checks.push({ ok: fused, line: fused ? 'SEA fuse flipped' : 'SEA fuse NOT flipped' });
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZXZpY2VfeCIsInRlbiI6InQxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln';
  const run = (cmd, args, env = {}) => spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 120_000 });
  const pki = (name) => join(root, 'fixtures', 'pki', name);
  const fetchArgs = ['fetch', '--url', url, '--keystore', pki('device-rsa.p12'), '--keystore-password-file', pki('store.pass'), '--truststore', pki('truststore.pem')];
  const fetched = (r, how) => {
    const ok = r.status === 0 && /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+\n$/.test(r.stdout);
    return { ok, line: `fetch from the local endpoint${how}: ${ok ? 'token' : `exit ${r.status}: ${(r.stderr || '').trim().split('\n')[0]}`}` };
  };
  if (target === native) {
    const v = run(file, ['--version']);
    checks.push({ ok: v.stdout === `${version}\n`, line: `--version: ${JSON.stringify(v.stdout.trim())}${v.status ? ` (exit ${v.status})` : ''}` });
    const inspect = run(file, ['inspect', '--json', token]);
    let claims;
    try {
      claims = JSON.parse(inspect.stdout).claims;
    } catch {
      // reported below
    }
    checks.push({ ok: claims?.ten === 't1', line: `inspect --json: ${claims?.ten === 't1' ? 'ok' : `unexpected output ${JSON.stringify((inspect.stdout + inspect.stderr).slice(0, 200))}`}` });
    checks.push(fetched(run(file, fetchArgs), ''));
    // A SEA whose embedded code cache V8 rejects warns "Code cache data rejected." on every start.
    const rejected = /Code cache data rejected/.test(v.stderr + inspect.stderr);
    checks.push({ ok: !rejected, line: rejected ? 'code cache REJECTED by V8 ("Code cache data rejected.")' : 'code cache taken by V8 (no "Code cache data rejected." warning)' });
  } else if (target === 'linux-arm64') {
    const qemu = findQemuAarch64();
    if (qemu.skip) checks.push({ line: `--version under qemu: skipped: ${qemu.skip}` });
    else {
      const t0 = Date.now();
      const v = run(qemu.cmd, [file, '--version'], qemu.env);
      checks.push({ ok: v.stdout === `${version}\n`, line: `--version under ${qemu.cmd}: ${JSON.stringify(v.stdout.trim())}${v.status ? ` (exit ${v.status}: ${v.stderr.trim().split('\n')[0]})` : ''} (${seconds(Date.now() - t0)})` });
      const inspect = run(qemu.cmd, [file, 'inspect', '--json', token], qemu.env);
      checks.push({ ok: inspect.status === 0 && inspect.stdout.includes('"t1"'), line: `inspect --json under qemu: ${inspect.status === 0 ? 'ok' : `exit ${inspect.status}`}` });
      checks.push(fetched(run(qemu.cmd, [file, ...fetchArgs], qemu.env), ' under qemu'));
    }
  } else if (TARGETS[target].os === 'darwin') {
    const cmds = machoLoadCommands(data);
    const seg = cmds.some((c) => c.segname === 'NODE_SEA');
    const signed = cmds.some((c) => c.cmd === 0x1d);
    checks.push({ ok: seg && !signed, line: `Mach-O: NODE_SEA segment ${seg ? 'present' : 'MISSING'}, code signature ${signed ? 'PRESENT (broken by the injection)' : 'none (sign on a Mac: docs/distribution.md)'}; cannot run here` });
  } else if (TARGETS[target].os === 'win') {
    checks.push({ line: 'not run here: `npm run test:windows` runs it under Wine' });
  }
  return checks;
}
