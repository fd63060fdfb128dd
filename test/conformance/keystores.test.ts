/**
 * Every keystore of ../shared/conformance/keystores, loaded as its manifest.json says (skipped when the
 * folder is absent). At the end a table says what loaded, what was refused as expected, and why.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openKeystore, selectKeyEntry } from '../../src/core/keystore/open.js';
import { C8yError } from '../../src/core/errors.js';
import { pemBlocks } from '../../src/core/encoding/pem.js';
import { conformanceDir, hasConformance } from '../helpers/paths.js';

interface ExpectedEntry {
  type: 'PrivateKeyEntry' | 'TrustedCertEntry';
  key?: string;
  chain_len?: number;
  ground_truth_pem?: string;
}
interface JksEntry {
  file: string;
  store_password?: string | null;
  key_password?: string;
  expected?: Record<string, ExpectedEntry>;
  expected_error?: string;
  expected_error_or_support?: string;
}
interface Pkcs12Entry {
  file: string;
  password: string;
  cert_count: number;
  key_count: number;
  key_type: string | null;
  cert_subjects: string[];
}

const dir = join(conformanceDir, 'keystores');
const manifest = hasConformance
  ? (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { jks: { entries: JksEntry[] }; pkcs12: { entries: Pkcs12Entry[] } })
  : { jks: { entries: [] }, pkcs12: { entries: [] } };
const report: string[] = [];

/** Expands "folder/*.ext" patterns of the manifest to files. */
function expand(pattern: string): string[] {
  if (!pattern.includes('*')) return [pattern];
  const [folder, glob] = pattern.split('/') as [string, string];
  const re = new RegExp(`^${glob.replace(/[.]/g, '\\.').replace('*', '.*')}$`);
  return readdirSync(join(dir, folder))
    .filter((f) => re.test(f))
    .map((f) => `${folder}/${f}`);
}

/** "rsa-2048", "ec-p256", "dsa-1024", "rsa", "dsa" as the manifest writes key types. */
function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') return `ec-${d.namedCurve === 'prime256v1' ? 'p256' : d.namedCurve}`;
  return `${key.asymmetricKeyType}-${d.modulusLength}`;
}

function keyTypeMatches(key: KeyObject, expected: string): void {
  const actual = describeKey(key);
  if (expected.includes('-')) expect(actual).toBe(expected);
  else expect(actual.split('-')[0]).toBe(expected);
}

describe.skipIf(!hasConformance)('keystore conformance corpus', () => {
  afterAll(() => {
    // One line in npm test; the file by file report with C8YTOKEN_TEST_DETAIL=1.
    const refused = report.filter((r) => r.startsWith('refused')).length;
    console.log(`keystore conformance: ${report.length} files, ${report.length - refused} loaded, ${refused} refused as expected`);
    if (process.env.C8YTOKEN_TEST_DETAIL) console.log(report.map((r) => `  ${r}`).join('\n'));
  });

  const jksEntries = manifest.jks.entries.filter((e) => !e.file.startsWith('pkcs12-'));
  // A file matched by a specific pattern (unknown_*.jceks) is tested once, by the first that names it.
  const seen = new Set<string>();
  for (const entry of jksEntries) {
    for (const file of expand(entry.file).filter((f) => !seen.has(f) && seen.add(f))) {
      it(`${file}`, async () => {
        const path = join(dir, file);
        const password = file.endsWith('empty.jks') ? '' : (entry.store_password ?? null);
        if (entry.expected_error !== undefined || entry.expected_error_or_support !== undefined) {
          let error: unknown;
          try {
            const store = await openKeystore(path, { password: typeof password === 'string' ? password.split(' ')[0]! : null, role: 'keystore', warn: () => undefined });
            for (const e of store.keyEntries) await e.decryptKey(store.path);
          } catch (err) {
            error = err;
          }
          expect(error).toBeInstanceOf(C8yError);
          const e = error as C8yError;
          expect(['KEYSTORE_UNSUPPORTED', 'KEYSTORE_CORRUPT', 'WRONG_PASSWORD']).toContain(e.code);
          report.push(`refused as expected  ${file}: ${e.code} (${e.message.replace(`${path} `, '').replace(path, 'it')})`);
          return;
        }
        const warnings: string[] = [];
        const store = await openKeystore(path, { password, role: 'keystore', warn: (m) => warnings.push(m) });
        const expected = entry.expected ?? {};
        const aliases = [...store.keyEntries.map((e) => e.alias), ...store.trusted.map((t) => t.alias)].sort();
        expect(aliases).toEqual(Object.keys(expected).sort());
        for (const [alias, want] of Object.entries(expected)) {
          if (want.type === 'TrustedCertEntry') {
            expect(store.trusted.some((t) => t.alias === alias)).toBe(true);
            continue;
          }
          const keyEntry = selectKeyEntry(store, alias);
          if (entry.key_password !== undefined) {
            // The corpus' negative case: the store password is not the key password here.
            await expect(keyEntry.decryptKey(entry.store_password ?? '')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
          }
          const key = await keyEntry.decryptKey(entry.key_password ?? entry.store_password ?? '');
          if (want.key) keyTypeMatches(key, want.key);
          if (want.chain_len !== undefined) expect(keyEntry.chain).toHaveLength(want.chain_len);
          if (want.ground_truth_pem) {
            const blocks = pemBlocks(readFileSync(join(dir, want.ground_truth_pem), 'utf8'));
            const truthKey = createPrivateKey(blocks.find((b) => b.label.endsWith('PRIVATE KEY'))!.text);
            expect(key.export({ type: 'pkcs8', format: 'der' }).equals(truthKey.export({ type: 'pkcs8', format: 'der' }))).toBe(true);
            const truthCerts = blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => new X509Certificate(b.text).fingerprint256);
            expect(keyEntry.chain.map((c) => c.fingerprint256)).toEqual(truthCerts);
          }
        }
        report.push(
          `loaded                ${file}: ${store.format}, ${store.keyEntries.length} key entr${store.keyEntries.length === 1 ? 'y' : 'ies'}, ${store.trusted.length} trusted${warnings.length ? ` (${warnings.join('; ').replace(path, 'it')})` : ''}`,
        );
      });
    }
  }

  // Java 11's files are 200,000 rounds each of the PKCS#12 KDF, hashed in JavaScript (a second or more
  // apiece): the default run reads one per key type and the truststore; the three that differ only in the
  // certificate's signature algorithm are read under npm run test:interop (C8YTOKEN_TEST_INTEROP=all).
  const sameAsAnother = (file: string): boolean => process.env.C8YTOKEN_TEST_INTEROP !== 'all' && /java11_RSA_2048_\w+withRSA_keystore/.test(file);
  for (const entry of manifest.pkcs12.entries) {
    it.skipIf(sameAsAnother(entry.file))(
      `${entry.file}${sameAsAnother(entry.file) ? ' (skipped: like java11_RSA_2048_keystore.jks but for its signature algorithm; npm run test:interop reads it)' : ''}`,
      async () => {
        const store = await openKeystore(join(dir, entry.file), { password: entry.password, role: 'keystore', warn: () => undefined });
        expect(store.format).toBe('pkcs12');
        expect(store.keyEntries).toHaveLength(entry.key_count);
        const certs = new Set([...store.keyEntries.flatMap((e) => e.chain), ...store.trusted.map((t) => t.cert)]);
        const keys: KeyObject[] = [];
        for (const e of store.keyEntries) keys.push(await e.decryptKey(entry.password));
        // chains are known once keys are decrypted (matched by localKeyId or public key)
        for (const e of store.keyEntries) for (const c of e.chain) certs.add(c);
        const fingerprints = new Set([...certs].map((c) => c.fingerprint256));
        expect(fingerprints.size).toBe(entry.cert_count);
        if (entry.key_type) for (const k of keys) keyTypeMatches(k, entry.key_type);
        const subjects = [...certs].map((c) => c.subject.split('\n').reverse().join(','));
        for (const s of entry.cert_subjects)
          expect(
            subjects.some((x) =>
              x.replace(/\s/g, '').includes(
                s
                  .split(',')
                  .find((p) => p.startsWith('CN='))!
                  .replace(/\s/g, ''),
              ),
            ),
          ).toBe(true);
        report.push(`loaded                ${entry.file}: pkcs12, ${keys.map(describeKey).join(', ') || 'no key'}, ${fingerprints.size} certificate(s)`);
      },
    );
  }
});
