// Compiles dist/c8ytoken.cjs as bin/c8ytoken.js does, runs the program through its common paths into a
// sink (inspect, help, a fetch answered from a token file, a fetch that fails to connect), and writes
// V8's code cache beside it, dist/c8ytoken.cjs.v8cache, so those paths start compiled.
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
const pki = (name) => path.join(__dirname, '..', 'fixtures', 'pki', name);
const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'c8ytoken-cache-'));
const now = Math.floor(Date.now() / 1000);
// A token for the fixture device before its half-life: fetch -o answers from the file.
fs.writeFileSync(path.join(dir, 'token'), `${b64({ alg: 'RS256' })}.${b64({ sub: 'device_rsa-device-001', iss: '127.0.0.1', iat: now, exp: now + 3600 })}.c2ln`);
const pem = ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--truststore', pki('truststore.pem')];
(async () => {
  await module_.exports.main(['inspect', token], io);
  await module_.exports.main(['--help'], io);
  await module_.exports.main(['fetch', '--url', 'https://127.0.0.1:9', ...pem, '-o', path.join(dir, 'token')], io);
  await module_.exports.main(['fetch', '--url', 'https://127.0.0.1:9', '--timeout', '2s', ...pem], io);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.writeFileSync(`${file}.v8cache`, script.createCachedData());
})();
