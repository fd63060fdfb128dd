// Compiles dist/c8ytoken.cjs as bin/c8ytoken.js does, runs the program once (inspect and help, into a
// sink), and writes V8's code cache beside it: dist/c8ytoken.cjs.v8cache.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const file = path.join(__dirname, '..', 'dist', 'c8ytoken.cjs');
const source = fs.readFileSync(file, 'utf8');
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
});
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, createRequire(file), module_, file, path.dirname(file));
const sink = { write: () => true, isTTY: false };
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = `${b64({ alg: 'RS256' })}.${b64({ exp: 4102444800, sub: 'device_x', ten: 't1' })}.c2ln`;
const io = { stdout: sink, stderr: sink, stdin: () => process.stdin, stdinIsTTY: false, env: {}, cwd: process.cwd(), version: '0' };
(async () => {
  await module_.exports.main(['inspect', token], io);
  await module_.exports.main(['--help'], io);
  fs.writeFileSync(`${file}.v8cache`, script.createCachedData());
})();
