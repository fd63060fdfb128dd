/**
 * Start-up discipline: each command loads only what it needs. Every built-in and CommonJS module is
 * listed at exit (trace-modules.cjs) and every ES module import is traced (trace-hooks.mjs): the network
 * stack (built-ins) and the YAML parser (js-yaml, a package of its own). The program itself is a bundle
 * split at its lazy imports (scripts/bundle.js): which of its chunks a command loads is checked from the
 * sources the build lists for each chunk (dist/c8ytoken.meta.json).
 */
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { bin, pki, root, RSA_DEVICE } from '../helpers/paths.js';

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

describe('the chunks a command loads', () => {
  // The sources in each file of dist/ (scripts/bundle.js writes them down), by base name.
  const sources = JSON.parse(readFileSync(join(root, 'dist', 'c8ytoken.meta.json'), 'utf8')) as Record<string, string[]>;
  /** The program as bin/c8ytoken.js loads it, in a process of its own: the sources in the files it loaded. */
  const sourcesLoadedBy = (args: string[], cwd = tempDir()): string[] => {
    const program = `const { loadBundle } = require(${JSON.stringify(bin)});
      const loaded = { modules: new Map(), scripts: new Map() };
      const cli = loadBundle(${JSON.stringify(join(root, 'dist', 'c8ytoken.cjs'))}, loaded);
      const sink = { write: () => true };
      cli.main(${JSON.stringify(args)}, { stdout: sink, stderr: sink, stdin: () => process.stdin, stdinIsTTY: false, env: {}, cwd: ${JSON.stringify(cwd)}, version: '0' })
        .then((code) => console.log(JSON.stringify({ code, files: [...loaded.scripts.keys()] })));`;
    const run = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const { files } = JSON.parse(run.stdout) as { files: string[] };
    return files.flatMap((f) => sources[relative(join(root, 'dist'), f).replaceAll('\\', '/')] ?? [`not built: ${f}`]);
  };
  // Code no start-up of inspect, help or a cached fetch needs: TLS, the request, keystore readers, EST,
  // the proxy agent, completion, doctor, watch's keeper, the error messages.
  const others = ['tls.ts', 'request.ts', 'pkcs12.ts', 'jks.ts', 'client.ts', 'flows.ts', 'agent.ts', 'completion.ts', 'doctor.ts', 'keeper.ts', 'messages.ts'];

  it('inspect loads its own chunk and none of the others', () => {
    const loaded = sourcesLoadedBy(['inspect', token]);
    expect(loaded.filter((s) => s.includes('commands/inspect/'))).not.toEqual([]);
    expect(loaded.filter((s) => others.includes(basename(s)))).toEqual([]);
  });

  it('--help loads no command', () => {
    const loaded = sourcesLoadedBy(['--help']);
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
      const cached = sourcesLoadedBy(args);
      expect(cached.filter((s) => s.includes('commands/fetch/'))).not.toEqual([]);
      expect(cached.filter((s) => others.includes(basename(s)))).toEqual([]);
      expect(
        sourcesLoadedBy(['fetch', '--url', 'https://127.0.0.1:1', '--keystore', pki('device-rsa.p12'), '--keystore-password-file', pki('store.pass'), '--truststore', pki('truststore.pem')]).map((s) =>
          basename(s),
        ),
      ).toEqual(expect.arrayContaining(['tls.ts', 'pkcs12.ts', 'messages.ts']));
    } finally {
      await emulator.stop();
    }
  });
});

describe('the packs (dist/chunks/pack-COMMAND.cjs: the files a command loads, in one file)', () => {
  const dist = join(root, 'dist');
  const packOf = (command: string): Record<string, (...args: unknown[]) => void> =>
    runInNewContext(readFileSync(join(dist, 'chunks', `pack-${command}.cjs`), 'utf8')) as Record<string, (...args: unknown[]) => void>;
  const sources = JSON.parse(readFileSync(join(dist, 'c8ytoken.meta.json'), 'utf8')) as Record<string, string[]>;

  it('hold the files of dist/ as they are, for inspect its runner, for fetch no TLS, request or keystore code', () => {
    for (const command of ['inspect', 'fetch']) {
      const pack = packOf(command);
      expect(Object.keys(pack)).toContain('c8ytoken.cjs');
      for (const [name, factory] of Object.entries(pack)) {
        expect(factory.toString(), name).toBe(`function (exports, require, module, __filename, __dirname) {${readFileSync(join(dist, name), 'utf8')}\n}`);
      }
      const held = Object.keys(pack).flatMap((name) => sources[name] ?? []);
      expect(held.filter((s) => s.includes(`commands/${command}/run.ts`))).not.toEqual([]);
      if (command === 'fetch') expect(held.filter((s) => ['tls.ts', 'request.ts', 'pkcs12.ts', 'jks.ts', 'agent.ts'].includes(basename(s)))).toEqual([]);
    }
  });

  it('inspect and a fetch answered from its token file compile the pack and no other file', async () => {
    const emulator = await new Emulator().start();
    try {
      const file = join(tempDir(), 'token');
      const fetchArgs = ['fetch', '--url', emulator.url, ...RSA_DEVICE, '-o', file];
      expect((await runMain(fetchArgs)).code).toBe(0); // the token in FILE: a fetch in this process
      for (const args of [['inspect', token], fetchArgs]) {
        const pack = join(dist, 'chunks', `pack-${args[0]}.cjs`);
        const program = `const { loadBundle } = require(${JSON.stringify(bin)});
          const loaded = { modules: new Map(), scripts: new Map(), pack: ${JSON.stringify(pack)} };
          const cli = loadBundle(${JSON.stringify(join(dist, 'c8ytoken.cjs'))}, loaded);
          const sink = { write: () => true };
          cli.main(${JSON.stringify(args)}, { stdout: sink, stderr: sink, stdin: () => process.stdin, stdinIsTTY: false, env: {}, cwd: ${JSON.stringify(tempDir())}, version: '0' })
            .then((code) => console.log(JSON.stringify({ code, files: [...loaded.scripts.keys()] })));`;
        const run = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8' });
        expect(run.status, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toEqual({ code: 0, files: [pack] });
      }
    } finally {
      await emulator.stop();
    }
  });
});
