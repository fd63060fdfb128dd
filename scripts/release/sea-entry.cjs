// The entry of the standalone binaries (Node's single executable applications): bundled by esbuild with
// dist/c8ytoken.cjs and everything it requires into one CommonJS file (scripts/release/sea-bundle.js),
// which the binary runs instead of bin/c8ytoken.js. It wires the process exactly as bin/c8ytoken.js
// does: --version answered without starting the program, everything else by the bundle's runAsProcess
// (src/cli/process.ts: streams, signals, exit code). The version is put in at build time
// (C8YTOKEN_VERSION, from package.json): there is no package.json beside a binary to read it from.
// A binary's process.argv is [binary, binary, ...arguments] (Node inserts the second), as for a script.
'use strict';

/* global C8YTOKEN_VERSION */
const version = C8YTOKEN_VERSION;
if (process.argv.length === 3 && process.argv[2] === '--version') {
  // Scripts call this to probe for the tool: answer without starting the program (esbuild runs a
  // bundled module's top level only when it is first required).
  process.stdout.write(`${version}\n`);
} else {
  const cli = require('../../dist/c8ytoken.cjs');
  cli.runAsProcess(process, cli.main, version);
}
