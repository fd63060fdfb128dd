/**
 * PKCS#12 files from GnuTLS certtool and Python cryptography, with each tool's defaults (GnuTLS: 600,000
 * iterations for the MAC and each bag) and ASCII, non-ASCII and empty passwords: the committed set of
 * fixtures/interop-keystores, and the same recipe run at test time with the tools of this machine. Our reader
 * must get from each the key and certificate that OpenSSL and keytool get from it.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openKeystore, selectKeyEntry } from '../../src/core/keystore/open.js';
import { tempDir } from '../helpers/cli.js';
import { root } from '../helpers/paths.js';
import { hasKeytool, KEYTOOL_QUICK } from '../helpers/keytool.js';

interface InteropEntry {
  file: string;
  tool: string;
  key: 'rsa' | 'ec256';
  password: string;
}

const committed = join(root, 'fixtures/interop-keystores');
const script = join(root, 'fixtures/regenerate-interop-keystores.sh');
const runs = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const hasOpenssl = runs('openssl', ['version']);
const hasCerttool = runs('certtool', ['--version']);
/**
 * The interpreter python3 starts, resolved once: under pyenv, python3 is a shim (bash scripts that find the
 * version) costing more than Python itself, and the recipe starts Python once per file.
 */
const pythonAsked = spawnSync('python3', ['-c', 'import sys, cryptography; print(sys.executable)'], { encoding: 'utf8' });
const python = pythonAsked.status === 0 ? pythonAsked.stdout.trim() || 'python3' : undefined;
const hasPython = python !== undefined;
const skipped = (has: boolean, tool: string): string => (has ? '' : ` (skipped: ${tool} is not installed)`);

const manifest = (dir: string): InteropEntry[] => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as InteropEntry[];
/**
 * Each GnuTLS file is 600,000 PBKDF2 iterations for the MAC and each bag, for our reader, OpenSSL and keytool
 * alike: seconds per file, most of `npm test`'s time. The default run reads one of them (the ASCII one,
 * which keytool reads too) and all the Python files; `npm run test:interop` (C8YTOKEN_TEST_INTEROP=all) reads
 * every file and also makes GnuTLS files with this machine's certtool.
 */
const allInterop = process.env.C8YTOKEN_TEST_INTEROP === 'all';
const inDefaultRun = (e: InteropEntry): boolean => allInterop || !e.tool.startsWith('GnuTLS') || e.file === 'gnutls-rsa-ascii.p12';
const leftOut = (e: InteropEntry): string => (inDefaultRun(e) ? '' : ' (skipped: 600,000 iterations; npm run test:interop reads it)');
const publicDer = (key: KeyObject): string => createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('hex');

type Read = { cert: X509Certificate; key: KeyObject; warnings: string[] };
const reads = new Map<string, Promise<Read>>();
/** The device certificate and key as our reader gets them, with the warnings it gave (once per file: GnuTLS's take seconds). */
function ours(path: string, password: string): Promise<Read> {
  let read = reads.get(path);
  if (!read) reads.set(path, (read = readOurs(path, password)));
  return read;
}

async function readOurs(path: string, password: string): Promise<Read> {
  const warnings: string[] = [];
  const store = await openKeystore(path, { password, role: 'keystore', warn: (w) => warnings.push(w) });
  const entry = selectKeyEntry(store, undefined);
  const key = await entry.decryptKey(password);
  const cert = entry.chain[0];
  if (!cert) throw new Error(`${path}: no certificate for the key`);
  return { cert, key, warnings };
}

/** What OpenSSL reads (its integrity check and decryption must pass): the leaf certificate and the key. */
function openssl(path: string, password: string): { cert: X509Certificate; key: KeyObject } {
  const r = spawnSync('openssl', ['pkcs12', '-in', path, '-passin', 'env:PW', '-info', '-nodes', '-clcerts'], { env: { ...process.env, PW: password }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl pkcs12 -info on ${path}: ${r.stderr}`);
  return { cert: new X509Certificate(r.stdout), key: createPrivateKey(r.stdout) };
}

/**
 * The certificate of keytool's private-key entry, or why keytool reads none: Java's PBES2 takes ASCII
 * passwords only (its PBEKey refuses others), and it skips key bags in the clear (Python's NoEncryption).
 */
function keytool(path: string, password: string, clearKey: boolean, heavy: boolean): X509Certificate | string {
  const r = spawnSync('keytool', [...(heavy ? [] : KEYTOOL_QUICK), '-list', '-rfc', '-keystore', path, '-storetype', 'PKCS12', '-storepass:env', 'PW'], {
    env: { ...process.env, PW: password },
    encoding: 'utf8',
  });
  const pem = /Entry type: PrivateKeyEntry[\s\S]*?(-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----)/.exec(r.stdout)?.[1];
  if (pem) return new X509Certificate(pem);
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(password) && /password was incorrect/.test(r.stdout + r.stderr)) return 'non-ASCII password';
  if (clearKey && r.status === 0 && /contains 0 entries/.test(r.stdout)) return 'key bag in the clear';
  throw new Error(`keytool read no key from ${path}: ${r.stdout}${r.stderr}`);
}

function checkAgainstOracles(dir: string, entry: InteropEntry): void {
  const path = join(dir, entry.file);
  it.skipIf(!hasOpenssl || !inDefaultRun(entry))(`${entry.file} (${entry.tool}): our key and certificate are OpenSSL's${skipped(hasOpenssl, 'openssl')}${leftOut(entry)}`, async () => {
    const mine = await ours(path, entry.password);
    const theirs = openssl(path, entry.password);
    expect(mine.cert.fingerprint256).toBe(theirs.cert.fingerprint256);
    expect(publicDer(mine.key)).toBe(publicDer(theirs.key));
    expect(mine.key.asymmetricKeyType).toBe(entry.key === 'rsa' ? 'rsa' : 'ec');
    expect(mine.cert.checkPrivateKey(mine.key)).toBe(true);
    // Every file here carries a MAC: no "unverified" warning.
    expect(mine.warnings).toEqual([]);
  });
}

describe('committed keystores of GnuTLS and Python cryptography (fixtures/interop-keystores)', () => {
  const entries = manifest(committed);

  it('cover both tools, RSA and EC P-256, and ASCII, non-ASCII and empty passwords', () => {
    for (const tool of ['GnuTLS', 'Python']) for (const password of ['changeit', 'pässwörd', '']) expect(entries.some((e) => e.tool.startsWith(tool) && e.password === password)).toBe(true);
    expect(new Set(entries.map((e) => e.key))).toEqual(new Set(['rsa', 'ec256']));
  });

  for (const entry of entries) checkAgainstOracles(committed, entry);

  for (const entry of entries) {
    // keytool's 600,000 iterations take it seconds: OpenSSL is the GnuTLS file's oracle in the default run
    const keytoolReads = allInterop || !entry.tool.startsWith('GnuTLS');
    it.skipIf(!hasKeytool || !keytoolReads)(
      `${entry.file}: keytool's private-key entry holds our certificate${skipped(hasKeytool, 'keytool')}${keytoolReads ? '' : ' (skipped: 600,000 iterations; npm run test:interop runs keytool on it)'}`,
      async () => {
        const mine = await ours(join(committed, entry.file), entry.password);
        const clearKey = entry.tool.startsWith('Python') && entry.password === '';
        const theirs = keytool(join(committed, entry.file), entry.password, clearKey, entry.tool.startsWith('GnuTLS'));
        if (typeof theirs === 'string') console.log(`${entry.file}: keytool reads no key (${theirs}); OpenSSL is the oracle`);
        else expect(mine.cert.fingerprint256).toBe(theirs.fingerprint256);
      },
    );
  }
});

// A few files only: a GnuTLS one (600,000 iterations three or four times over) under npm run test:interop.
describe.skipIf(!hasCerttool || !hasPython)(
  `keystores made now by this machine's Python cryptography (and certtool, under npm run test:interop)${!hasCerttool ? ' (skipped: certtool is not installed)' : !hasPython ? ' (skipped: python3 cryptography is not installed)' : ''}`,
  () => {
    const dir = tempDir('interop-p12-');
    const made = spawnSync('bash', [script, dir, ...(allInterop ? ['gnutls-ec256-nonascii'] : []), 'python-rsa-nonascii', 'python-ec256-empty'], {
      encoding: 'utf8',
      env: { ...process.env, PYTHON: python },
    });
    it('the recipe runs', () => {
      expect(made.stderr).toBe('');
      expect(made.status).toBe(0);
    });
    if (made.status === 0) for (const entry of manifest(dir)) checkAgainstOracles(dir, entry);
  },
);
