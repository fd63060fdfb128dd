// Imports names from the TypeScript sources in src/ for a script that runs outside the build (the man
// page, the options reference): esbuild bundles a one-line module for this one run, written beside
// node_modules so that the packages it leaves external resolve, and removed again.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The module that `source` (export statements naming ./src/... files) makes, e.g. "export { X } from './src/a.ts';". */
export async function importSources(source) {
  mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
  const dir = mkdtempSync(join(root, 'node_modules', '.cache', 'c8ytoken-sources-'));
  try {
    const out = join(dir, 'sources.mjs');
    await build({ stdin: { contents: source, resolveDir: root, loader: 'ts' }, outfile: out, bundle: true, format: 'esm', platform: 'node', packages: 'external', logLevel: 'warning' });
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
