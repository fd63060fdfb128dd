/** Where the committed fixtures and the built CLI are, and the optional shared conformance corpora. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const pki = (name: string): string => fileURLToPath(new URL(`../../fixtures/pki/${name}`, import.meta.url));
export const bin = fileURLToPath(new URL('../../bin/c8ytoken.js', import.meta.url));
/** The RSA fixture device's credentials and the fixtures' truststore, as command-line flags. */
export const RSA_DEVICE = ['--truststore', pki('truststore.pem'), '--cert', pki('device-rsa.chain.pem'), '--key', pki('device-rsa.key')];
/** The EC P-256 fixture device's credentials and the fixtures' truststore, as command-line flags. */
export const EC256_DEVICE = ['--truststore', pki('truststore.pem'), '--cert', pki('device-ec256.chain.pem'), '--key', pki('device-ec256.key')];
/** `fetch` from `url` with a fixture keystore (its password in a file) and the fixtures' truststore. */
export const keystoreFetch = (url: string, keystore: string, passwordFile = pki('store.pass')): string[] => [
  'fetch',
  '--url',
  url,
  '--truststore',
  pki('truststore.pem'),
  '--keystore',
  pki(keystore),
  '--keystore-password-file',
  passwordFile,
];

/** ../shared/conformance beside the repository, when this checkout has it. */
export const conformanceDir = fileURLToPath(new URL('../../../shared/conformance/', import.meta.url));
export const hasConformance = existsSync(conformanceDir);

/** A fixed moment inside every valid fixture's validity (2025-01-01 .. 2099-12-31). */
export const FIXED_NOW = Date.parse('2026-06-01T12:00:00Z');
