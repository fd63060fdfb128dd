/**
 * A stamp of the credential files as they are on disk (device, inode, size, times of each): equal stamps
 * mean unchanged files. watch reads the credentials again only when the stamp changes, so a renewed
 * certificate is picked up at the next refresh while a long-running process does not rebuild (and
 * fragment memory with) the same TLS context a thousand times.
 */
import { stat } from 'node:fs/promises';

/** The stamp of these files now (config/settings.ts credentialFiles: the credential files of the settings). */
export async function credentialsStamp(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      const s = await stat(file).catch(() => undefined);
      return s ? `${file}:${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : `${file}:-`;
    }),
  );
  return parts.join('|');
}
