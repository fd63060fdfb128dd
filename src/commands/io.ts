/** What a command needs from its surroundings; the CLI passes the process's, tests their own. */
import type { TokenSourceIo } from '../core/token/source.js';

export interface CommandIo extends TokenSourceIo {
  cwd: string;
}
