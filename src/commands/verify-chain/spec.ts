/** `c8ytoken verify-chain`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'verify-chain',
  summary: 'check the device certificate, key and chain locally (and, with --connect, the TLS handshake)',
  examples: [
    'c8ytoken verify-chain --keystore device.p12',
    'c8ytoken verify-chain --cert device.pem --key device.key --device-ca device-root.pem',
    'c8ytoken verify-chain --keystore device.jks --json | jq \'.checks[] | select(.verdict == "fail")\'',
    'c8ytoken verify-chain --keystore device.p12 --connect',
    'c8ytoken verify-chain --cert device.pem --at 2027-01-01',
  ],
  options: keys,
  notes: 'Exit code 0 when every check passes (warnings allowed), 1 when a check fails, 4 when the files cannot be read.',
  load: async () => (await import('./run.js')).run,
});
