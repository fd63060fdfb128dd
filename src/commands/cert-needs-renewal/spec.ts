/** `c8ytoken cert needs-renewal`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'cert needs-renewal',
  summary: 'exit 0 when the device certificate should be renewed now (expires within --within, or expired), 1 when not yet',
  examples: [
    'c8ytoken cert needs-renewal --cert device.pem --within 30d',
    'c8ytoken cert needs-renewal --keystore device.p12 --json',
    'c8ytoken cert needs-renewal --within 45d && c8ytoken cert renew',
  ],
  options: keys,
  notes: 'Exit code 0: renew now; 1: not yet (as `step certificate needs-renewal` and tedge); 3 or 4 when the certificate cannot be read. A keystore needs its store password as usual.',
  load: async () => (await import('./run.js')).run,
});
