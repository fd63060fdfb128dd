/** In-process helpers for the EST tests: a token from the local endpoint, and proving files with one. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadIdentity } from '../../src/core/credentials/identity.js';
import { PasswordBook } from '../../src/core/credentials/passwords.js';
import { postTokenRequest } from '../../src/core/platform/request.js';
import { tokenFromResponse } from '../../src/core/token/answer.js';
import type { Emulator } from '../emulator/server.js';
import { pki } from './paths.js';

export const serverCa = [new X509Certificate(readFileSync(pki('server-ca.crt')))];
const trust = { cas: serverCa, source: 'server-ca.crt' };
const quiet = { warn: () => undefined };

/** A password book with the given passwords as if from the environment; no prompt. */
export function passwordsOf(given: { key?: string; keystore?: string; truststore?: string } = {}): PasswordBook {
  const src = (role: 'key' | 'keystore' | 'truststore', envName: string) => ({ role, envName, ...(given[role] !== undefined ? { envValue: given[role] } : {}) });
  return new PasswordBook({ key: src('key', 'K'), keystore: src('keystore', 'S'), truststore: src('truststore', 'T') }, undefined, () => undefined);
}

export function noPasswords(): PasswordBook {
  return passwordsOf();
}

/** A device token from the emulator's token endpoint for the PEM identity in certPath/keyPath. */
export async function tokenFor(emulator: Emulator, certPath: string, keyPath: string, keyPassword?: string): Promise<string> {
  const identity = await loadIdentity({ cert: certPath, key: keyPath }, passwordsOf(keyPassword === undefined ? {} : { key: keyPassword }), quiet);
  const endpoint = new URL('/devicecontrol/deviceAccessToken', emulator.url);
  const raw = await postTokenRequest({ endpoint, identity, trust, chainHeader: 'auto', timeoutMs: 5000 });
  return tokenFromResponse(raw, endpoint).token;
}

/** A device token for the keystore identity at `path`, opened with the given passwords (the proof of a renewed keystore). */
export async function tokenForKeystore(emulator: Emulator, path: string, given: { keystore: string; key?: string }, alias?: string): Promise<string> {
  const identity = await loadIdentity({ keystore: { path, ...(alias ? { alias } : {}) } }, passwordsOf(given), quiet);
  const endpoint = new URL('/devicecontrol/deviceAccessToken', emulator.url);
  const raw = await postTokenRequest({ endpoint, identity, trust, chainHeader: 'auto', timeoutMs: 5000 });
  return tokenFromResponse(raw, endpoint).token;
}
