// Bundles scripts/release/sea-entry.cjs with dist/c8ytoken.cjs, its chunks (dist/chunks/, which it
// requires) and its runtime dependencies into one CommonJS file for a single executable application (a
// SEA's main script can require only Node's built-in modules): the binaries keep one script, in which each
// chunk still runs only when a command first requires it. Run `npm run build` first. Also lists the
// bundled packages and their licences.
import { build } from 'esbuild';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export function packageVersion() {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
}

/** Writes the bundle to `outfile`. */
export async function bundleSeaEntry(outfile, { version = packageVersion() } = {}) {
  if (!existsSync(join(root, 'dist', 'c8ytoken.cjs'))) throw new Error('dist/c8ytoken.cjs is missing: run `npm run build` first');
  await build({
    entryPoints: [join(root, 'scripts', 'release', 'sea-entry.cjs')],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    define: { C8YTOKEN_VERSION: JSON.stringify(version) },
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: root,
  });
}

/**
 * The npm packages whose code is in the program: the inputs under node_modules/ of a bundle of src/cli.ts
 * with everything inlined (dist/c8ytoken.cjs inlines all but js-yaml, which the SEA bundle and an npm
 * install bring), each with its licence text.
 */
export async function bundledPackages() {
  const { metafile } = await build({
    entryPoints: [join(root, 'src', 'cli.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.replaceAll('\\', '/'));
    if (m) dirs.add(m[1]);
  }
  return [...dirs].sort().map((dir) => {
    const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    const file = readdirSync(join(root, dir)).find((n) => /^(licen[cs]e|copying)(\.md|\.txt)?$/i.test(n));
    return { name: pkg.name, version: pkg.version, license: pkg.license, text: file ? readFileSync(join(root, dir, file), 'utf8').trim() : undefined };
  });
}

/** THIRD-PARTY-NOTICES text: the bundled packages' licences, and Node.js's when given. */
export function noticesText(packages, nodeLicense) {
  const parts = [
    'c8ytoken includes the following third-party software. Their licences follow.',
    ...packages.map((p) => `------------------------------------------------------------------------\n${p.name} ${p.version} (${p.license})\n\n${p.text ?? `Licence: ${p.license} (no licence file in the package)`}`),
  ];
  if (nodeLicense) parts.push(`------------------------------------------------------------------------\nNode.js ${nodeLicense.version} (the runtime inside the standalone binaries)\n\n${nodeLicense.text.trim()}`);
  return `${parts.join('\n\n')}\n`;
}
