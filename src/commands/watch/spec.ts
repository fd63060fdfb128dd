/** `c8ytoken watch`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'watch',
  summary: 'keep a token file fresh: refresh after half the lifetime, retry through outages, forever',
  args: ['[command...]', 'with --exec: the command and its arguments, after --'],
  argValues: 'commands',
  examples: [
    'c8ytoken watch -o /var/lib/c8y/token',
    'c8ytoken watch -o token --exec -- systemctl reload my-agent',
    'c8ytoken watch -o token --json',
    'c8ytoken watch -o token --once',
    'c8ytoken watch -o /var/lib/c8y/token --cert device.pem --key device.key --renew-before 30d',
  ],
  options: keys,
  notes:
    'Signals: SIGHUP refreshes now; SIGINT and SIGTERM stop (exit 130, 143), leaving the file intact. A hook gets C8Y_TOKEN_FILE and the environment without the password variables.\n' +
    "A failed hook is logged and watch goes on; with --once it fails the run: the exit code is the hook's (128+N when signal N ended it, 127 when it could not be started), as exec gives its command's.\n" +
    'With --renew-before, a refresh that finds the device certificate inside the window renews it (as `cert renew`: PEM files or the PKCS#12/JKS keystore replaced in place, FILE.bak kept) and goes on with the new one; a failed renewal is retried with backoff at later refreshes while the old certificate keeps the tokens coming.',
  load: async () => (await import('./run.js')).run,
});
