#!/usr/bin/env node
// Bundles the CLI for start-up speed: dist/c8ytoken.cjs (the command table, option parsing, the error
// path) and dist/chunks/*.cjs, one chunk per lazy import() in src (each command's code, the keystore
// readers, EST, the proxy agent, completion, doctor, ora) plus chunks of the code they share. A command
// loads only the chunks it uses, and bin/c8ytoken.js loads each with V8's code cache (made below).
// esbuild splits code only in ES module format, so the chunks are built as ES modules and each is then
// turned into CommonJS (import() into a lazy require()): Node starts them without the ES module loader,
// and on Node 20 only CommonJS code run through vm.Script can use a code cache made at build time.
// dist/c8ytoken.cjs stays an ordinary CommonJS module that requires its chunks, so require() of it works
// too (scripts, and the standalone binaries' single-file bundle, scripts/release/sea-bundle.js).
// The local endpoint is bundled too (dist/emulator.js) for the scripts (demo, emulator, bench, soak);
// the tests run the sources, and type checking is `tsc -b` (no output: tsconfig.json has noEmit), once, in `npm test`.
import { build, transform } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

const split = await build({
  absWorkingDir: root,
  entryPoints: { c8ytoken: 'src/cli.ts' },
  outdir: dist,
  outExtension: { '.js': '.cjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  metafile: true,
  // js-yaml stays a package of its own, required only when a YAML config file is read; ora (ESM-only,
  // and used only at a terminal) and https-proxy-agent (used only with a proxy) are bundled into chunks
  // of their own. kerberos, the optional package of https-proxy-agent's Negotiate authentication (which
  // c8ytoken never asks for), is a module that throws: the library's own "kerberos is required" message
  // stands if it were ever asked.
  external: ['js-yaml'],
  plugins: [
    {
      // commander requires child_process at its top level, only to run git-style executable
      // sub-commands, which c8ytoken has none of: loading it would cost every start-up ~1 ms.
      name: 'commander-lazy-child-process',
      setup(b) {
        b.onResolve({ filter: /^node:child_process$/ }, (args) => (/[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined));
        b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({ contents: "exports.spawn = (...a) => require('node:child_process').spawn(...a);", loader: 'js' }));
      },
    },
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

rmSync(join(dist, 'chunks'), { recursive: true, force: true });
rmSync(join(dist, 'c8ytoken.cjs.v8cache'), { force: true });
// A fresh clone has no dist/ yet (esbuild, told not to write, made none).
mkdirSync(dist, { recursive: true });
// Which sources each file holds, for the test that a command loads only its own (not in the package).
const sources = Object.fromEntries(Object.entries(split.metafile.outputs).map(([file, o]) => [relative('dist', file).replaceAll('\\', '/'), Object.keys(o.inputs)]));
writeFileSync(join(dist, 'c8ytoken.meta.json'), `${JSON.stringify(sources, null, 1)}\n`);
for (const out of split.outputFiles) {
  // import() becomes Promise.resolve().then(() => require(...)): vm.Script, which bin/c8ytoken.js uses
  // for the code cache, has no dynamic import, and a chunk is loaded when first needed all the same.
  const cjs = await transform(out.text, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': false },
    minify: true,
    keepNames: true,
    logLevel: 'warning',
    sourcefile: relative(root, out.path),
  });
  mkdirSync(dirname(out.path), { recursive: true });
  writeFileSync(out.path, cjs.code);
}

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

// V8's code cache for the bundle and each chunk, made after a representative run so that the functions
// start-up needs are compiled in it; bin/c8ytoken.js uses it when the Node version matches.
const { spawnSync } = await import('node:child_process');
const made = spawnSync(process.execPath, [new URL('./code-cache.cjs', import.meta.url).pathname], { stdio: 'inherit' });
if (made.status !== 0) throw new Error('making the code cache failed');
