/**
 * The CLI does what the user typed: each case is a defect a newcomer's audit found (issue "one option
 * table, one command table"), run in process against the local endpoint.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { OPTIONS, longFlag } from '../../src/core/config/options.js';
import { loadIdentity } from '../../src/core/credentials/identity.js';
import { loadTrust } from '../../src/core/credentials/truststore.js';
import { PasswordBook, type PasswordSources } from '../../src/core/credentials/passwords.js';
import { startSpinner } from '../../src/output/terminal.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { pki, root, RSA_DEVICE } from '../helpers/paths.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await new Emulator().start();
});
afterAll(async () => {
  await emulator.stop();
});

const PASSWORDS = { C8YTOKEN_KEYSTORE_PASSWORD: 'changeit' };

describe('flags win for the identity as a whole', () => {
  function configWithKeystore(): string {
    const dir = tempDir('cfg-');
    writeFileSync(join(dir, '.c8ytokenrc.json'), JSON.stringify({ url: emulator.url, truststore: pki('truststore.pem'), keystore: { path: pki('device-rsa.p12') } }));
    return dir;
  }

  it('verify-chain --cert X checks X, not the configured keystore (a missing X is an error, not "All checks passed")', async () => {
    const run = await runMain(['verify-chain', '--cert', 'does-not-exist.pem'], { cwd: configWithKeystore(), env: PASSWORDS });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/does-not-exist\.pem does not exist/);
    const good = await runMain(['verify-chain', '--cert', pki('device-ec256.chain.pem')], { cwd: configWithKeystore(), env: PASSWORDS });
    expect(good.stdout).toMatch(/Device chain from .*device-ec256\.chain\.pem/);
  });

  it('fetch --cert/--key replaces a configured keystore instead of refusing with exit 2', async () => {
    const run = await runMain(['fetch', '--cert', pki('device-ec256.chain.pem'), '--key', pki('device-ec256.key')], { cwd: configWithKeystore(), env: PASSWORDS });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/Token for device_ec-device-256/);
  });

  it('a keystore and PEM files given on the same level are a conflict', async () => {
    const run = await runMain(['fetch', '--url', emulator.url, '--keystore', pki('device-rsa.p12'), '--cert', pki('device-rsa.crt')]);
    expect(run.code).toBe(2);
  });
});

describe('-o and --format', () => {
  const fetch = (args: string[]) => runMain(['fetch', '--url', emulator.url, ...RSA_DEVICE, ...args]);

  it('-o FILE --format env prints the exports (eval gets them) and writes the file', async () => {
    const file = join(tempDir(), 'token');
    const run = await fetch(['-o', file, '--format', 'env']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^export C8Y_TOKEN='eyJ/);
    expect(readFileSync(file, 'utf8')).toMatch(/^eyJ/);
  });

  it('--json -o FILE prints the metadata without the token', async () => {
    const run = await fetch(['--json', '-o', join(tempDir(), 'token')]);
    const body = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(body.token).toBeUndefined();
    expect(body.state).toBe('new');
    expect(run.stdout).not.toMatch(/eyJ[\w-]+\.eyJ/);
    // Nor the token's secret claim: it is masked as inspect masks it.
    expect((body.claims as Record<string, unknown>).xsrfToken).toBe('(masked)');
  });
});

describe('messages that say what is wrong', () => {
  it('an expired device certificate is named, with its date and age', async () => {
    const run = await runMain(['fetch', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--keystore', pki('device-expired.p12')], { env: PASSWORDS });
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/expired on 2021-12-31T23:59:59Z, \d+ day\(s\) ago/);
  });

  it('verify-chain shows no pass for "valid for 30 more days" next to a failed expiry', async () => {
    const run = await runMain(['verify-chain', '--json', '--cert', pki('device-expired.chain.pem')]);
    const checks = (JSON.parse(run.stdout) as { checks: { id: string; verdict: string }[] }).checks;
    expect(checks.find((c) => c.id === 'validity')?.verdict).toBe('fail');
    expect(checks.find((c) => c.id === 'leaf-expiry')?.verdict).toBe('skip');
  });

  it('inspect of a mistyped file name says the file does not exist', async () => {
    const run = await runMain(['inspect', 'typo.tok']);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/The token file typo\.tok does not exist/);
  });

  it('X-Ssl-Cert-Chain carries the built path, not the extra certificates of an unordered file', async () => {
    const before = emulator.requests.length;
    const run = await runMain(['fetch', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--cert', pki('bad/unordered.chain.pem'), '--key', pki('device-rsa.key')]);
    expect(run.code).toBe(0);
    expect(emulator.requests[before]!.chainHeaderCount).toBe(1); // the intermediate; not the stranger CA
  });
});

describe('the command line', () => {
  it('no argv guessing: -p VALUE before the command is the profile, and fetch --help is fetch’s help', async () => {
    const run = await runMain(['-p', 'inspect', 'fetch', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: c8ytoken fetch/);
  });

  it('a subcommand’s help shows the global options, the exit codes and every option’s variables', async () => {
    // Commander wraps long help lines: compare with the whitespace folded.
    const help = (await runMain(['fetch', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--verbose/);
    expect(help).toMatch(/Exit codes: 0 ok/);
    for (const row of OPTIONS.filter((r) => r.env?.length && r.key !== 'color' && r.key !== 'config' && r.key !== 'profile')) {
      if (help.includes(longFlag(row))) expect(help).toContain(`(env ${row.env!.join(', ')})`);
    }
  });

  it('watch --exec -- hook --password is the hook’s argument, not a password on c8ytoken’s command line', async () => {
    const run = await runMain([
      'watch',
      '-o',
      join(tempDir(), 't'),
      '--once',
      '--url',
      'https://127.0.0.1:9',
      '--timeout',
      '1s',
      '--cert',
      pki('device-rsa.chain.pem'),
      '--key',
      pki('device-rsa.key'),
      '--exec',
      '--',
      'true',
      '--password=x',
    ]);
    expect(run.stderr).not.toMatch(/never takes passwords/);
    expect(run.code).toBe(5); // it ran, and the endpoint was not there
  });
});

describe('passwords at a terminal', () => {
  const sources = (): Record<'key' | 'keystore' | 'truststore', PasswordSources> => ({
    key: { role: 'key', envName: 'C8YTOKEN_KEY_PASSWORD' },
    keystore: { role: 'keystore', envName: 'C8YTOKEN_KEYSTORE_PASSWORD', envValue: 'changeit' },
    truststore: { role: 'truststore', envName: 'C8YTOKEN_TRUSTSTORE_PASSWORD' },
  });

  it('asks for a PKCS#12 truststore’s password, naming the file', async () => {
    const asked: string[] = [];
    const book = new PasswordBook(
      sources(),
      async (q) => (asked.push(q), 'changeit'),
      () => undefined,
    );
    const trust = await loadTrust(pki('truststore.p12'), book, { warn: () => undefined });
    expect(trust.cas?.length).toBeGreaterThan(0);
    expect(asked).toEqual([`Enter the truststore password for ${pki('truststore.p12')}: `]);
  });

  it('asks for a separate JKS key password when the store password does not open the key, up to three tries', async () => {
    const asked: string[] = [];
    const answers = ['wrong', 'still-wrong', 'keysecret'];
    const book = new PasswordBook(
      sources(),
      async (q) => (asked.push(q), answers.shift()!),
      () => undefined,
    );
    const id = await loadIdentity({ keystore: { path: pki('device-rsa.keypass.jks') } }, book, { warn: () => undefined });
    expect(id.key.asymmetricKeyType).toBe('rsa');
    expect(asked).toHaveLength(3);
    expect(asked[0]).toMatch(/Enter the key password for .*device-rsa\.keypass\.jks \(entry "device"\)/);
  });
});

describe('colours', () => {
  it('NO_COLOR (colour off) leaves the spinner uncoloured', async () => {
    // ora's colour library decides from the environment when first loaded: force colours, so that only
    // c8ytoken's choice can take them away.
    const saved = process.env.FORCE_COLOR;
    process.env.FORCE_COLOR = '1';
    for (const color of [true, false]) {
      let text = '';
      const stream = Object.assign(new Writable({ write: (c: Buffer, _e, cb) => ((text += c.toString()), cb()) }), {
        isTTY: true,
        columns: 80,
        cursorTo: () => true,
        clearLine: () => true,
        moveCursor: () => true,
      });
      const spinner = await startSpinner('x', stream, { quiet: false, json: false, verbose: false, color });
      spinner.update('step');
      await new Promise((r) => setTimeout(r, 200));
      spinner.stop();
      expect(text.includes('\u001b[36m')).toBe(color);
    }
    if (saved === undefined) delete process.env.FORCE_COLOR;
    else process.env.FORCE_COLOR = saved;
  });
});

describe('the option table and the documents agree', () => {
  it('every config key is in .c8ytokenrc.example, every flag and variable in the written docs', () => {
    const example = readFileSync(join(root, '.c8ytokenrc.example'), 'utf8');
    // The pages people wrote (README, docs/, docs/commands/), not docs/options.md, which is made from the table.
    const pages = (dir: string) =>
      readdirSync(join(root, dir))
        .filter((f) => f.endsWith('.md') && f !== 'options.md')
        .map((f) => readFileSync(join(root, dir, f), 'utf8'));
    const written = [readFileSync(join(root, 'README.md'), 'utf8'), ...pages('docs'), ...pages('docs/commands')].join('\n');
    // Hidden rows are helpers the completion scripts call, documented nowhere on purpose.
    for (const row of OPTIONS.filter((r) => r.hidden !== true)) {
      for (const key of [row.config, row.password?.configFile, row.password?.configInline].filter((k): k is string => !!k)) {
        expect(example, `config key ${key}`).toMatch(new RegExp(`^\\s*#?\\s*${key.split('.').pop()!}:`, 'm'));
      }
      expect(written, `flag ${longFlag(row)}`).toContain(longFlag(row));
      for (const name of row.env ?? []) expect(written, `variable ${name}`).toContain(name);
    }
  });
});
