/** `c8ytoken doctor`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'doctor',
  ownSettings: true,
  summary: 'walk the whole path (config, files, identity, chain, trust, DNS, TCP, TLS, token, clock) and say what to fix',
  examples: ['c8ytoken doctor --keystore device.p12', 'c8ytoken doctor --profile staging', 'c8ytoken doctor --json | jq \'.checks[] | select(.verdict != "pass")\''],
  options: keys,
  notes: 'Exit code 0 when no step failed (warnings allowed), 1 when one failed. A step after a failed one is skipped, and says why.',
  load: async () => (await import('./run.js')).run,
});
