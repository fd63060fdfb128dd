// Loads dist/c8ytoken.cjs as bin/c8ytoken.js does, runs the program through its common paths into a
// sink (inspect, help, a fetch answered from a token file, fetches that connect to the local test endpoint
// with PEM files and keystores, fetches that fail to connect), loads every chunk the runs did not need, and
// writes V8's code cache beside each file (FILE.v8cache), so those paths start compiled and every chunk at
// least has its top level compiled. Then the packs (see bin/c8ytoken.js loadBundle): the files their runs
// loaded, in one file with a code cache made the same way. For inspect and fetch, dist/chunks/pack-COMMAND.cjs;
// beside fetch's, the files only a fetch that connects loads (pack-net.cjs: the request, the answer, TLS,
// the truststore) and those only a keystore adds (pack-keystore.cjs), named in pack-fetch.cjs and read
// when first needed, so a fetch answered from its token file reads neither.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { loadBundle } = require('../bin/c8ytoken.js');

const dist = path.join(__dirname, '..', 'dist');
const chunks = path.join(dist, 'chunks');
const loaded = { modules: new Map(), scripts: new Map() };
const cli = loadBundle(path.join(dist, 'c8ytoken.cjs'), loaded);
const sink = { write: () => true, isTTY: false };
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = `${b64({ alg: 'RS256' })}.${b64({ exp: 4102444800, sub: 'device_x', ten: 't1' })}.c2ln`;
const pki = (name) => path.join(__dirname, '..', 'fixtures', 'pki', name);
const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'c8ytoken-cache-'));
// In a folder and home of their own: a config file of the developer's (.c8ytokenrc up the folders, or in
// the user's config folder) must not change which paths the runs take, and so what the packs hold.
const env = { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit', HOME: dir, USERPROFILE: dir, XDG_CONFIG_HOME: dir, APPDATA: dir };
const io = { stdout: sink, stderr: sink, stdin: () => process.stdin, stdinIsTTY: false, env, cwd: dir, version: '0' };
const now = Math.floor(Date.now() / 1000);
// A token for the fixture device before its half-life: fetch -o answers from the file.
fs.writeFileSync(path.join(dir, 'token'), `${b64({ alg: 'RS256' })}.${b64({ sub: 'device_rsa-device-001', iss: '127.0.0.1', iat: now, exp: now + 3600 })}.c2ln`);
const pem = ['--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key'), '--truststore', pki('truststore.pem')];
const unreachable = ['--url', 'https://127.0.0.1:9', '--timeout', '2s'];

/** The local test endpoint (dist/emulator.js, built before this runs) in a process of its own: its URL, and how to stop it. */
function startEndpoint() {
  const child = spawn(process.execPath, [path.join(__dirname, 'emulator.js'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /on (https:\/\/localhost:\d+)/.exec(err);
      if (m) resolve({ url: m[1], stop: () => child.kill() });
    });
    child.on('exit', (code) => reject(new Error(`the test endpoint exited (${code}): ${err}`)));
    setTimeout(() => {
      child.kill();
      reject(new Error(`the test endpoint did not start in 30 s: ${err}`));
    }, 30_000).unref();
  });
}

/** The exit code each run must end with, where it is not 0 (the fetches that cannot connect: 5). */
const exitCodes = new Map();

/**
 * Runs the program as a command line would, and fails the build when a run ends otherwise than it must: a
 * pack made from runs that failed (the endpoint gone, a fixture expired) would hold the error path instead
 * of the one it is for.
 */
async function run(program, argv) {
  const code = await program.main(argv, io);
  const expected = exitCodes.get(argv) ?? 0;
  if (code !== expected) throw new Error(`code cache: c8ytoken ${argv.join(' ')} exited ${code}, not ${expected}`);
}

/** Runs `argvs` in a program of its own (loaded afresh: `options` as loadBundle takes them); its scripts by file, in the order loaded. */
async function scriptsOf(argvs, options) {
  const own = { modules: new Map(), scripts: new Map(), ...options };
  const program = loadBundle(path.join(dist, 'c8ytoken.cjs'), own);
  for (const argv of argvs) await run(program, argv);
  return own.scripts;
}

const nameOf = (file) => path.relative(dist, file).replaceAll('\\', '/');

(async () => {
  const endpoint = await startEndpoint();
  try {
    const connecting = ['--url', endpoint.url, '--truststore', pki('truststore.pem')];
    const cached = ['fetch', ...unreachable, ...pem, '-o', path.join(dir, 'token')];
    const connectingPem = ['fetch', ...connecting, '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')];
    const keystores = ['device-rsa.p12', 'device-rsa.legacy.p12', 'device-rsa.keytool.p12', 'device-rsa.jks'].map((k) => ['fetch', ...connecting, '--keystore', pki(k)]);
    const failing = [
      ['fetch', ...unreachable, ...pem],
      ['fetch', ...unreachable, '--keystore', pki('device-rsa.p12'), '--truststore', pki('truststore.pem')],
    ];
    for (const argv of failing) exitCodes.set(argv, 5);
    const runs = [
      ['inspect', token],
      ['--help'],
      cached,
      connectingPem,
      ...keystores,
      // the error path
      ...failing,
    ];
    for (const argv of runs) await run(cli, argv);
    // The chunks of the other commands: loaded, not run (a chunk's top level only defines its functions).
    for (const name of fs.readdirSync(chunks).filter((n) => n.endsWith('.cjs'))) {
      try {
        loadBundle(path.join(chunks, name), loaded);
      } catch {
        // the stand-in for kerberos (scripts/bundle.js) throws by design; its script is compiled all the same
      }
    }
    for (const [file, script] of loaded.scripts) fs.writeFileSync(`${file}.v8cache`, script.createCachedData());

    // A pack holds the files every one of its runs loads, less those of the packs before it in its group
    // (for fetch: what a fetch answered from its token file loads; then what a connecting fetch adds,
    // whatever its credentials; then what every keystore adds). The first pack of a group is the one the
    // bin reads; it names the files of the others and their pack.
    const groups = [
      [{ name: 'pack-inspect', runs: [runs[0]] }],
      [
        { name: 'pack-fetch', runs: [cached, connectingPem] },
        { name: 'pack-net', runs: [connectingPem, ...keystores] },
        { name: 'pack-keystore', runs: keystores },
      ],
    ];
    const filesOfRun = new Map();
    for (const group of groups) {
      const taken = new Set();
      for (const pack of group) {
        const each = [];
        for (const argv of pack.runs) {
          if (!filesOfRun.has(argv)) filesOfRun.set(argv, new Set((await scriptsOf([argv])).keys()));
          each.push(filesOfRun.get(argv));
        }
        pack.files = [...each[0]].filter((f) => !taken.has(f) && each.every((loadedBy) => loadedBy.has(f)));
        for (const f of pack.files) taken.add(f);
        pack.file = path.join(chunks, `${pack.name}.cjs`);
      }
      const [first, ...others] = group;
      for (const pack of group) {
        const entries = pack.files.map((f) => `${JSON.stringify(nameOf(f))}: function (exports, require, module, __filename, __dirname) {${fs.readFileSync(f, 'utf8')}\n}`);
        if (pack === first) for (const other of others) entries.push(...other.files.map((f) => `${JSON.stringify(nameOf(f))}: ${JSON.stringify(nameOf(other.file))}`));
        fs.writeFileSync(pack.file, `({\n${entries.join(',\n')}\n})`);
      }
      // each pack's own cache, after its runs through the packs
      for (const pack of group) fs.writeFileSync(`${pack.file}.v8cache`, (await scriptsOf(pack.runs, { pack: first.file })).get(pack.file).createCachedData());
    }
  } finally {
    endpoint.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
