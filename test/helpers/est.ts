/** In-process helpers for the EST tests: a token from the local endpoint, and proving files with one. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadIdentity } from '../../src/core/credentials/identity.js';
import { PasswordBook } from '../../src/core/credentials/passwords.js';
import { postTokenRequest } from '../../src/core/platform/request.js';
import { tokenFromResponse } from '../../src/core/platform/token-response.js';
import type { Emulator } from '../../src/emulator/server.js';
import { pki } from './paths.js';

export const serverCa = [new X509Certificate(readFileSync(pki('server-ca.crt')))];
const trust = { cas: serverCa, source: 'server-ca.crt', warnings: [] };

export function noPasswords(): PasswordBook {
  const src = (label: string, envName: string) => ({ label, envName });
  return new PasswordBook({ key: src('key password', 'K'), keystore: src('keystore password', 'S'), truststore: src('truststore password', 'T') }, undefined, () => undefined);
}

/** A device token from the emulator's token endpoint for the PEM identity in certPath/keyPath. */
export async function tokenFor(emulator: Emulator, certPath: string, keyPath: string, keyPassword?: string): Promise<string> {
  const passwords = keyPassword === undefined ? noPasswords() : new PasswordBook({ key: { label: 'key password', envName: 'K', envValue: keyPassword }, keystore: { label: 's', envName: 'S' }, truststore: { label: 't', envName: 'T' } }, undefined, () => undefined);
  const identity = await loadIdentity({ cert: certPath, key: keyPath }, passwords);
  const endpoint = new URL('/devicecontrol/deviceAccessToken', emulator.url);
  const raw = await postTokenRequest({ endpoint, identity, trust, chainHeader: 'auto', timeoutMs: 5000 });
  return tokenFromResponse(raw, endpoint).token;
}
