/** Whether an optional tool is installed, without starting it (a JVM or a pyenv shim costs a tenth of a second or more). */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when PATH holds an executable file of this name, as a shell would find it (with PATHEXT on Windows). */
export function onPath(command: string): boolean {
  const extensions = process.platform === 'win32' ? ['', ...(process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';')] : [''];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const file = join(dir, command + ext);
      try {
        if (!statSync(file).isFile()) continue;
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        // not here
      }
    }
  }
  return false;
}
