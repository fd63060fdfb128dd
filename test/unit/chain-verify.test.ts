import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyChain, type ChainReport, type Verdict } from '../../src/core/chain/verify.js';
import { findLeaf, keyMatchesCertificate } from '../../src/core/x509/path.js';
import { readCertificates } from '../../src/core/x509/read.js';
import { pki, FIXED_NOW } from '../helpers/paths.js';

const certs = (name: string): X509Certificate[] => readCertificates(readFileSync(pki(name)), name, 'certificate');
const root = certs('device-root-ca.crt');

function verify(chainFile: string, extra: { key?: string; anchors?: X509Certificate[] | null; at?: number } = {}): ChainReport {
  const all = certs(chainFile);
  const leaf = findLeaf(all)!;
  return verifyChain({
    leaf,
    others: all.filter((c) => c !== leaf),
    fileOrder: all,
    key: extra.key ? createPrivateKey(readFileSync(pki(extra.key))) : undefined,
    anchors: extra.anchors === null ? undefined : (extra.anchors ?? root),
    at: extra.at ?? FIXED_NOW,
  });
}

const verdict = (r: ChainReport, id: string): Verdict => r.checks.find((c) => c.id === id)!.verdict;
const problems = (r: ChainReport, id: string): string => r.checks.find((c) => c.id === id)!.problems.join('\n');

describe('verifyChain on good chains', () => {
  it('passes a device chain up to the device CA, with the key', () => {
    const r = verify('device-rsa.chain.pem', { key: 'device-rsa.key' });
    expect(r.checks.filter((c) => c.verdict !== 'pass')).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.deviceUser).toBe('device_rsa-device-001');
    expect(r.certificates.map((c) => c.role)).toEqual(['device', 'intermediate', 'device CA']);
    expect(r.chainHeader).toEqual(['CN=c8ytoken Device Intermediate CA, O=c8ytoken fixtures']);
    expect(r.certificates[0]!.key).toBe('RSA 2048');
  });

  it('passes EC chains', () => {
    expect(verify('device-ec384.chain.pem', { key: 'device-ec384.key' }).ok).toBe(true);
  });

  it('without a device CA checks up to the last certificate and says so', () => {
    const r = verify('device-ec256.chain.pem', { anchors: null });
    expect(verdict(r, 'path')).toBe('warn');
    expect(problems(r, 'path')).toMatch(/no device CA given.*not a root/);
    expect(r.ok).toBe(true);
  });

  it('notes, but accepts, a thin-edge style self-signed CA device certificate', () => {
    const self = certs('device-selfsigned.crt');
    const r = verifyChain({ leaf: self[0]!, others: [], anchors: self, at: FIXED_NOW });
    expect(verdict(r, 'device-cert')).toBe('warn');
    expect(problems(r, 'device-cert')).toMatch(/self-signed CA certificate \(as thin-edge.io makes\)/);
    expect(r.ok).toBe(true);
  });

  it('builds the path from an unordered file and names what is not on it', () => {
    const r = verify('bad/unordered.chain.pem');
    expect(r.certificates[0]!.subject).toContain('rsa-device-001');
    expect(verdict(r, 'path')).toBe('warn');
    expect(problems(r, 'path')).toMatch(/not on the path: "Stranger CA"/);
    expect(problems(r, 'path')).toMatch(/out of order/);
    expect(r.ok).toBe(true);
  });
});

describe('verifyChain finds each fault', () => {
  const cases: [string, string, RegExp, { key?: string; at?: number }?][] = [
    ['a key that belongs to another certificate', 'key-match', /belongs to another certificate/, { key: 'mismatch.key' }],
    ['a missing intermediate', 'path', /no path from "rsa-device-001" to the device CA/],
    ['an expired device certificate', 'validity', /"expired-device" expired on 2021-12-31/],
    ['a signer that is not a CA', 'signers', /"Not-a-CA Intermediate" signs certificates but is not a CA/],
    ['a pathLen exceeded', 'signers', /pathLen 0\) but has 1/],
    ['a device certificate for servers only', 'device-cert', /does not include clientAuth/],
    ['an X.509 v1 certificate', 'profile', /X\.509 v1; the platform needs v3/],
    ['an RSA key under 2048 bits', 'keys', /1024 bits; at least 2048/],
    ['a chain over 10 certificates', 'length', /12 certificates; the platform accepts at most 10/],
  ];
  const files: Record<string, string> = {
    'a key that belongs to another certificate': 'device-rsa.chain.pem',
    'a missing intermediate': 'bad/missing-intermediate.chain.pem',
    'an expired device certificate': 'device-expired.chain.pem',
    'a signer that is not a CA': 'bad/signer-not-ca.chain.pem',
    'a pathLen exceeded': 'bad/pathlen-exceeded.chain.pem',
    'a device certificate for servers only': 'bad/server-only.chain.pem',
    'an X.509 v1 certificate': 'bad/v1.chain.pem',
    'an RSA key under 2048 bits': 'bad/rsa1024.chain.pem',
    'a chain over 10 certificates': 'bad/too-long.chain.pem',
  };
  for (const [name, id, reason, extra] of cases) {
    it(name, () => {
      const r = verify(files[name]!, extra ?? {});
      expect(verdict(r, id)).toBe('fail');
      expect(problems(r, id)).toMatch(reason);
      expect(r.checks.find((c) => c.id === id)!.fix).toBeTruthy();
      expect(r.ok).toBe(false);
    });
  }

  it('a device certificate from an unknown CA', () => {
    const r = verify('stranger-device.chain.pem');
    expect(verdict(r, 'path')).toBe('fail');
  });

  it('a tampered signature', () => {
    const [leaf, intermediate] = certs('device-ec256.chain.pem') as [X509Certificate, X509Certificate];
    const der = Buffer.from(leaf.raw);
    der[der.length - 5]! ^= 0xff; // inside the signature value
    const r = verifyChain({ leaf: new X509Certificate(der), others: [intermediate], anchors: root, at: FIXED_NOW });
    expect(verdict(r, 'path')).toBe('fail');
    expect(problems(r, 'path')).toMatch(/signature does not verify/);
  });

  it('warns when the device certificate expires within 30 days, using the clock given', () => {
    const r = verify('device-rsa.chain.pem', { at: Date.parse('2099-12-15T00:00:00Z') });
    expect(verdict(r, 'leaf-expiry')).toBe('warn');
    expect(problems(r, 'leaf-expiry')).toMatch(/expires in 16 day\(s\)/);
    expect(r.ok).toBe(true);
    const later = verify('device-rsa.chain.pem', { at: Date.parse('2100-01-01T00:00:00Z') });
    expect(verdict(later, 'validity')).toBe('fail');
    const before = verify('device-rsa.chain.pem', { at: Date.parse('2024-12-31T23:59:59Z') });
    expect(problems(before, 'validity')).toMatch(/not valid before 2025-01-01/);
  });
});

describe('keyMatchesCertificate', () => {
  const keys = ['device-rsa.key', 'device-rsa.pkcs1.key', 'device-ec256.key', 'device-ec384.key', 'mismatch.key', 'stranger-device.key', 'device-selfsigned.key', 'server.key'];
  const certs = ['device-rsa.crt', 'device-ec256.crt', 'device-ec384.crt', 'stranger-device.crt', 'device-selfsigned.crt', 'server.crt', 'device-intermediate-ca.crt'];
  const spkiOf = (k: KeyObject): Buffer => (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });

  it('says a private or public key belongs to a certificate exactly when their public keys are the same, for RSA and EC keys of every fixture', () => {
    let matches = 0;
    for (const k of keys) {
      const key = createPrivateKey(readFileSync(pki(k)));
      for (const c of certs) {
        const cert = new X509Certificate(readFileSync(pki(c)));
        const same = spkiOf(key).equals(spkiOf(cert.publicKey));
        expect(keyMatchesCertificate(key, cert), `${k} ${c}`).toBe(same);
        expect(keyMatchesCertificate(createPublicKey(key), cert), `${k} (public) ${c}`).toBe(same);
        if (same) matches++;
      }
    }
    expect(matches).toBe(7); // every device key with its certificate, the PKCS#1 form too, and the server's
  });

  it('is false for a secret key and for a key of another type', () => {
    const cert = new X509Certificate(readFileSync(pki('device-rsa.crt')));
    expect(keyMatchesCertificate(createSecretKey(Buffer.alloc(32)), cert)).toBe(false);
    expect(keyMatchesCertificate(generateKeyPairSync('ed25519').privateKey, cert)).toBe(false);
  });
});
