#!/usr/bin/env node
// `npm run test:pack`: proves the npm package. Packs it (`npm pack`, which builds first), checks what is
// in the tarball, installs it into a fresh prefix (`npm i -g --prefix DIR c8ytoken-*.tgz`, the way a user
// installs it: dependencies only, from the registry) and runs the installed command: --version, inspect, a
// fetch against the local endpoint, one with a YAML config (js-yaml, the runtime dependency), completion,
// the man page and the code cache check (the bundle and each chunk); then the same tarball through npx.
// Everything happens in a temporary folder, removed at the end; nothing in the repository changes but dist/.
import { spawn, spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { root } from './sea-bundle.js';

const started = Date.now();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'c8ytoken-pack-'));
const failures = [];
const say = (line) => console.log(`pack: ${line}`);
const check = (ok, line) => {
  say(`${ok ? 'ok  ' : 'FAIL'} ${line}`);
  if (!ok) failures.push(line);
};
const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const npmCli = process.env.npm_execpath?.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
const npm = (args, options = {}) => spawnSync(npmCli[0], [...npmCli.slice(1), ...args], { encoding: 'utf8', cwd: root, ...options });
const pki = (name) => join(root, 'fixtures', 'pki', name);

let emulator;
try {
  // 1. The tarball.
  let t0 = Date.now();
  const packed = npm(['pack', '--json', '--pack-destination', work], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (packed.status !== 0) throw new Error('npm pack failed');
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
  const tarball = join(work, info.filename);
  const files = info.files.map((f) => f.path).sort();
  say(`${info.filename}: ${(info.size / 1024).toFixed(0)} KB packed, ${(info.unpackedSize / 1024).toFixed(0)} KB unpacked, ${files.length} files (npm pack ${secs(t0)})`);
  for (const f of info.files) say(`  ${f.path.padEnd(32)} ${String(f.size).padStart(8)} bytes`);
  // The chunks (scripts/bundle.js) are named by their content's hash: whatever the build made, each with its cache.
  const chunks = readdirSync(join(root, 'dist', 'chunks')).map((n) => `dist/chunks/${n}`);
  const expected = ['LICENSE', 'README.md', 'bin/c8ytoken.js', 'bin/package.json', 'dist/THIRD-PARTY-NOTICES.txt', 'dist/c8ytoken.cjs', 'dist/c8ytoken.cjs.v8cache', ...chunks, 'man/c8ytoken.1', 'package.json'].sort();
  check(JSON.stringify(files) === JSON.stringify(expected), `tarball holds exactly the runtime files${JSON.stringify(files) === JSON.stringify(expected) ? '' : `: got ${files.join(' ')}; expected ${expected.join(' ')}`}`);
  check(/MIT License[\s\S]*c8ytoken contributors/.test(readFileSync(join(root, 'LICENSE'), 'utf8')), 'LICENSE: MIT, c8ytoken contributors');

  // What the bundle requires at run time must be a dependency (devDependencies are not installed).
  const bundle = ['c8ytoken.cjs', ...chunks.filter((f) => f.endsWith('.cjs')).map((f) => f.slice('dist/'.length))].map((f) => readFileSync(join(root, 'dist', f), 'utf8')).join('\n');
  const required = [...new Set([...bundle.matchAll(/require\(["'`]([^"'`]+)["'`]\)/g)].map((m) => m[1]))];
  const external = required.filter((r) => !r.startsWith('node:') && !builtinModules.includes(r) && !r.startsWith('.'));
  const missing = external.filter((r) => !(r.split('/').slice(0, r.startsWith('@') ? 2 : 1).join('/') in (pkg.dependencies ?? {})));
  check(missing.length === 0, `the bundle requires only built-ins and dependencies (${external.join(', ') || 'none'})${missing.length ? `: not dependencies: ${missing.join(', ')}` : ''}`);

  // 2. Installed into a fresh prefix.
  const prefix = join(work, 'prefix');
  t0 = Date.now();
  const installed = npm(['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--cache', join(work, 'npm-cache'), tarball], { cwd: work });
  check(installed.status === 0, `npm i -g --prefix DIR ${info.filename} (${secs(t0)}, with an empty npm cache)${installed.status === 0 ? '' : `: ${installed.stderr}`}`);
  const pkgDir = join(prefix, 'lib', 'node_modules', 'c8ytoken');
  const deps = existsSync(join(pkgDir, 'node_modules')) ? readdirSync(join(pkgDir, 'node_modules')).flatMap((n) => (n.startsWith('@') ? readdirSync(join(pkgDir, 'node_modules', n)).map((m) => `${n}/${m}`) : [n])).filter((n) => !n.startsWith('.')) : [];
  say(`installed packages beside c8ytoken: ${deps.length} (${deps.join(', ')})`);
  const dev = deps.filter((d) => d in (pkg.devDependencies ?? {}));
  check(dev.length === 0, `no devDependency installed${dev.length ? `: ${dev.join(', ')}` : ''}`);
  const bin = join(prefix, 'bin', 'c8ytoken');
  const run = (args, options = {}) => spawnSync(bin, args, { encoding: 'utf8', cwd: work, env: { PATH: process.env.PATH, HOME: work, NO_COLOR: '1' }, ...options });

  const version = run(['--version']);
  check(version.stdout === `${pkg.version}\n`, `c8ytoken --version: ${JSON.stringify(version.stdout.trim())}`);
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const token = `${b64({ alg: 'RS256' })}.${b64({ sub: 'device_pack', ten: 't1', iat: 1767225600, exp: 4102444800 })}.c2ln`;
  const inspect = run(['inspect', '--json', token]);
  check(inspect.status === 0 && JSON.parse(inspect.stdout || '{}').claims?.sub === 'device_pack', `c8ytoken inspect <token>: exit ${inspect.status}`);

  // The code caches shipped must be the ones for this program, and taken by the Node that built them.
  const programFiles = ['dist/c8ytoken.cjs', ...chunks.filter((f) => f.endsWith('.cjs'))];
  const rejected = programFiles.filter((f) => {
    const cached = join(pkgDir, f);
    return new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(cached, 'utf8')}\n})`, { filename: cached, cachedData: readFileSync(`${cached}.v8cache`) }).cachedDataRejected !== false;
  });
  check(rejected.length === 0, `installed code caches (${programFiles.length} files) taken by V8 (Node ${process.version}, the Node that packed it)${rejected.length ? `: rejected ${rejected.join(' ')}` : ''}`);

  // 3. A fetch against the local endpoint, in its own process as a user would run it.
  emulator = spawn(process.execPath, [join(root, 'scripts', 'emulator.js'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    let err = '';
    emulator.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /on (https:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    emulator.on('exit', (code) => reject(new Error(`the local endpoint exited (${code}): ${err}`)));
    setTimeout(() => reject(new Error('the local endpoint did not start within 20 s')), 20_000).unref();
  });
  const fetched = run(['fetch', '--url', url, '--keystore', pki('device-rsa.p12'), '--keystore-password-file', pki('store.pass'), '--truststore', pki('truststore.pem')]);
  check(fetched.status === 0 && /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+\n$/.test(fetched.stdout), `c8ytoken fetch --url ${url} --keystore device-rsa.p12: exit ${fetched.status}${fetched.status ? `: ${fetched.stderr.trim()}` : `, ${fetched.stderr.trim()}`}`);
  const explained = run(['inspect', '-'], { input: fetched.stdout });
  check(explained.status === 0 && /device_rsa-device-001/.test(explained.stdout), 'c8ytoken fetch | c8ytoken inspect -');
  // A YAML config file: js-yaml, the one runtime dependency, must have come with the package.
  writeFileSync(
    join(work, 'device.yaml'),
    `url: ${url}\nkeystore:\n  path: ${pki('device-rsa.p12')}\n  passwordFile: ${pki('store.pass')}\ntruststore: ${pki('truststore.pem')}\nprofiles:\n  lab: {}\n`,
  );
  const configured = run(['fetch', '--config', join(work, 'device.yaml'), '-q']);
  check(configured.status === 0 && /^eyJ/.test(configured.stdout), `c8ytoken fetch --config device.yaml (YAML, through js-yaml): exit ${configured.status}${configured.status ? `: ${configured.stderr.trim()}` : ''}`);
  const profiles = run(['completion', '--profiles', '--config', join(work, 'device.yaml')]);
  check(profiles.stdout === 'lab\n', `c8ytoken completion --profiles --config device.yaml: ${JSON.stringify(profiles.stdout)}`);
  const bash = run(['completion', 'bash']);
  check(bash.status === 0 && spawnSync('bash', ['-n'], { input: bash.stdout }).status === 0, 'c8ytoken completion bash: bash -n accepts it');
  // package.json's "man": npm links the page where man finds it (PREFIX/share/man/man1).
  check(existsSync(join(prefix, 'share', 'man', 'man1', 'c8ytoken.1')), 'installed: PREFIX/share/man/man1/c8ytoken.1 (man c8ytoken)');

  // 4. npx with the tarball, from an empty npm cache.
  t0 = Date.now();
  const npx = npm(['exec', '--yes', '--cache', join(work, 'npx-cache'), `--package=${tarball}`, '--', 'c8ytoken', 'inspect', token], { cwd: work, env: { ...process.env, NO_COLOR: '1' } });
  check(npx.status === 0 && /device_pack/.test(npx.stdout), `npx --package=${info.filename} c8ytoken inspect <token>: exit ${npx.status} (${secs(t0)})${npx.status ? `: ${npx.stderr}` : ''}`);
} catch (err) {
  failures.push(err.message);
  console.error(`pack: FAIL ${err.message}`);
} finally {
  emulator?.kill();
  rmSync(work, { recursive: true, force: true });
}
say(`${failures.length ? `${failures.length} failed` : 'all passed'} in ${secs(started)}`);
process.exitCode = failures.length ? 1 : 0;
