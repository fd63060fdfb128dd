#!/usr/bin/env node
// Bundles the CLI into one minified CommonJS file, dist/c8ytoken.cjs, for start-up speed: Node compiles
// one file instead of resolving a graph of ~40 ES modules, skips the ES module loader on the way in, and
// bin/c8ytoken.js can use V8's code cache for it (made below). Modules the program imports lazily stay
// lazy inside the bundle (esbuild runs their top level only when first imported). The local endpoint is
// bundled too (dist/emulator.js) for the scripts (demo, emulator, bench, soak); the tests run the
// sources, and type checking is `tsc --noEmit`, once, in `npm test`.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/c8ytoken.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // js-yaml stays a package of its own, required only when a YAML config file is read; ora (ESM-only,
  // and used only at a terminal) is bundled, so the program has no import() for bin's code cache to trip on.
  // https-proxy-agent is bundled too, run only when a proxy is used; kerberos, the optional package of its
  // Negotiate authentication (which c8ytoken never asks for), is a module that throws, so the bundle has
  // no import() at all and the library's own "kerberos is required" message stands if it were ever asked.
  external: ['js-yaml'],
  plugins: [
    {
      name: 'no-kerberos',
      setup(b) {
        b.onResolve({ filter: /^kerberos$/ }, () => ({ path: 'kerberos', namespace: 'absent' }));
        b.onLoad({ filter: /.*/, namespace: 'absent' }, () => ({ contents: "throw new Error('kerberos is not part of c8ytoken');", loader: 'js' }));
      },
    },
  ],
  minify: true,
  // Function and class names stay, so a stack trace of an internal error still reads.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});

await build({
  entryPoints: ['test/emulator/server.ts'],
  outfile: 'dist/emulator.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

// V8's code cache for the bundle, made after a representative run so that the functions start-up
// needs are compiled in it; bin/c8ytoken.js uses it when the Node version matches.
const { spawnSync } = await import('node:child_process');
const made = spawnSync(process.execPath, [new URL('./code-cache.cjs', import.meta.url).pathname], { stdio: 'inherit' });
if (made.status !== 0) throw new Error('making the code cache failed');
