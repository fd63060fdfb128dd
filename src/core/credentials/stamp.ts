/**
 * A stamp of the credential files as they are on disk (device, inode, size, times of each): equal stamps
 * mean unchanged files. watch reads the credentials again only when the stamp changes, so a renewed
 * certificate is picked up at the next refresh while a long-running process does not rebuild (and
 * fragment memory with) the same TLS context a thousand times.
 */
import { stat } from 'node:fs/promises';
import type { Settings } from '../config/settings.js';

/** The files the identity, the trust and their passwords are read from. */
export function credentialFiles(settings: Settings): string[] {
  const p = settings.passwords;
  const files = [settings.cert, settings.key, settings.keystore?.path, settings.truststore];
  for (const role of ['key', 'keystore', 'truststore'] as const) files.push(p[role].flagFile, p[role].configFile);
  return files.filter((f): f is string => f !== undefined);
}

/** The stamp of the credential files now. */
export async function credentialsStamp(settings: Settings): Promise<string> {
  const parts = await Promise.all(
    credentialFiles(settings).map(async (file) => {
      const s = await stat(file).catch(() => undefined);
      return s ? `${file}:${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : `${file}:-`;
    }),
  );
  return parts.join('|');
}
