/** `c8ytoken status`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'status',
  summary: 'the health of a running proxy (its socket or address) or watch (its --meta sidecar): token and certificate expiry, last error',
  examples: ['c8ytoken status', 'c8ytoken status --listen unix:/run/c8ytoken/dev-0001/proxy.sock --json', 'c8ytoken status --meta /var/lib/c8ytoken/dev-0001/token.json || alert'],
  options: keys,
  noConfig: true,
  optionHelp: {
    listen: 'the proxy to ask (its --listen), default 127.0.0.1:8001',
    meta: "read a watch's sidecar (watch --meta FILE) instead of asking a proxy",
    within: 'say the certificate needs renewal when it expires within this time (sidecar; a proxy says it itself)',
  },
  notes: 'Exit code 0 while it can serve (a token valid now, the certificate not expired), 1 when it cannot, 5 when no proxy answers, 4 when the sidecar cannot be read.',
  load: async () => (await import('./run.js')).run,
});
