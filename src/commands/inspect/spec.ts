/** `c8ytoken inspect`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'inspect',
  summary: 'decode a token and explain it (no network, no keys)',
  args: ['[token]', 'the token, a file holding it, or - for stdin (default: stdin when piped)'],
  examples: [
    'c8ytoken inspect eyJhbGciOi...',
    'c8ytoken inspect /var/lib/c8y/token',
    'c8ytoken fetch | c8ytoken inspect -',
    'c8ytoken inspect --json token | jq .claims.ten',
    'c8ytoken inspect --check --expires-within 5m /var/lib/c8y/token || c8ytoken fetch -o /var/lib/c8y/token',
  ],
  options: keys,
  notes: 'Exit code 0 when the token decodes (with --check: and is valid), 1 when --check fails, 4 when it is not a token.',
  load: async () => (await import('./run.js')).run,
});
