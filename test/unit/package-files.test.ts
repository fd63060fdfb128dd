/**
 * The npm package: what `npm pack` puts in the tarball (package.json's `files`), and that what the bundle
 * requires at run time is installed with it. `npm run test:pack` installs and runs the real tarball.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/paths.js';
import { tempDir } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
/** The program's files in dist/: the bundle and its chunks (scripts/bundle.js). */
const bundleFiles = (): string[] => [
  join(root, 'dist', 'c8ytoken.cjs'),
  ...readdirSync(join(root, 'dist', 'chunks'))
    .filter((n) => n.endsWith('.cjs'))
    .map((n) => join(root, 'dist', 'chunks', n)),
];

describe('the npm package', () => {
  it('holds the runtime files, the code cache, the man page and the licence, and nothing else', () => {
    const cli = process.env.npm_execpath?.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
    const run = spawnSync(cli[0]!, [...cli.slice(1), 'pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const [info] = JSON.parse(run.stdout.slice(run.stdout.indexOf('['))) as { files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path).sort();
    // dist/THIRD-PARTY-NOTICES.txt is made by `npm pack` (prepack), when it has run.
    const optional = ['dist/THIRD-PARTY-NOTICES.txt'];
    // The chunks (named by their content's hash), each with its code cache; at least the commands'.
    const chunks = readdirSync(join(root, 'dist', 'chunks')).map((n) => `dist/chunks/${n}`);
    expect(chunks.filter((f) => f.endsWith('.cjs')).length).toBeGreaterThan(10);
    expect(chunks.filter((f) => f.endsWith('.cjs')).map((f) => `${f}.v8cache`)).toEqual(chunks.filter((f) => f.endsWith('.v8cache')));
    expect(files.filter((f) => !optional.includes(f))).toEqual(
      ['LICENSE', 'README.md', 'bin/c8ytoken.js', 'bin/package.json', 'dist/c8ytoken.cjs', 'dist/c8ytoken.cjs.v8cache', ...chunks, 'man/c8ytoken.1', 'package.json'].sort(),
    );
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} c8ytoken contributors\n/);
  });

  it('bundles everything but built-ins and its dependencies (devDependencies are not installed with it)', () => {
    const bundle = bundleFiles()
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const required = new Set([...bundle.matchAll(/require\(["'`]([^"'`]+)["'`]\)/g)].map((m) => m[1]!));
    const packages = [...required].filter((r) => !r.startsWith('node:') && !builtinModules.includes(r) && !r.startsWith('./'));
    const name = (r: string) =>
      r
        .split('/')
        .slice(0, r.startsWith('@') ? 2 : 1)
        .join('/');
    expect(packages.filter((r) => !(name(r) in (pkg.dependencies ?? {})))).toEqual([]);
  });

  it('the bundle and its chunks have no import(): the bin runs them through vm.Script, which has no dynamic import (Node would reject it at run time)', () => {
    for (const file of bundleFiles())
      expect(
        [...readFileSync(file, 'utf8').matchAll(/\bimport\((["'`][^"'`]*["'`])\)/g)].map((m) => m[1]),
        file,
      ).toEqual([]);
  });
});

describe('the systemd units (packaging/systemd)', () => {
  const units = ['c8ytoken-watch@.service', 'c8ytoken-proxy@.service', 'c8ytoken-cert-renew@.service'];
  const text = (unit: string): string => readFileSync(join(root, 'packaging/systemd', unit), 'utf8');
  const directives = (unit: string): string[] =>
    text(unit)
      .split('\n')
      .filter((l) => /^[A-Z]\w*=/.test(l));
  const hasAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

  it('write no core dump (it would hold the keystore password and key), see only their own /proc and mount nothing', () => {
    for (const unit of units) expect(directives(unit), unit).toEqual(expect.arrayContaining(['LimitCORE=0', 'ProcSubset=pid', 'PrivateMounts=yes', 'NoNewPrivileges=yes', 'CapabilityBoundingSet=']));
  });

  describe.skipIf(!hasAnalyze)(`systemd-analyze${hasAnalyze ? '' : ' (skipped: systemd-analyze is not installed)'}`, () => {
    const dir = tempDir('units-');
    const instance = (unit: string): string => {
      const name = unit.replace('@.', '@dev.');
      writeFileSync(join(dir, name), text(unit));
      return name;
    };

    it('verify finds nothing but what this machine lacks (the installed binary and man page)', () => {
      // The proxy's socket unit (socket activation) with its service.
      const run = spawnSync('systemd-analyze', ['verify', ...[...units, 'c8ytoken-proxy@.socket'].map(instance)], { cwd: dir, encoding: 'utf8' });
      const problems = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l && !/Command \/usr\/bin\/c8ytoken is not executable|Command 'man c8ytoken\(1\)' failed/.test(l));
      expect(problems).toEqual([]);
    });

    it('security: every exposure it still lists is explained in the unit', () => {
      for (const unit of units) {
        const run = spawnSync('systemd-analyze', ['security', '--offline=yes', instance(unit)], { cwd: dir, encoding: 'utf8' });
        const open = run.stdout.split('\n').flatMap((l) => /^✗ (\w+)=/.exec(l)?.[1] ?? []);
        expect(open.length, run.stdout).toBeGreaterThan(0);
        const comments = text(unit)
          .split('\n')
          .filter((l) => l.startsWith('#'))
          .join('\n');
        for (const name of open) expect(comments, `${unit}: ${name}`).toContain(`${name}=`);
        expect(open).not.toContain('ProcSubset');
        expect(open).not.toContain('PrivateMounts');
      }
    });
  });
});
