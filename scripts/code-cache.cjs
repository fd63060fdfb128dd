// Loads dist/c8ytoken.cjs as bin/c8ytoken.js does, runs the program through its common paths into a
// sink (inspect, help, a fetch answered from a token file, fetches with PEM files and a keystore that fail
// to connect), loads every chunk the run did not need, and writes V8's code cache beside each file
// (FILE.v8cache), so those paths start compiled and every chunk at least has its top level compiled.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadBundle } = require('../bin/c8ytoken.js');

const dist = path.join(__dirname, '..', 'dist');
const loaded = { modules: new Map(), scripts: new Map() };
const cli = loadBundle(path.join(dist, 'c8ytoken.cjs'), loaded);
const sink = { write: () => true, isTTY: false };
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = `${b64({ alg: 'RS256' })}.${b64({ exp: 4102444800, sub: 'device_x', ten: 't1' })}.c2ln`;
const io = { stdout: sink, stderr: sink, stdin: () => process.stdin, stdinIsTTY: false, env: { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' }, cwd: process.cwd(), version: '0' };
const pki = (name) => path.join(__dirname, '..', 'fixtures', 'pki', name);
const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'c8ytoken-cache-'));
const now = Math.floor(Date.now() / 1000);
// A token for the fixture device before its half-life: fetch -o answers from the file.
fs.writeFileSync(path.join(dir, 'token'), `${b64({ alg: 'RS256' })}.${b64({ sub: 'device_rsa-device-001', iss: '127.0.0.1', iat: now, exp: now + 3600 })}.c2ln`);
const pem = ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--truststore', pki('truststore.pem')];
const unreachable = ['--url', 'https://127.0.0.1:9', '--timeout', '2s'];
(async () => {
  await cli.main(['inspect', token], io);
  await cli.main(['--help'], io);
  await cli.main(['fetch', ...unreachable, ...pem, '-o', path.join(dir, 'token')], io);
  await cli.main(['fetch', ...unreachable, ...pem], io);
  await cli.main(['fetch', ...unreachable, '--keystore', pki('device-rsa.p12'), '--truststore', pki('truststore.pem')], io);
  fs.rmSync(dir, { recursive: true, force: true });
  // The chunks of the other commands: loaded, not run (a chunk's top level only defines its functions).
  const chunks = path.join(dist, 'chunks');
  for (const name of fs.readdirSync(chunks).filter((n) => n.endsWith('.cjs'))) {
    try {
      loadBundle(path.join(chunks, name), loaded);
    } catch {
      // the stand-in for kerberos (scripts/bundle.js) throws by design; its script is compiled all the same
    }
  }
  for (const [file, script] of loaded.scripts) fs.writeFileSync(`${file}.v8cache`, script.createCachedData());
})();
