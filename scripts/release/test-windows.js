#!/usr/bin/env node
// `npm run test:windows`: a smoke suite of the Windows binary (release/c8ytoken-win-x64.exe, from
// `npm run release`) under Wine (Debian: apt-get install wine64): version, inspect (argument, file,
// stdin), verify-chain, fetch against the local endpoint this script starts on loopback (PEM and
// PKCS#12), `-o FILE` replacing an existing file, exit codes, completion powershell and --profiles. Wine is not Windows: passing here says the
// program and its Node runtime work on Wine's Win32 API, not that they do on Windows itself.
//
// Under a pseudo-terminal libuv asserts on the console title, so every run has stdin, stdout and stderr
// redirected to files. The Wine prefix lives in the cache folder (~/.cache/c8ytoken/wine-prefix), set
// to Windows 10 (Node refuses to start on Wine's default Windows 7). Skips with one line when Wine or the
// binary is missing.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { root, packageVersion } from './sea-bundle.js';
import { cacheDir } from './runtimes.js';

const say = (line) => console.log(`windows: ${line}`);
const exe = join(root, 'release', 'c8ytoken-win-x64.exe');
const wine = ['wine64', 'wine', '/usr/lib/wine/wine64'].find((w) => !spawnSync(w, ['--version'], { stdio: 'ignore' }).error);
if (!wine) {
  say('skipped: Wine not found (Debian: apt-get install wine64)');
  process.exit(0);
}
if (!existsSync(exe)) {
  say('skipped: release/c8ytoken-win-x64.exe not built (npm run release)');
  process.exit(0);
}
if (!existsSync(join(root, 'dist', 'emulator.js'))) {
  say('building dist/ for the local endpoint (npm run build)');
  if (spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
}
const { Emulator } = await import('../../dist/emulator.js');

const started = Date.now();
const prefix = join(dirname(cacheDir()), 'wine-prefix');
const wineEnv = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
delete wineEnv.DISPLAY;
const version = spawnSync(wine, ['--version'], { encoding: 'utf8' }).stdout.trim();
if (!existsSync(join(prefix, '.c8ytoken-win10'))) {
  say(`creating the Wine prefix ${prefix} (Windows 10), once`);
  mkdirSync(prefix, { recursive: true });
  spawnSync(wine, ['wineboot', '--init'], { env: wineEnv, stdio: 'ignore', timeout: 300_000 });
  spawnSync(wine, ['winecfg', '-v', 'win10'], { env: wineEnv, stdio: 'ignore', timeout: 120_000 });
  writeFileSync(join(prefix, '.c8ytoken-win10'), '');
}

const work = mkdtempSync(join(tmpdir(), 'c8ytoken-wine-'));
// Wine's drive Z: is the Unix root: the program gets Windows paths, as on Windows.
const win = (path) => `Z:${path.replaceAll('/', '\\')}`;
const pki = (name) => win(join(root, 'fixtures', 'pki', name));
let n = 0;
/**
 * Runs the binary under Wine with stdin, stdout and stderr as files. Asynchronous: the local endpoint
 * answers from this process's event loop meanwhile.
 */
async function c8ytoken(args, { input = '' } = {}) {
  const base = join(work, `run-${++n}`);
  writeFileSync(`${base}.in`, input);
  const fds = [openSync(`${base}.in`, 'r'), openSync(`${base}.out`, 'w'), openSync(`${base}.err`, 'w')];
  const t0 = Date.now();
  const child = spawn(wine, [exe, ...args], { cwd: work, env: { ...wineEnv, NO_COLOR: '1' }, stdio: fds });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const [code, signal] = await new Promise((resolve) => child.on('close', (...a) => resolve(a)));
  clearTimeout(timer);
  for (const fd of fds) closeSync(fd);
  return { code, signal, stdout: readFileSync(`${base}.out`, 'utf8'), stderr: readFileSync(`${base}.err`, 'utf8'), ms: Date.now() - t0 };
}

const results = [];
function check(name, run, ok, detail = '') {
  results.push({ name, ok });
  const why = ok ? detail : `${detail} exit ${run.code}${run.signal ? ` (${run.signal})` : ''}; stdout ${JSON.stringify(run.stdout.slice(0, 300))}; stderr ${JSON.stringify(run.stderr.slice(0, 500))}`;
  say(`${ok ? 'ok  ' : 'FAIL'} ${name} (${(run.ms / 1000).toFixed(1)} s)${why ? `: ${why}` : ''}`);
}

const JWT = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/;
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = `${b64({ alg: 'RS256' })}.${b64({ sub: 'device_wine', ten: 't1', iat: 1767225600, exp: 4102444800 })}.c2ln`;
const emulator = await new Emulator({ fixturesDir: new URL('../../fixtures/pki/', import.meta.url).href }).start();
say(`${wine} (${version}), binary ${exe.slice(root.length)}, local endpoint ${emulator.url}`);

try {
  let r = await c8ytoken(['--version']);
  check('--version', r, r.code === 0 && r.stdout === `${packageVersion()}\n`, JSON.stringify(r.stdout.trim()));

  r = await c8ytoken(['inspect', token]);
  check('inspect TOKEN', r, r.code === 0 && /device_wine/.test(r.stdout));
  writeFileSync(join(work, 'token.txt'), `Bearer ${token}\n`);
  r = await c8ytoken(['inspect', '--json', win(join(work, 'token.txt'))]);
  check('inspect FILE (Z:\\ path)', r, r.code === 0 && JSON.parse(r.stdout || '{}').claims?.ten === 't1');
  r = await c8ytoken(['inspect', '-'], { input: token });
  check('inspect - (stdin from a file)', r, r.code === 0 && /device_wine/.test(r.stdout));
  r = await c8ytoken(['inspect', '--check', `${b64({ alg: 'RS256' })}.${b64({ sub: 'device_old', exp: 1 })}.c2ln`]);
  check('inspect --check an expired token: exit 1', r, r.code === 1);

  r = await c8ytoken(['verify-chain', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--device-ca', pki('device-root-ca.crt')]);
  check('verify-chain PEM chain + key + device CA', r, r.code === 0 && /rsa-device-001/.test(r.stdout));
  r = await c8ytoken(['verify-chain', '--keystore', pki('device-ec256.p12'), '--keystore-password-file', pki('store.pass'), '--json']);
  check('verify-chain PKCS#12 (EC), --json', r, r.code === 0 && Array.isArray(JSON.parse(r.stdout || '{}').checks));
  r = await c8ytoken(['verify-chain', '--cert', pki('device-expired.chain.pem'), '--key', pki('device-expired.key')]);
  check('verify-chain an expired certificate: exit 1', r, r.code === 1);

  const base = ['fetch', '--url', emulator.url, '--truststore', pki('truststore.pem')];
  r = await c8ytoken([...base, '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')]);
  check('fetch, PEM, from the local endpoint', r, r.code === 0 && JWT.test(r.stdout.trim()) && claims(r.stdout.trim()).sub === 'device_rsa-device-001', r.stderr.trim());
  const last = emulator.requests.at(-1);
  check('  ... leaf + intermediate sent in the handshake', r, JSON.stringify(last?.handshakeChain.slice(0, 2)) === JSON.stringify(['rsa-device-001', 'c8ytoken Device Intermediate CA']), `${last?.tlsVersion}`);
  r = await c8ytoken([...base, '--keystore', pki('device-ec384.p12'), '--keystore-password-file', pki('store.pass'), '--format', 'env', '--shell', 'powershell']);
  check('fetch, PKCS#12 (EC P-384), --format env --shell powershell', r, r.code === 0 && /\$env:C8Y_TOKEN\s*=/.test(r.stdout));

  // -o FILE over an existing file: Windows cannot rename onto an open file, and replaces only with
  // MoveFileEx(REPLACE_EXISTING), which Node's rename uses.
  const out = join(work, 'token');
  writeFileSync(out, 'old content\n');
  const before = emulator.requests.length;
  r = await c8ytoken([...base, '--keystore', pki('device-rsa.p12'), '--keystore-password-file', pki('store.pass'), '-o', win(out)]);
  const first = readFileSync(out, 'utf8');
  check('fetch -o FILE replacing an existing file', r, r.code === 0 && JWT.test(first) && r.stdout === '' && emulator.requests.length === before + 1);
  emulator.forgetTokens();
  r = await c8ytoken([...base, '--keystore', pki('device-rsa.p12'), '--keystore-password-file', pki('store.pass'), '-o', win(out), '--force']);
  const second = readFileSync(out, 'utf8');
  check('fetch -o FILE --force replacing a token file with a new token', r, r.code === 0 && JWT.test(second) && claims(second).jti !== claims(first).jti);
  r = await c8ytoken([...base, '--keystore', pki('device-rsa.p12'), '--keystore-password-file', pki('store.pass'), '-o', win(out)]);
  check('fetch -o FILE again: the token in the file is reused', r, r.code === 0 && readFileSync(out, 'utf8') === second && /reused/i.test(r.stderr), r.stderr.trim());

  r = await c8ytoken(['fetch', '--url', 'https://localhost:1', '--truststore', pki('truststore.pem'), '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')]);
  check('fetch from a closed port: exit 5 (network)', r, r.code === 5, r.stderr.split('\n')[0]);
  r = await c8ytoken(['fetch', '--password=x']);
  check('a password on the command line: exit 2 (usage)', r, r.code === 2);

  r = await c8ytoken(['completion', 'powershell']);
  check('completion powershell: the argument completer', r, r.code === 0 && r.stdout.includes('Register-ArgumentCompleter -Native'));
  const config = join(work, 'profiles.json');
  writeFileSync(config, JSON.stringify({ profiles: { lab: {}, field: {} } }));
  r = await c8ytoken(['completion', '--profiles', '--config', win(config)]);
  check('completion --profiles --config FILE (Z:\\ path)', r, r.code === 0 && r.stdout.replace(/\r/g, '') === 'lab\nfield\n', JSON.stringify(r.stdout));
} finally {
  await emulator.stop();
  rmSync(work, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok);
say(`${results.length - failed.length} passed, ${failed.length} failed under ${version} in ${((Date.now() - started) / 1000).toFixed(1)} s (Wine is not Windows)`);
process.exitCode = failed.length ? 1 : 0;
