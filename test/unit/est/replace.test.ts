/**
 * The renewal's file transaction, against the local endpoint for real certificates and proofs: success
 * keeps .bak copies; a failure at any step (each write and rename in turn, the proof, an unwritable
 * folder) leaves the old files byte for byte and no .new or temporary file.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIssuedCertificate, type IssuedCertificate } from '../../../src/core/est/check.js';
import { estBaseUrl, simpleReenroll } from '../../../src/core/est/client.js';
import { buildCsr, generateDeviceKey, privateKeyPem } from '../../../src/core/est/csr.js';
import { commonNameOf } from '../../../src/core/est/names.js';
import { renewalTargets, composeChain, realFileOps, replaceKeystore, replacePemIdentity, writeEnrollment, type FileOps } from '../../../src/core/est/replace.js';
import { C8yError } from '../../../src/core/errors.js';
import type { FileAttributes } from '../../../src/core/files/keep.js';
import { loadIdentity } from '../../../src/core/credentials/identity.js';
import { renewalVerdict } from '../../../src/core/x509/renewal.js';
import { Emulator } from '../../emulator/server.js';
import { tempDir } from '../../helpers/cli.js';
import { caught, wordsOf } from '../../helpers/errors.js';
import { passwordsOf, serverCa, tokenFor, tokenForKeystore } from '../../helpers/est.js';
import { FIXED_NOW, pki } from '../../helpers/paths.js';
import { hasKeytool, KEYTOOL_QUICK } from '../../helpers/keytool.js';

let emulator: Emulator;
let issuedEc: IssuedCertificate; // for device-est's key, issuer unchanged, no chain in the answer
const ecKey = createPrivateKey(readFileSync(pki('device-est.key')));
const cert = (name: string) => new X509Certificate(readFileSync(pki(name)));
const isRoot = process.getuid?.() === 0;
const has = (cmd: string, args: string[]) => spawnSync(cmd, args).error === undefined;
const hasOpenssl = has('openssl', ['version']);

async function issue(certFile: string, keyFile: string, key = createPrivateKey(readFileSync(pki(keyFile))), cn?: string): Promise<IssuedCertificate> {
  const leaf = cert(certFile);
  const commonName = cn ?? /CN=([^\n]*)/.exec(leaf.subject)![1]!;
  const answer = await simpleReenroll({
    tenantUrl: estBaseUrl(new URL(emulator.url)),
    token: await tokenFor(emulator, pki(certFile), pki(keyFile)),
    csrDer: buildCsr(key, commonNameOf(commonName, 'the test CN')),
    trustCas: serverCa,
    timeoutMs: 5000,
  });
  return checkIssuedCertificate(answer.certificates, { key, commonName, nowMs: Date.now(), url: answer.url.href });
}

beforeAll(async () => {
  emulator = await new Emulator({ est: true }).start();
  issuedEc = await issue('device-est.chain.pem', 'device-est.key', ecKey);
});
afterAll(async () => {
  await emulator.stop();
});

/** A folder with copies of a fixture identity. */
function identityIn(chain: string, key: string): { dir: string; certPath: string; keyPath: string; certBytes: Buffer; keyBytes: Buffer } {
  const dir = tempDir('c8ytoken-renew-');
  const certPath = join(dir, 'device.chain.pem');
  const keyPath = join(dir, 'device.key');
  copyFileSync(pki(chain), certPath);
  copyFileSync(pki(key), keyPath);
  chmodSync(keyPath, 0o600);
  return { dir, certPath, keyPath, certBytes: readFileSync(certPath), keyBytes: readFileSync(keyPath) };
}

const prove = (certPath: string, keyPath: string) => tokenFor(emulator, certPath, keyPath).then(() => undefined);
/** Permission bits; POSIX only (Windows has no such modes, so the check is skipped there). */
const mode = (path: string) => (process.platform === 'win32' ? 0o600 : statSync(path).mode & 0o777);

describe('replacePemIdentity: success', () => {
  it('same key, same issuer: new certificate + kept intermediate in place, .bak is the old file, key untouched', async () => {
    const id = identityIn('device-est.chain.pem', 'device-est.key');
    const result = await replacePemIdentity({ certPath: id.certPath, keyPath: id.keyPath, oldLeaf: cert('device-est.crt'), issued: issuedEc, prove });
    const now = readFileSync(id.certPath, 'utf8');
    expect(now.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(new X509Certificate(now).fingerprint256).toBe(issuedEc.leaf.fingerprint256);
    expect(readFileSync(`${id.certPath}.bak`).equals(id.certBytes)).toBe(true);
    expect(readFileSync(id.keyPath).equals(id.keyBytes)).toBe(true);
    expect(result).toMatchObject({ keyReplaced: false, issuerChanged: false, backups: { cert: `${id.certPath}.bak` } });
    expect(result.chainNote).toMatch(/Kept the 1 certificate/);
    // The key stays, and is backed up beside the certificate's backup: the .bak files are a pair.
    expect(readdirSync(id.dir).sort()).toEqual(['device.chain.pem', 'device.chain.pem.bak', 'device.key', 'device.key.bak']);
    expect(result.backups.key).toBe(`${id.keyPath}.bak`);
    expect(readFileSync(`${id.keyPath}.bak`).equals(id.keyBytes)).toBe(true);
    expect(await tokenFor(emulator, id.certPath, id.keyPath)).toMatch(/^eyJ/);
  });

  it('RSA with a new key and another issuer (chain from the answer): key and certificate replaced, .bak of both, keys 0600', async () => {
    const id = identityIn('device-rsa.chain.pem', 'device-rsa.key');
    const { key, pem } = await generateDeviceKey({ type: 'rsa', bits: 2048 });
    emulator.est!.answerChain = true;
    let issued: IssuedCertificate;
    try {
      issued = await issue('device-rsa.chain.pem', 'device-rsa.key', key);
    } finally {
      emulator.est!.answerChain = false;
    }
    const result = await replacePemIdentity({ certPath: id.certPath, keyPath: id.keyPath, oldLeaf: cert('device-rsa.crt'), issued, newKeyPem: pem, prove });
    expect(result).toMatchObject({ keyReplaced: true, issuerChanged: true, backups: { key: `${id.keyPath}.bak` } });
    expect(result.chainNote).toMatch(/issuer certificate\(s\) the platform sent.*issuer changed/);
    expect(readFileSync(`${id.keyPath}.bak`).equals(id.keyBytes)).toBe(true);
    expect(readFileSync(id.keyPath, 'utf8')).toBe(pem);
    expect(mode(id.keyPath)).toBe(0o600);
    expect(mode(`${id.keyPath}.bak`)).toBe(0o600);
    expect(readdirSync(id.dir).sort()).toEqual(['device.chain.pem', 'device.chain.pem.bak', 'device.key', 'device.key.bak']);
    expect(await tokenFor(emulator, id.certPath, id.keyPath)).toMatch(/^eyJ/);
  });

  it('a combined file (chain and key in one): the key block is kept and the file stays 0600', async () => {
    const dir = tempDir('c8ytoken-renew-');
    const combined = join(dir, 'device.pem');
    writeFileSync(combined, readFileSync(pki('device-est.chain.pem'), 'utf8') + readFileSync(pki('device-est.key'), 'utf8'), { mode: 0o600 });
    await replacePemIdentity({ certPath: combined, oldLeaf: cert('device-est.crt'), issued: issuedEc, prove });
    expect(readFileSync(combined, 'utf8')).toContain(readFileSync(pki('device-est.key'), 'utf8').trim());
    expect(mode(combined)).toBe(0o600);
    expect(mode(`${combined}.bak`)).toBe(0o600);
    expect(await tokenFor(emulator, combined, combined)).toMatch(/^eyJ/);
  });
});

describe('replacePemIdentity: the backups', () => {
  it('--new-key, then a plain renewal: cert.bak and key.bak stay a matching pair', async () => {
    const id = identityIn('device-est.chain.pem', 'device-est.key');
    const { key, pem } = await generateDeviceKey();
    const first = await issue('device-est.chain.pem', 'device-est.key', key);
    await replacePemIdentity({ certPath: id.certPath, keyPath: id.keyPath, oldLeaf: cert('device-est.crt'), issued: first, newKeyPem: pem, prove });
    // The second renewal keeps the new key and only replaces the certificate.
    const answer = await simpleReenroll({
      tenantUrl: estBaseUrl(new URL(emulator.url)),
      token: await tokenFor(emulator, id.certPath, id.keyPath),
      csrDer: buildCsr(key, commonNameOf('est-device-001', 'the test CN')),
      trustCas: serverCa,
      timeoutMs: 5000,
    });
    const second = checkIssuedCertificate(answer.certificates, { key, commonName: 'est-device-001', nowMs: Date.now(), url: answer.url.href });
    const result = await replacePemIdentity({ certPath: id.certPath, keyPath: id.keyPath, oldLeaf: first.leaf, issued: second, prove });
    expect(result.backups).toEqual({ cert: `${id.certPath}.bak`, key: `${id.keyPath}.bak` });
    const backedUp = new X509Certificate(readFileSync(`${id.certPath}.bak`));
    expect(backedUp.fingerprint256).toBe(first.leaf.fingerprint256);
    expect(backedUp.checkPrivateKey(createPrivateKey(readFileSync(`${id.keyPath}.bak`)))).toBe(true);
    expect(new X509Certificate(readFileSync(id.certPath)).checkPrivateKey(createPrivateKey(readFileSync(id.keyPath)))).toBe(true);
  });

  it.skipIf(process.platform === 'win32')('files behind symbolic links: the backups and the restore hint name the real files, where they are', async () => {
    const real = identityIn('device-est.chain.pem', 'device-est.key');
    const links = tempDir('c8ytoken-links-');
    const certLink = join(links, 'device.pem');
    const keyLink = join(links, 'device.key');
    symlinkSync(real.certPath, certLink);
    symlinkSync(real.keyPath, keyLink);
    const { key, pem } = await generateDeviceKey();
    const issued = await issue('device-est.chain.pem', 'device-est.key', key);
    const result = await replacePemIdentity({ certPath: certLink, keyPath: keyLink, oldLeaf: cert('device-est.crt'), issued, newKeyPem: pem, prove });
    expect(result.backups).toEqual({ cert: `${real.certPath}.bak`, key: `${real.keyPath}.bak` });
    expect(readFileSync(result.backups.cert).equals(real.certBytes)).toBe(true);
    expect(readdirSync(links).sort()).toEqual(['device.key', 'device.pem']);

    // The certificate's rename fails after the key's, and putting the key back fails too: the hint's paths are real files.
    const again = identityIn('device-est.chain.pem', 'device-est.key');
    const links2 = tempDir('c8ytoken-links-');
    symlinkSync(again.certPath, join(links2, 'device.pem'));
    symlinkSync(again.keyPath, join(links2, 'device.key'));
    let renames = 0;
    const err = await caught(
      replacePemIdentity({
        certPath: join(links2, 'device.pem'),
        keyPath: join(links2, 'device.key'),
        oldLeaf: cert('device-est.crt'),
        issued,
        newKeyPem: pem,
        prove,
        ops: {
          rename: (f, t) => (++renames === 2 ? Promise.reject(Object.assign(new Error('injected'), { code: 'EIO' })) : realFileOps.rename(f, t)),
          writeAtomic: () => Promise.reject(Object.assign(new Error('injected'), { code: 'EIO' })),
        },
      }),
    );
    expect(err.facts).toMatchObject({ reason: 'restore failed', restore: `mv ${again.keyPath}.bak.new ${again.keyPath}` });
    expect(readFileSync(`${again.keyPath}.bak.new`).equals(again.keyBytes)).toBe(true);
    expect(wordsOf(err).hint).toContain(`mv ${again.keyPath}.bak.new ${again.keyPath}`);
  });
});

describe('replacePemIdentity: failure at each step leaves the old files byte for byte', () => {
  /** File operations that fail at the n-th write, atomic write or rename (counting all). */
  function failingAt(n: number): { ops: Partial<FileOps>; calls: () => number } {
    let count = 0;
    const step =
      <A extends unknown[]>(real: (...a: A) => Promise<void>) =>
      async (...a: A) => {
        count += 1;
        if (count === n) throw Object.assign(new Error('injected'), { code: 'EIO' });
        return real(...a);
      };
    return { ops: { writeNew: step(realFileOps.writeNew), writeAtomic: step(realFileOps.writeAtomic), rename: step(realFileOps.rename) }, calls: () => count };
  }

  for (const newKey of [false, true]) {
    it(`${newKey ? 'with' : 'without'} a new key: every step in turn, the previous .bak files included`, async () => {
      const { key, pem } = await generateDeviceKey();
      const issued = newKey ? await issue('device-est.chain.pem', 'device-est.key', key) : issuedEc;
      const probe = identityIn('device-est.chain.pem', 'device-est.key');
      const counter = failingAt(Infinity);
      await replacePemIdentity({ certPath: probe.certPath, keyPath: probe.keyPath, oldLeaf: cert('device-est.crt'), issued, newKeyPem: newKey ? pem : undefined, prove, ops: counter.ops });
      const steps = counter.calls();
      // .new (1 or 2), .bak.new of both, the commit's renames (1 or 2), the .bak renames.
      expect(steps).toBe(newKey ? 8 : 6);
      const commitSteps = newKey ? 6 : 4;
      for (let n = 1; n <= steps; n++) {
        const id = identityIn('device-est.chain.pem', 'device-est.key');
        // Backups of an earlier renewal: a failed renewal must not have overwritten them.
        writeFileSync(`${id.certPath}.bak`, 'earlier certificate backup\n');
        writeFileSync(`${id.keyPath}.bak`, 'earlier key backup\n');
        const run = replacePemIdentity({ certPath: id.certPath, keyPath: id.keyPath, oldLeaf: cert('device-est.crt'), issued, newKeyPem: newKey ? pem : undefined, prove, ops: failingAt(n).ops });
        if (n > commitSteps) {
          // After the commit: the new files are in place; a backup that could not take the old one's place stays as .bak.new and is reported there.
          const result = await run;
          expect(new X509Certificate(readFileSync(id.certPath)).fingerprint256, `step ${n}`).toBe(issued.leaf.fingerprint256);
          const moved = [result.backups.cert, result.backups.key!];
          expect(
            moved.filter((b) => b.endsWith('.bak.new')),
            `step ${n}`,
          ).toHaveLength(1);
          expect(readFileSync(result.backups.cert).equals(id.certBytes)).toBe(true);
          expect(readFileSync(result.backups.key!).equals(id.keyBytes)).toBe(true);
          continue;
        }
        const err = await caught(run);
        expect(err.code, `step ${n}`).toBe('OUTPUT_UNWRITABLE');
        expect(err.exitCode).toBe(9);
        expect(readFileSync(id.certPath).equals(id.certBytes), `certificate after a failure at step ${n}`).toBe(true);
        expect(readFileSync(id.keyPath).equals(id.keyBytes), `key after a failure at step ${n}`).toBe(true);
        expect(readFileSync(`${id.certPath}.bak`, 'utf8'), `the earlier backup after a failure at step ${n}`).toBe('earlier certificate backup\n');
        expect(readFileSync(`${id.keyPath}.bak`, 'utf8'), `the earlier key backup after a failure at step ${n}`).toBe('earlier key backup\n');
        expect(readdirSync(id.dir).sort(), `files after a failure at step ${n}`).toEqual(['device.chain.pem', 'device.chain.pem.bak', 'device.key', 'device.key.bak']);
      }
    });
  }

  it("a failed proof: nothing replaced, no .new, the proof's own class and a note that nothing changed", async () => {
    const id = identityIn('device-est.chain.pem', 'device-est.key');
    const { C8yError } = await import('../../../src/core/errors.js');
    const err = await caught(
      replacePemIdentity({
        certPath: id.certPath,
        keyPath: id.keyPath,
        oldLeaf: cert('device-est.crt'),
        issued: issuedEc,
        prove: async () => {
          throw new C8yError('CLIENT_CERT_REJECTED', { url: 'https://x', stage: 'after-handshake' });
        },
      }),
    );
    expect(err.code).toBe('CLIENT_CERT_REJECTED');
    expect(wordsOf(err).message).toMatch(/did not work for a token.*Nothing was changed/);
    expect(err.facts.during).toBe('prove');
    expect(err.facts.unchanged).toEqual([id.certPath, id.keyPath]);
    expect(readFileSync(id.certPath).equals(id.certBytes)).toBe(true);
    expect(readdirSync(id.dir).sort()).toEqual(['device.chain.pem', 'device.key']);
  });

  it('a certificate the token endpoint does not accept fails the real proof', async () => {
    const id = identityIn('device-est.chain.pem', 'device-est.key');
    // The issued certificate without its intermediate, beside a key it does not belong to: no token.
    const err = await caught(replacePemIdentity({ certPath: id.certPath, keyPath: id.keyPath, oldLeaf: cert('device-est.crt'), issued: { leaf: cert('stranger-device.crt'), chain: [] }, prove }));
    expect(['KEY_MISMATCH', 'CLIENT_CERT_REJECTED']).toContain(err.code);
    expect(readFileSync(id.certPath).equals(id.certBytes)).toBe(true);
    expect(readdirSync(id.dir).sort()).toEqual(['device.chain.pem', 'device.key']);
  });

  it('an unwritable folder: OUTPUT_UNWRITABLE (exit 9) before anything is written', async () => {
    const err = await caught(renewalTargets([{ path: '/nonexistent-c8ytoken/device.pem', role: 'certificate' }]));
    expect(err.code).toBe('OUTPUT_UNWRITABLE');
    expect(err.exitCode).toBe(9);
    expect(err.facts).toMatchObject({ reason: 'no such folder', unchanged: ['/nonexistent-c8ytoken/device.pem'] });
    expect(wordsOf(err).message).toMatch(/\/nonexistent-c8ytoken does not exist/);
    const id = identityIn('device-est.chain.pem', 'device-est.key');
    const denied = { writeNew: async () => Promise.reject(Object.assign(new Error('denied'), { code: 'EACCES' })) };
    const err2 = await caught(replacePemIdentity({ certPath: id.certPath, keyPath: id.keyPath, oldLeaf: cert('device-est.crt'), issued: issuedEc, prove, ops: denied }));
    expect(err2.code).toBe('OUTPUT_UNWRITABLE');
    expect(wordsOf(err2).message).toMatch(/EACCES.*Nothing was changed/);
    expect(readdirSync(id.dir).sort()).toEqual(['device.chain.pem', 'device.key']);
  });

  it.skipIf(isRoot)('a read-only folder (chmod 555): OUTPUT_UNWRITABLE (skipped as root, who may write anyway)', async () => {
    const { chmodSync } = await import('node:fs');
    const id = identityIn('device-est.chain.pem', 'device-est.key');
    chmodSync(id.dir, 0o555);
    try {
      expect((await caught(replacePemIdentity({ certPath: id.certPath, keyPath: id.keyPath, oldLeaf: cert('device-est.crt'), issued: issuedEc, prove }))).code).toBe('OUTPUT_UNWRITABLE');
    } finally {
      chmodSync(id.dir, 0o755);
    }
  });
});

describe('composeChain', () => {
  const oldLeaf = cert('device-rsa.crt');
  const intermediate = cert('device-intermediate-ca.crt');
  const estCa = cert('est-ca.crt');

  it("same issuer, nothing in the answer: the old file's other certificates are kept", () => {
    const issued = { leaf: cert('device-ec256.crt'), chain: [] };
    expect(composeChain(oldLeaf, [intermediate], issued)).toMatchObject({ chain: [issued.leaf, intermediate], issuerChanged: false });
  });

  it('another issuer, nothing in the answer: dropped, and the note says so', () => {
    const composed = composeChain(oldLeaf, [intermediate], issuedEc);
    expect(composed.chain).toEqual([issuedEc.leaf]);
    expect(composed.issuerChanged).toBe(true);
    expect(composed.note).toMatch(/were not kept.*issuer changed.*c8ytoken Device Intermediate CA.*c8ytoken EST CA/);
  });

  it('another issuer that the old file holds: kept', () => {
    expect(composeChain(oldLeaf, [intermediate, estCa], issuedEc).chain).toEqual([issuedEc.leaf, estCa]);
  });
});

describe('replaceKeystore', () => {
  const access = (path: string) => ({ path, storePassword: 'changeit', keyPassword: 'changeit' });
  const proveKeystore = (path: string) => tokenForKeystore(emulator, path, { keystore: 'changeit' }).then(() => undefined);
  function keystoreIn(): { dir: string; path: string; bytes: Buffer } {
    const dir = tempDir('c8ytoken-renew-');
    const path = join(dir, 'device.p12');
    copyFileSync(pki('device-est.p12'), path);
    return { dir, path, bytes: readFileSync(path) };
  }

  it('PKCS#12 rewritten in place: same alias and password, the kept intermediate, .bak the old bytes, proven from the .new file', async () => {
    const ks = keystoreIn();
    const proved: string[] = [];
    const result = await replaceKeystore({
      ...access(ks.path),
      key: ecKey,
      oldChain: [cert('device-est.crt'), cert('est-ca.crt')],
      issued: issuedEc,
      prove: (p) => (proved.push(p), proveKeystore(p)),
    });
    expect(proved).toEqual([`${ks.path}.new`]);
    expect(result).toMatchObject({ path: ks.path, format: 'pkcs12', backup: `${ks.path}.bak` });
    expect(readFileSync(`${ks.path}.bak`).equals(ks.bytes)).toBe(true);
    expect(readdirSync(ks.dir).sort()).toEqual(['device.p12', 'device.p12.bak']);
    const before = await loadIdentity({ keystore: { path: `${ks.path}.bak` } }, passwordsOf({ keystore: 'changeit' }), { warn: () => undefined });
    const after = await loadIdentity({ keystore: { path: ks.path } }, passwordsOf({ keystore: 'changeit' }), { warn: () => undefined });
    expect(after.source.replace(ks.path, '')).toBe(before.source.replace(`${ks.path}.bak`, ''));
    expect(after.chain.map((c) => c.fingerprint256)).toEqual([issuedEc.leaf.fingerprint256, cert('est-ca.crt').fingerprint256]);
  });

  it('a failure at every step leaves the keystore byte for byte and no .new file', async () => {
    let count = 0;
    const counting = {
      writeNew: async (...a: Parameters<FileOps['writeNew']>) => (count++, realFileOps.writeNew(...a)),
      writeAtomic: async (...a: Parameters<FileOps['writeAtomic']>) => (count++, realFileOps.writeAtomic(...a)),
      rename: async (f: string, t: string) => (count++, realFileOps.rename(f, t)),
    };
    await replaceKeystore({ ...access(keystoreIn().path), key: ecKey, oldChain: [cert('device-est.crt')], issued: issuedEc, prove: proveKeystore, ops: counting });
    // .new, .bak.new, the commit, the backup's rename (after the commit: its failure leaves .bak.new, reported).
    expect(count).toBe(4);
    for (let n = 1; n < count; n++) {
      let at = 0;
      const fail =
        <A extends unknown[]>(real: (...a: A) => Promise<void>) =>
        async (...a: A) => {
          if (++at === n) throw Object.assign(new Error('injected'), { code: 'EIO' });
          return real(...a);
        };
      const ks = keystoreIn();
      writeFileSync(`${ks.path}.bak`, 'earlier backup');
      const err = await caught(
        replaceKeystore({
          ...access(ks.path),
          key: ecKey,
          oldChain: [cert('device-est.crt')],
          issued: issuedEc,
          prove: proveKeystore,
          ops: { writeNew: fail(realFileOps.writeNew), writeAtomic: fail(realFileOps.writeAtomic), rename: fail(realFileOps.rename) },
        }),
      );
      expect(err.exitCode, `step ${n}`).toBe(9);
      expect(readFileSync(ks.path).equals(ks.bytes), `keystore after a failure at step ${n}`).toBe(true);
      expect(readFileSync(`${ks.path}.bak`, 'utf8'), `step ${n}`).toBe('earlier backup');
      expect(readdirSync(ks.dir).sort(), `step ${n}`).toEqual(['device.p12', 'device.p12.bak']);
    }
    const ks = keystoreIn();
    const err = await caught(replaceKeystore({ ...access(ks.path), key: ecKey, oldChain: [cert('device-est.crt')], issued: issuedEc, prove: () => Promise.reject(new Error('no token')) }));
    expect(err.facts).toMatchObject({ during: 'prove', unchanged: [ks.path] });
    expect(readdirSync(ks.dir)).toEqual(['device.p12']);
  });
});

describe.skipIf(!hasOpenssl)('replaceKeystore: a PKCS#12 made by OpenSSL keeps its protection and its entries (skipped without openssl)', () => {
  it('20,000 iterations stay 20,000 (MAC, certificates, key); keytool lists the same entries; an extra CA does not become a trusted entry', async () => {
    const dir = tempDir('c8ytoken-p12-');
    const path = join(dir, 'device.p12');
    writeFileSync(join(dir, 'extra.pem'), readFileSync(pki('est-ca.crt'), 'utf8') + readFileSync(pki('stranger-ca.crt'), 'utf8'));
    const made = spawnSync('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      pki('device-est.key'),
      '-in',
      pki('device-est.crt'),
      '-certfile',
      join(dir, 'extra.pem'),
      '-name',
      'device',
      '-passout',
      'pass:changeit',
      // Any count above the writer's floor (2048) and not its own shows that the file's count is kept;
      // 20,000 does at a fifth of the derivations of 100,000 (each read and write here derives it 3 times).
      '-iter',
      '20000',
      '-macalg',
      'sha256',
      '-out',
      path,
    ]);
    expect(made.status, made.stderr?.toString()).toBe(0);
    const entries = (file: string) => {
      const listed = spawnSync('keytool', [...KEYTOOL_QUICK, '-list', '-keystore', file, '-storetype', 'PKCS12', '-storepass', 'changeit'], { encoding: 'utf8' });
      return { keys: listed.stdout.match(/PrivateKeyEntry/g)?.length ?? 0, trusted: listed.stdout.match(/trustedCertEntry/g)?.length ?? 0 };
    };
    const before = hasKeytool ? entries(path) : undefined;
    await replaceKeystore({
      path,
      storePassword: 'changeit',
      keyPassword: 'changeit',
      key: ecKey,
      oldChain: [cert('device-est.crt'), cert('est-ca.crt')],
      issued: issuedEc,
      prove: (p) => tokenForKeystore(emulator, p, { keystore: 'changeit' }).then(() => undefined),
    });
    const info = spawnSync('openssl', ['pkcs12', '-info', '-noout', '-in', path, '-passin', 'pass:changeit'], { encoding: 'utf8' });
    const said = `${info.stdout}${info.stderr}`;
    expect(said).toMatch(/MAC: sha256, Iteration 20000/);
    expect(said).toMatch(/PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 20000/);
    expect(said).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 20000/);
    if (before) expect(entries(path)).toEqual(before);
    // The stranger CA is still in the file, as a plain certificate.
    expect(said.match(/Certificate bag/g)?.length).toBe(3);
  });
});

describe('writeEnrollment', () => {
  it('key 0600 and certificate, atomically; refuses to replace existing files', async () => {
    const dir = tempDir('c8ytoken-enroll-');
    const files = { certPath: join(dir, 'device.pem'), keyPath: join(dir, 'device.key') };
    const proved: string[] = [];
    const result = await writeEnrollment({ ...files, issued: { ...issuedEc, chain: [cert('est-ca.crt')] }, keyPem: privateKeyPem(ecKey), prove: (c, k) => (proved.push(c, k), prove(c, k)) });
    expect(proved).toEqual([`${files.certPath}.new`, `${files.keyPath}.new`]);
    expect(result.chain).toHaveLength(2);
    expect(mode(files.keyPath)).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['device.key', 'device.pem']);
    expect(await tokenFor(emulator, files.certPath, files.keyPath)).toMatch(/^eyJ/);
    const err = await caught(writeEnrollment({ ...files, issued: issuedEc, keyPem: 'x', prove }));
    expect(err.code).toBe('OUTPUT_UNWRITABLE');
    expect(wordsOf(err).message).toMatch(/exists already/);
  });

  it('a failed certificate write leaves no key behind', async () => {
    const dir = tempDir('c8ytoken-enroll-');
    let writes = 0;
    const ops = {
      writeNew: async (p: string, d: string | Buffer, a: FileAttributes) => (++writes === 2 ? Promise.reject(Object.assign(new Error('full'), { code: 'ENOSPC' })) : realFileOps.writeNew(p, d, a)),
    };
    const err = await caught(writeEnrollment({ certPath: join(dir, 'device.pem'), keyPath: join(dir, 'device.key'), issued: issuedEc, keyPem: privateKeyPem(ecKey), prove, ops }));
    expect(err.code).toBe('OUTPUT_UNWRITABLE');
    expect(wordsOf(err).hint).toMatch(/disk space/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed proof (the platform refuses the certificate): neither file is written', async () => {
    const dir = tempDir('c8ytoken-enroll-');
    const refused = new C8yError('CLIENT_CERT_REJECTED', { url: emulator.url, stage: 'after-handshake' });
    const err = await caught(
      writeEnrollment({ certPath: join(dir, 'device.pem'), keyPath: join(dir, 'device.key'), issued: issuedEc, keyPem: privateKeyPem(ecKey), prove: () => Promise.reject(refused) }),
    );
    expect(err).toMatchObject({ code: 'CLIENT_CERT_REJECTED', facts: { during: 'prove' } });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('renewalVerdict', () => {
  const device = cert('device-est.crt'); // valid until 2099-12-31T23:59:59Z
  const notAfter = Date.parse('2099-12-31T23:59:59Z');
  const day = 86_400_000;
  it('renew now inside the window, not before', () => {
    expect(renewalVerdict(device, 30 * day, FIXED_NOW)).toMatchObject({ renewNow: false, expired: false });
    expect(renewalVerdict(device, 30 * day, notAfter - 29 * day)).toMatchObject({ renewNow: true, daysLeft: 29, expired: false });
    expect(renewalVerdict(device, 30 * day, notAfter - 31 * day)).toMatchObject({ renewNow: false, daysLeft: 31 });
    expect(renewalVerdict(device, 0, notAfter + day)).toMatchObject({ renewNow: true, expired: true, daysLeft: -1 });
    expect(renewalVerdict(device, 0, 0).notAfter.toISOString()).toBe('2099-12-31T23:59:59.000Z');
  });
});
