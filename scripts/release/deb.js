#!/usr/bin/env node
// Debian packages of the standalone Linux binaries: release/c8ytoken_<version>_<arch>.deb (amd64 from
// c8ytoken-linux-x64, arm64 from c8ytoken-linux-arm64), built with `dpkg-deb --root-owner-group`.
// Called by `npm run release`; on its own (`node scripts/release/deb.js`) it packages the binaries
// already in release/. Then checks each package: dpkg-deb -I/-c, unpacked into a scratch root with
// dpkg -x, the binary run from there (arm64 under qemu), the systemd units through systemd-analyze verify.
//
// Carries: /usr/bin/c8ytoken; /usr/share/man/man1/c8ytoken.1.gz (man/c8ytoken.1, npm run man); bash, zsh
// and fish completions made by the built CLI (`c8ytoken completion bash|zsh|fish`, from dist/, which is
// what the binary holds); the systemd units of packaging/systemd; the c8ytoken system user (sysusers.d,
// adduser without systemd); docs and licences.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { findQemuAarch64, hasCommand } from './binary-checks.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAINTAINER = process.env.DEB_MAINTAINER || 'c8ytoken contributors <maintainers@c8ytoken.invalid>';
const UNITS = ['c8ytoken-watch@.service', 'c8ytoken-proxy@.service', 'c8ytoken-proxy@.socket', 'c8ytoken-cert-renew@.service', 'c8ytoken-cert-renew@.timer'];
const COMPLETIONS = {
  bash: 'usr/share/bash-completion/completions/c8ytoken',
  zsh: 'usr/share/zsh/vendor-completions/_c8ytoken',
  fish: 'usr/share/fish/vendor_completions.d/c8ytoken.fish',
};

/** npm's 1.2.3-beta.1 sorts before 1.2.3 in Debian only as 1.2.3~beta.1. */
export const debVersion = (v) => v.replace('-', '~');

/**
 * Builds and checks one package. Returns { file } on success, undefined when skipped (one line logged
 * saying why), { ok: false, line } when a check failed.
 */
export function buildDeb({ arch, binary, version, outDir, workDir, notices, log = console.log }) {
  const say = (line) => log(`${arch}.deb: ${line}`);
  if (!hasCommand('dpkg-deb', ['--version'])) return void say('skipped: dpkg-deb not found (Debian: apt-get install dpkg)');
  rmSync(workDir, { recursive: true, force: true });
  const stage = join(workDir, 'root');
  const put = (path, content, mode = 0o644) => {
    const file = join(stage, path);
    mkdirSync(dirname(file), { recursive: true });
    if (Buffer.isBuffer(content) || typeof content === 'string') writeFileSync(file, content);
    else copyFileSync(content.from, file);
    chmodSync(file, mode);
  };

  put('usr/bin/c8ytoken', { from: binary }, 0o755);
  const man = join(root, 'man', 'c8ytoken.1');
  if (!existsSync(man)) return { ok: false, line: 'man/c8ytoken.1 is missing (npm run man)' };
  put('usr/share/man/man1/c8ytoken.1.gz', gzipSync(readFileSync(man), { level: 9 }));
  for (const [shell, path] of Object.entries(COMPLETIONS)) {
    const script = completion(shell);
    if (!script.text) return { ok: false, line: script.reason };
    put(path, script.text);
  }
  for (const unit of UNITS) put(`usr/lib/systemd/system/${unit}`, { from: join(root, 'packaging', 'systemd', unit) });
  put('usr/lib/sysusers.d/c8ytoken.conf', { from: join(root, 'packaging', 'deb', 'c8ytoken.sysusers') });
  put('usr/share/doc/c8ytoken/copyright', copyright(notices));
  put('usr/share/doc/c8ytoken/examples/device.yaml', { from: join(root, 'packaging', 'deb', 'device.yaml.example') });
  put('usr/share/doc/c8ytoken/changelog.gz', gzipSync(changelog(version), { level: 9 }));
  put('usr/share/doc/c8ytoken/README.md.gz', gzipSync(readFileSync(join(root, 'README.md')), { level: 9 }));
  const distribution = join(root, 'docs', 'distribution.md');
  if (existsSync(distribution)) put('usr/share/doc/c8ytoken/distribution.md.gz', gzipSync(readFileSync(distribution), { level: 9 }));
  for (const script of ['postinst', 'prerm', 'postrm']) put(`DEBIAN/${script}`, { from: join(root, 'packaging', 'deb', script) }, 0o755);
  put('DEBIAN/control', control({ arch, version, binary, installedKiB: duKiB(stage) }));

  const file = join(outDir, `c8ytoken_${debVersion(version)}_${arch}.deb`);
  const t0 = Date.now();
  // xz at dpkg's default level: about 90 s of CPU for the 100 MB binary, the smallest download.
  const built = spawnSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, file], { encoding: 'utf8' });
  if (built.status !== 0) return { ok: false, line: `dpkg-deb --build failed: ${built.stderr.trim()}` };
  say(`${basename(file)} ${(statSync(file).size / 1024 / 1024).toFixed(1)} MB (dpkg-deb ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const failed = checkDeb(file, arch, version, workDir, say);
  return failed ? { ok: false, line: failed } : { file };
}

/** `c8ytoken completion SHELL` from the program as built (dist/). */
function completion(shell) {
  const run = spawnSync(process.execPath, [join(root, 'bin', 'c8ytoken.js'), 'completion', shell], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (run.status === 0 && run.stdout.trim()) return { text: run.stdout };
  return { reason: `\`c8ytoken completion ${shell}\` failed (exit ${run.status}): ${run.stderr.trim()}` };
}

function duKiB(dir) {
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else bytes += statSync(join(d, e.name)).size;
    }
  };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

/** The shared libraries' versions the runtime needs, from its ELF version references (readelf -V). */
function depends(binary) {
  const r = spawnSync('readelf', ['-V', '--wide', binary], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const max = (prefix) =>
    [...new Set([...(r.stdout ?? '').matchAll(new RegExp(`${prefix}_([0-9.]+)`, 'g'))].map((m) => m[1]))]
      .sort((a, b) => a.split('.').map(Number).reduce((d, x, i) => d || x - (b.split('.').map(Number)[i] ?? 0), 0))
      .at(-1);
  const glibc = max('GLIBC') ?? '2.28';
  // GLIBCXX_3.4.N appeared with these GCC releases (Debian's libstdc++6 versions follow GCC's).
  const gcc = { 19: '4.8', 20: '4.9', 21: '5.2', 22: '6', 23: '7', 24: '7', 25: '8', 26: '9', 27: '9', 28: '10', 29: '11', 30: '12', 31: '13', 32: '13.2', 33: '14' };
  const cxx = max('GLIBCXX');
  const stdcxx = cxx ? gcc[Number(cxx.split('.')[2])] : undefined;
  // adduser: postinst creates the c8ytoken user with it where systemd-sysusers is not there.
  return [`libc6 (>= ${glibc})`, stdcxx ? `libstdc++6 (>= ${stdcxx})` : 'libstdc++6', 'libgcc-s1 | libgcc1', 'adduser'].join(', ');
}

/** A native package's changelog (Debian policy 12.7): one entry for this version, dated by the last commit. */
function changelog(version) {
  const git = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' });
  const seconds = Number(process.env.SOURCE_DATE_EPOCH || git.stdout?.trim()) || Math.floor(Date.now() / 1000);
  const date = new Date(seconds * 1000).toUTCString().replace('GMT', '+0000');
  return `c8ytoken (${debVersion(version)}) unstable; urgency=medium\n\n  * c8ytoken ${version}: see README.md.\n\n -- ${MAINTAINER}  ${date}\n`;
}

function control({ arch, version, binary, installedKiB }) {
  return `${[
    'Package: c8ytoken',
    `Version: ${debVersion(version)}`,
    `Architecture: ${arch}`,
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${installedKiB}`,
    `Depends: ${depends(binary)}`,
    'Recommends: systemd',
    // Keys in TPMs, smartcards and HSMs (--key pkcs11:...) go through OpenSSL's PKCS#11 engine and the openssl command.
    'Suggests: libengine-pkcs11-openssl, openssl',
    'Section: utils',
    'Priority: optional',
    'Description: Cumulocity IoT device access tokens over mutual TLS',
    ' c8ytoken gets a Cumulocity IoT device access token (JWT) with the device\'s',
    ' X.509 certificate (PEM, PKCS#12 or JKS), keeps a token file fresh (watch),',
    ' explains tokens (inspect) and finds certificate problems locally',
    ' (verify-chain).',
    ' .',
    ' This package carries the standalone binary (Node.js inside) and systemd',
    ' units: c8ytoken-watch@DEVICE.service keeps /var/lib/c8ytoken/DEVICE/token',
    ' fresh from /etc/c8ytoken/DEVICE.yaml, c8ytoken-cert-renew@DEVICE.timer',
    ' renews the device certificate when it expires within 30 days.',
  ].join('\n')}\n`;
}

function copyright(notices) {
  const license = readFileSync(join(root, 'LICENSE'), 'utf8').trim();
  const indent = (text) => text.split('\n').map((l) => (l.trim() ? ` ${l}` : ' .')).join('\n');
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: c8ytoken',
    '',
    'Files: *',
    'Copyright: c8ytoken contributors',
    'License: MIT',
    indent(license),
    '',
    'Comment: The binary /usr/bin/c8ytoken is the Node.js runtime with c8ytoken and',
    ' the npm packages it uses inside. Their licences, and that of Node.js, follow.',
    indent(notices ?? ''),
    '',
  ].join('\n');
}

/** Checks a built package; returns a failure line, or undefined when all is well. */
function checkDeb(file, arch, version, workDir, say) {
  const info = spawnSync('dpkg-deb', ['-I', file], { encoding: 'utf8' });
  const contents = spawnSync('dpkg-deb', ['-c', file], { encoding: 'utf8' });
  if (info.status !== 0 || contents.status !== 0) return `dpkg-deb -I/-c failed: ${info.stderr}${contents.stderr}`;
  const field = (name) => new RegExp(`^ ${name}: (.*)$`, 'm').exec(info.stdout)?.[1];
  say(`dpkg-deb -I: Package ${field('Package')}, Version ${field('Version')}, Architecture ${field('Architecture')}, Depends ${field('Depends')}`);
  const paths = contents.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(5).join(' '));
  const files = paths.filter((p) => !p.endsWith('/'));
  say(`dpkg-deb -c: ${files.length} files: ${files.map((p) => p.replace(/^\.\//, '/')).join(' ')}`);
  const owners = new Set(contents.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[1]));
  if ([...owners].some((o) => o !== 'root/root')) return `files not owned by root/root: ${[...owners].join(', ')}`;
  if (field('Architecture') !== arch || field('Version') !== debVersion(version)) return 'control fields do not match';
  const missing = ['usr/bin/c8ytoken', 'usr/share/man/man1/c8ytoken.1.gz', ...Object.values(COMPLETIONS)].filter((p) => !files.includes(`./${p}`));
  if (missing.length) return `missing from the package: ${missing.join(', ')}`;

  const scratch = mkdtempSync(join(tmpdir(), 'c8ytoken-deb-'));
  try {
    const x = spawnSync('dpkg', ['-x', file, scratch], { encoding: 'utf8' });
    if (x.status !== 0) return `dpkg -x failed: ${x.stderr}`;
    const bin = join(scratch, 'usr', 'bin', 'c8ytoken');
    const native = (process.arch === 'x64' && arch === 'amd64') || (process.arch === 'arm64' && arch === 'arm64');
    let run;
    if (native) run = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    else if (arch === 'arm64') {
      const qemu = findQemuAarch64();
      if (qemu.skip) say(`binary from dpkg -x: not run: ${qemu.skip}`);
      else run = spawnSync(qemu.cmd, [bin, '--version'], { encoding: 'utf8', env: { ...process.env, ...qemu.env } });
    }
    if (run) {
      if (run.stdout !== `${version}\n`) return `binary from dpkg -x printed ${JSON.stringify(run.stdout + run.stderr)}`;
      say(`binary from dpkg -x: --version ${run.stdout.trim()}${native ? '' : ' (under qemu)'}`);
    }
    // The completion scripts as installed: each shell that is here must accept its script.
    for (const [shell, path] of Object.entries(COMPLETIONS)) {
      if (!hasCommand(shell, ['--version'])) continue;
      const check = spawnSync(shell, ['-n', join(scratch, path)], { encoding: 'utf8' });
      if (check.status !== 0) return `${shell} -n ${path}: ${check.stderr.trim()}`;
    }
    const shells = Object.keys(COMPLETIONS).filter((shell) => hasCommand(shell, ['--version']));
    say(`completions: ${shells.length ? `${shells.join(', ')} -n accept the installed scripts` : 'not checked: no bash, zsh or fish here'}`);
    return verifyUnits(scratch, bin, say);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * systemd-analyze verify on instances of the packaged units. The units name /usr/bin/c8ytoken, which is
 * not installed on this machine: copies naming the scratch root's binary are verified instead.
 */
function verifyUnits(scratch, bin, say) {
  if (!hasCommand('systemd-analyze', ['--version'])) return void say('systemd units: not verified: systemd-analyze not found');
  const dir = join(scratch, 'verify');
  mkdirSync(dir);
  for (const unit of UNITS) {
    const text = readFileSync(join(scratch, 'usr', 'lib', 'systemd', 'system', unit), 'utf8').replaceAll('/usr/bin/c8ytoken', bin);
    writeFileSync(join(dir, unit), text);
  }
  const instances = UNITS.map((u) => join(dir, u.replace('@.', '@device1.')));
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...instances], { encoding: 'utf8' });
  const problems = `${r.stdout}${r.stderr}`.trim();
  if (r.status !== 0 || problems) return `systemd-analyze verify: ${problems || `exit ${r.status}`}`;
  say(`systemd units: systemd-analyze verify passed (${UNITS.map((u) => u.replace('@.', '@device1.')).join(', ')})`);
  return undefined;
}

// On its own: package the binaries already in release/.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outDir = join(root, 'release');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const notices = existsSync(join(outDir, 'THIRD-PARTY-NOTICES.txt')) ? readFileSync(join(outDir, 'THIRD-PARTY-NOTICES.txt'), 'utf8') : undefined;
  let failed = false;
  for (const [target, arch] of [['linux-x64', 'amd64'], ['linux-arm64', 'arm64']]) {
    const binary = join(outDir, `c8ytoken-${target}`);
    if (!existsSync(binary)) {
      console.log(`${arch}.deb: skipped: ${binary.slice(root.length)} not built (npm run release)`);
      continue;
    }
    const r = buildDeb({ arch, binary, version, outDir, workDir: join(outDir, '.build', `deb-${target}`), notices });
    if (r?.ok === false) {
      console.error(`${arch}.deb: FAILED: ${r.line}`);
      failed = true;
    }
  }
  process.exitCode = failed ? 1 : 0;
}
