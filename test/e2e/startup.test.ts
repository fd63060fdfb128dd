/**
 * Start-up discipline: each command loads only what it needs. Every built-in and CommonJS module is
 * listed at exit (trace-modules.cjs) and every ES module import is traced (trace-hooks.mjs): the network
 * stack (built-ins) and the YAML parser (js-yaml, a package of its own). The program itself is a bundle
 * split at its lazy imports (scripts/bundle.js): which of its chunks a command loads is checked from the
 * sources the build lists for each chunk (dist/c8ytoken.meta.json).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { bin, keystoreFetch, pki, root, RSA_DEVICE } from '../helpers/paths.js';

const hooks = new URL('../helpers/trace-register.mjs', import.meta.url).href;
const preload = new URL('../helpers/trace-modules.cjs', import.meta.url).pathname;
const token = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"exp":4102444800}').toString('base64url')}.c2ln`;

/** Everything a run of the CLI loaded, and its stderr; `devNull`: stdin and stdout on /dev/null, as cron and systemd start it. */
function loadedBy(args: string[], { devNull = false } = {}): Promise<{ loaded: string[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', preload, '--import', hooks, bin, ...args], {
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
      stdio: devNull ? ['ignore', 'ignore', 'pipe'] : 'pipe',
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d)); // a pipe in both stdio forms
    child.stdin?.end();
    child.on('close', () => {
      const loaded = stderr
        .split('\n')
        .filter((l) => l.startsWith('LOADED ') || l.startsWith('IMPORT '))
        .map((l) => l.replace(/^(LOADED|IMPORT) /, ''));
      resolve({ loaded, stderr });
    });
  });
}

// What only fetch, watch and verify-chain need.
const NETWORK = [/^node:https$/, /^node:tls$/];
const HEAVY = [...NETWORK, /[/\\]js-yaml[/\\]/, /node-forge/];
const heavyIn = (loaded: string[], list = HEAVY): string[] => loaded.filter((u) => list.some((h) => h.test(u)));

describe('start-up', () => {
  it('the trace sees what fetch loads (so the checks below can fail)', async () => {
    const { loaded } = await loadedBy(['fetch', '--url', 'https://127.0.0.1:1', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')]);
    expect(loaded).toContain('node:https');
    expect(loaded).toContain('node:vm'); // the bin loaded the bundle
  });

  it('--version answers without loading the program', async () => {
    const { loaded } = await loadedBy(['--version']);
    expect(loaded).not.toContain('node:vm');
  });

  it('a YAML config file loads js-yaml (so the check below can fail)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.c8ytokenrc.yaml'), 'url: https://127.0.0.1:1\n');
    const run = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--require', preload, bin, 'fetch', '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '' },
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', () => resolve(stderr));
    });
    expect(run).toMatch(/LOADED .*[/\\]js-yaml[/\\]/);
  });

  for (const args of [['--help'], ['inspect', token], ['inspect', '--help'], ['fetch', '--help']]) {
    it(`c8ytoken ${args.join(' ').slice(0, 20)} loads no network stack, config loader or spinner`, async () => {
      const { loaded } = await loadedBy(args);
      expect(loaded).toContain('node:vm'); // the trace works: the bin loaded the bundle
      expect(heavyIn(loaded)).toEqual([]);
      // nor what only some commands need (fs/promises brings readline)
      expect(loaded.filter((m) => ['node:fs/promises', 'node:crypto', 'node:v8', 'node:tty'].includes(m))).toEqual([]);
      // commander requires it only to run executable sub-commands (the build makes that lazy)
      expect(loaded).not.toContain('node:child_process');
    });
  }

  it('fetch -o FILE with a fresh token in FILE loads no network stack', async () => {
    const emulator = await new Emulator().start();
    try {
      const file = join(tempDir(), 'token');
      const args = ['fetch', '--url', emulator.url, ...RSA_DEVICE, '-o', file];
      expect((await runMain(args)).code).toBe(0); // the token in FILE: a fetch in this process
      const { loaded, stderr } = await loadedBy(args);
      expect(stderr).toMatch(/no request sent/);
      expect(heavyIn(loaded, NETWORK)).toEqual([]);
      // The chunks on this path name node:crypto; the bin loads it only when a property is read (none is).
      expect(loaded).not.toContain('node:crypto');
      // stdin and stdout on /dev/null (a character device, like a terminal) are no terminal, told without
      // node:tty, which brings node:net and the stream machinery (the previous code loaded it here; node:net
      // itself cannot be looked for: the trace's module hooks load it).
      const service = await loadedBy(args, { devNull: true });
      expect(service.stderr).toMatch(/no request sent/);
      expect(service.loaded).toContain('node:vm'); // the trace works
      expect(service.loaded).not.toContain('node:tty');
    } finally {
      await emulator.stop();
    }
  });
});

/**
 * The program as bin/c8ytoken.js loads it (with `pack`, as the bin does for inspect, fetch and exec), in a
 * process of its own: its exit code and the files it compiled, in order.
 */
async function bundleRun(args: string[], { pack, cwd = tempDir() }: { pack?: string; cwd?: string } = {}): Promise<{ code: number; files: string[] }> {
  const program = `const { loadBundle } = require(${JSON.stringify(bin)});
    const loaded = { modules: new Map(), scripts: new Map(), pack: ${JSON.stringify(pack)} };
    const cli = loadBundle(${JSON.stringify(join(root, 'dist', 'c8ytoken.cjs'))}, loaded);
    const sink = { write: () => true };
    cli.main(${JSON.stringify(args)}, { stdout: sink, stderr: sink, stdin: () => process.stdin, stdinIsTTY: false, env: {}, cwd: ${JSON.stringify(cwd)}, version: '0' })
      .then((code) => console.log(JSON.stringify({ code, files: [...loaded.scripts.keys()] })));`;
  // Not spawnSync: the local endpoint of a test answers from this process.
  const child = spawn(process.execPath, ['-e', program]);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const status = await new Promise((resolve) => child.on('close', resolve));
  expect(status, stderr).toBe(0);
  return JSON.parse(stdout) as { code: number; files: string[] };
}

describe('the chunks a command loads', () => {
  // The sources in each file of dist/ (scripts/bundle.js writes them down), by base name.
  const sources = JSON.parse(readFileSync(join(root, 'dist', 'c8ytoken.meta.json'), 'utf8')) as Record<string, string[]>;
  /** The sources in the files the program (without packs) loaded. */
  const sourcesLoadedBy = async (args: string[], cwd = tempDir()): Promise<string[]> =>
    (await bundleRun(args, { cwd })).files.flatMap((f) => sources[relative(join(root, 'dist'), f).replaceAll('\\', '/')] ?? [`not built: ${f}`]);
  // Code no start-up of inspect, help or a cached fetch needs: TLS, the request, keystore readers, EST,
  // the proxy agent, completion, doctor, watch's keeper, the error messages.
  const others = ['tls.ts', 'request.ts', 'pkcs12.ts', 'jks.ts', 'client.ts', 'flows.ts', 'agent.ts', 'completion.ts', 'doctor.ts', 'keeper.ts', 'messages.ts'];

  it('inspect loads its own chunk and none of the others', async () => {
    const loaded = await sourcesLoadedBy(['inspect', token]);
    expect(loaded.filter((s) => s.includes('commands/inspect/'))).not.toEqual([]);
    expect(loaded.filter((s) => others.includes(basename(s)))).toEqual([]);
  });

  it('--help loads no command', async () => {
    const loaded = await sourcesLoadedBy(['--help']);
    expect(loaded.map((s) => basename(s))).toContain('cli.ts');
    // The command table's specs and key lists are data; a command's runner, logic and rendering are not.
    expect(loaded.filter((s) => others.includes(basename(s)) || /commands\/[^/]+\/(?!spec\.ts$|keys\.ts$)[^/]+$/.test(s))).toEqual([]);
  });

  it('fetch -o FILE with a fresh token in FILE loads no TLS, request or keystore code; a fetch that connects does (so the check can fail)', async () => {
    const emulator = await new Emulator().start();
    try {
      const file = join(tempDir(), 'token');
      const args = ['fetch', '--url', emulator.url, ...RSA_DEVICE, '-o', file];
      expect((await runMain(args)).code).toBe(0); // the token in FILE: a fetch in this process
      const cached = await sourcesLoadedBy(args);
      expect(cached.filter((s) => s.includes('commands/fetch/'))).not.toEqual([]);
      expect(cached.filter((s) => others.includes(basename(s)))).toEqual([]);
      const connecting = await sourcesLoadedBy([
        'fetch',
        '--url',
        'https://127.0.0.1:1',
        '--keystore',
        pki('device-rsa.p12'),
        '--keystore-password-file',
        pki('store.pass'),
        '--truststore',
        pki('truststore.pem'),
      ]);
      expect(connecting.map((s) => basename(s))).toEqual(expect.arrayContaining(['tls.ts', 'pkcs12.ts', 'messages.ts']));
    } finally {
      await emulator.stop();
    }
  });
});

describe('the packs (dist/chunks/pack-NAME.cjs: the files a run loads, in one file)', () => {
  const dist = join(root, 'dist');
  const packFile = (name: string): string => join(dist, 'chunks', `pack-${name}.cjs`);
  const packOf = (name: string): Record<string, unknown> => runInNewContext(readFileSync(packFile(name), 'utf8')) as Record<string, unknown>;
  const sources = JSON.parse(readFileSync(join(dist, 'c8ytoken.meta.json'), 'utf8')) as Record<string, string[]>;
  /** The sources whose code a pack holds (not those it names). */
  const held = (name: string): string[] =>
    Object.entries(packOf(name))
      .filter(([, entry]) => typeof entry === 'function')
      .flatMap(([file]) => sources[file] ?? []);
  const networkCode = ['tls.ts', 'request.ts', 'answer.ts', 'truststore.ts'];
  const keystoreCode = ['pkcs12.ts', 'jks.ts'];

  it("hold the files of dist/ as they are; fetch's names the files of the network and keystore packs, which hold them", () => {
    for (const name of ['inspect', 'fetch', 'net', 'keystore']) {
      for (const [file, entry] of Object.entries(packOf(name))) {
        if (typeof entry === 'string') {
          expect(name, file).toBe('fetch'); // only the pack the bin reads names other packs
          expect(Object.keys(packOf(/pack-(.+)\.cjs$/.exec(entry)![1]!)), `${file} in ${entry}`).toContain(file);
        } else {
          expect(String(entry), file).toBe(`function (exports, require, module, __filename, __dirname) {${readFileSync(join(dist, file), 'utf8')}\n}`);
        }
      }
    }
    const fetch = packOf('fetch');
    for (const other of ['net', 'keystore']) for (const file of Object.keys(packOf(other))) expect(fetch[file], file).toBe(`chunks/pack-${other}.cjs`);
    for (const name of ['inspect', 'fetch']) {
      expect(Object.keys(packOf(name))).toContain('c8ytoken.cjs');
      expect(held(name).filter((s) => s.includes(`commands/${name}/run.ts`))).not.toEqual([]);
    }
    const base = (name: string): string[] => held(name).map((s) => basename(s));
    expect(base('fetch').filter((s) => [...networkCode, ...keystoreCode, 'agent.ts'].includes(s))).toEqual([]);
    expect(base('net')).toEqual(expect.arrayContaining(networkCode));
    expect(base('net').filter((s) => [...keystoreCode, 'agent.ts'].includes(s))).toEqual([]);
    expect(base('keystore')).toEqual(expect.arrayContaining(keystoreCode));
    expect(base('keystore').filter((s) => [...networkCode, 'agent.ts'].includes(s))).toEqual([]);
  });

  it('inspect and a fetch answered from its token file read their pack and compile no other file; a fetch that connects reads the network pack too, with a keystore the keystore pack', async () => {
    const emulator = await new Emulator().start();
    try {
      const file = join(tempDir(), 'token');
      const pemFetch = ['fetch', '--url', emulator.url, ...RSA_DEVICE];
      expect((await runMain([...pemFetch, '-o', file])).code).toBe(0); // the token in FILE: a fetch in this process
      const runs: [string[], string[]][] = [
        [['inspect', token], ['inspect']],
        [[...pemFetch, '-o', file], ['fetch']],
        [pemFetch, ['fetch', 'net']],
        [keystoreFetch(emulator.url, 'device-rsa.jks'), ['fetch', 'keystore', 'net']],
        [keystoreFetch(emulator.url, 'device-rsa.keytool.p12'), ['fetch', 'keystore', 'net']],
      ];
      for (const [args, packs] of runs) expect(await bundleRun(args, { pack: packFile(args[0]!) }), args.join(' ')).toEqual({ code: 0, files: packs.map(packFile) });
    } finally {
      await emulator.stop();
    }
  });

  it("the bin reads fetch's pack for fetch and for exec, which gets its token the same way", async () => {
    const emulator = await new Emulator().start();
    try {
      // Every script the bin compiles, named on stderr.
      const preload = join(tempDir(), 'scripts.cjs');
      writeFileSync(
        preload,
        "const vm = require('node:vm'); const S = vm.Script; vm.Script = class extends S { constructor(source, options) { super(source, options); process.stderr.write(`SCRIPT ${options.filename}\\n`); } };",
      );
      const scriptsOf = async (args: string[]): Promise<string[]> => {
        const child = spawn(process.execPath, ['--require', preload, bin, ...args], { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        expect(await new Promise((resolve) => child.on('close', resolve)), stderr).toBe(0);
        return [...stderr.matchAll(/^SCRIPT (.+)$/gm)].map((m) => relative(dist, m[1]!).replaceAll('\\', '/'));
      };
      const device = ['--url', emulator.url, ...RSA_DEVICE, '-q'];
      expect(await scriptsOf(['fetch', ...device])).toEqual(['chunks/pack-fetch.cjs', 'chunks/pack-net.cjs']);
      const exec = await scriptsOf(['exec', ...device, '--', process.execPath, '-e', '0']);
      expect(exec[0]).toBe('chunks/pack-fetch.cjs');
      expect(exec).toContain('chunks/pack-net.cjs');
      // exec's own runner and the token keeper from their files; nothing the packs hold
      const packed = packOf('fetch');
      expect(exec.filter((f) => !f.startsWith('chunks/pack-') && Object.hasOwn(packed, f))).toEqual([]);
      expect(exec.filter((f) => !f.startsWith('chunks/pack-')).flatMap((f) => sources[f] ?? [])).toEqual(expect.arrayContaining([expect.stringContaining('commands/exec/run.ts')]));
    } finally {
      await emulator.stop();
    }
  });

  it('a pack that is not there leaves its files to be read one by one', async () => {
    const emulator = await new Emulator().start();
    try {
      // fetch's pack naming a network pack that does not exist
      const pack = join(tempDir(), 'pack-fetch.cjs');
      writeFileSync(pack, readFileSync(packFile('fetch'), 'utf8').replaceAll('"chunks/pack-net.cjs"', '"chunks/pack-absent.cjs"'));
      const run = await bundleRun(['fetch', '--url', emulator.url, ...RSA_DEVICE], { pack });
      expect(run.code).toBe(0);
      expect(run.files[0]).toBe(pack);
      expect(
        run.files
          .slice(1)
          .map((f) => relative(dist, f).replaceAll('\\', '/'))
          .sort(),
      ).toEqual(Object.keys(packOf('net')).sort());
    } finally {
      await emulator.stop();
    }
  });
});
