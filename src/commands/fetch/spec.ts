/** `c8ytoken fetch`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'fetch',
  summary: 'get a device access token over mutual TLS; print it or write it to a file',
  examples: [
    'c8ytoken fetch --url https://t12345.eu-latest.cumulocity.com --keystore device.p12',
    'C8YTOKEN_KEYSTORE_PASSWORD=changeit c8ytoken fetch --keystore device.jks --truststore truststore.jks -o /var/lib/c8y/token',
    'c8ytoken fetch --cert device.chain.pem --key device.key --format header | curl -sf -H @- https://t12345.eu-latest.cumulocity.com/inventory/managedObjects',
    'env=$(c8ytoken fetch --format env) || exit; eval "$env"',
    'c8ytoken fetch --format env --shell powershell | Invoke-Expression',
  ],
  options: keys,
  notes:
    "With -o FILE nothing goes to stdout unless --format asks for a form (then that form is printed too); --json prints the token's metadata without the token.\n" +
    'Take --format env into a variable first, as in the example: eval "$(c8ytoken fetch --format env)" carries on after a failed fetch, even under set -e.',
  load: async () => (await import('./run.js')).run,
});
