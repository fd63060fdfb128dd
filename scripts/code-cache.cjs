// Loads dist/c8ytoken.cjs as bin/c8ytoken.js does, runs the program through its common paths into a
// sink (inspect, help, a fetch answered from a token file, fetches with PEM files and a keystore that fail
// to connect), loads every chunk the run did not need, and writes V8's code cache beside each file
// (FILE.v8cache), so those paths start compiled and every chunk at least has its top level compiled.
// Then the packs: for inspect and fetch, the files their runs loaded, in one file
// (dist/chunks/pack-COMMAND.cjs, see bin/c8ytoken.js loadBundle), with a code cache made the same way.
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
const runs = {
  inspect: [['inspect', token]],
  help: [['--help']],
  fetch: [
    ['fetch', ...unreachable, ...pem, '-o', path.join(dir, 'token')],
    ['fetch', ...unreachable, ...pem],
    ['fetch', ...unreachable, '--keystore', pki('device-rsa.p12'), '--truststore', pki('truststore.pem')],
  ],
};
// A pack holds the files that each of its runs loads (for fetch: what a fetch answered from its token
// file loads; a request's network code and a keystore's readers come from their own files).
const PACKS = { inspect: runs.inspect, fetch: runs.fetch.slice(0, 2) };

/** Runs `argvs` in a program of its own (loaded afresh: `options` as loadBundle takes them); its scripts by file, in the order loaded. */
async function scriptsOf(argvs, options) {
  const own = { modules: new Map(), scripts: new Map(), ...options };
  const program = loadBundle(path.join(dist, 'c8ytoken.cjs'), own);
  for (const argv of argvs) await program.main(argv, io);
  return own.scripts;
}

(async () => {
  for (const command of Object.keys(runs)) for (const argv of runs[command]) await cli.main(argv, io);
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

  for (const [command, argvs] of Object.entries(PACKS)) {
    const each = [];
    for (const argv of argvs) each.push(new Set((await scriptsOf([argv])).keys()));
    const files = [...each[0]].filter((f) => each.every((loadedBy) => loadedBy.has(f)));
    const pack = path.join(chunks, `pack-${command}.cjs`);
    const entries = files.map((f) => `${JSON.stringify(path.relative(dist, f).replaceAll('\\', '/'))}: function (exports, require, module, __filename, __dirname) {${fs.readFileSync(f, 'utf8')}\n}`);
    fs.writeFileSync(pack, `({\n${entries.join(',\n')}\n})`);
    // the pack's own cache, after its runs through it
    fs.writeFileSync(`${pack}.v8cache`, (await scriptsOf(argvs, { pack })).get(pack).createCachedData());
  }
  fs.rmSync(dir, { recursive: true, force: true });
})();
