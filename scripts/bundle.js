#!/usr/bin/env node
// Bundles the CLI for start-up speed: one file for the program and one chunk per lazily loaded command,
// instead of a module graph of ~40 files. The heavy dependencies (ora, cosmiconfig) stay external and
// lazy, so `--help` and `inspect` never load them. tsc still type-checks and emits dist/ for
// the library modules, the local endpoint and the tests.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['cosmiconfig', 'ora'],
  chunkNames: 'chunks/[name]-[hash]',
  // commander is CommonJS: give its require() of Node built-ins a real require in the ESM bundle.
  banner: { js: "import { createRequire as __c8yCreateRequire } from 'node:module'; const require = __c8yCreateRequire(import.meta.url);" },
  define: { __C8YTOKEN_VERSION__: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
});
