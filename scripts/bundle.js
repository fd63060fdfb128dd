#!/usr/bin/env node
// Bundles the CLI into one minified CommonJS file, dist/c8ytoken.cjs, for start-up speed: Node compiles
// one file instead of resolving a graph of ~40 ES modules, and skips the ES module loader on the way in.
// Modules the program imports lazily stay lazy inside the bundle (esbuild runs their top level only
// when first imported), and the heavy dependencies (ora, cosmiconfig) stay external, loaded by import()
// only by the commands that need them. tsc still type-checks and emits dist/ for the modules the
// tests, the scripts and the local endpoint use.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/c8ytoken.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['cosmiconfig', 'ora'],
  minify: true,
  // Function and class names stay, so a stack trace of an internal error still reads.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});
