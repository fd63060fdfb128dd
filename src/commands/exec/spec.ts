/** `c8ytoken exec`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'exec',
  summary: 'run a command with a valid token in its environment and a token file kept fresh while it runs',
  args: ['<command...>', 'the command and its arguments, after --'],
  argValues: 'commands',
  examples: [
    'c8ytoken exec -- sh -c \'curl -sf -H "Authorization: $C8Y_HEADER_AUTHORIZATION" "$C8Y_HOST/inventory/managedObjects"\'',
    'c8ytoken exec --keystore device.p12 -- ./my-agent --token-file-env C8Y_TOKEN_FILE',
    'c8ytoken exec -o /run/my-agent/token -- my-agent',
  ],
  options: keys,
  notes:
    "The command gets C8Y_TOKEN, C8Y_HOST, C8Y_TENANT, C8Y_USER, C8Y_HEADER_AUTHORIZATION and C8Y_TOKEN_FILE, a 0600 file kept fresh (half-life schedule) while it runs and removed afterwards unless -o named it; never a password variable. It is started once, never restarted. SIGINT, SIGTERM and SIGHUP are passed to it. The exit code is the command's (128+N when signal N ended it); when no token can be had, the token's exit code and the command does not start.",
  load: async () => (await import('./run.js')).run,
});
