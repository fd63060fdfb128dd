/** `c8ytoken cert renew`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'cert renew',
  summary: 'renew the configured device certificate over EST (simplereenroll with a device token)',
  examples: [
    'c8ytoken cert renew --url https://t12345.eu-latest.cumulocity.com --cert device.pem --key device.key',
    'c8ytoken cert renew --keystore device.p12 --json',
    'c8ytoken cert renew --cert device.pem --key device.key --new-key',
    'c8ytoken cert needs-renewal --cert device.pem --within 30d && c8ytoken cert renew --cert device.pem --key device.key',
  ],
  options: keys,
  optionHelp: { url: 'tenant URL: the certificate request (EST) goes to port 443 (or --est-url) and the token request to port 8443, unless the URL names a port' },
  notes:
    'The identity is replaced in place once the new certificate has fetched a token: PEM files, or a PKCS#12/JKS keystore rewritten in the same format with the same password and alias (other JKS entries kept). ' +
    'The previous files stay as FILE.bak; mode, owner and group are kept. A certificate that is a CA, lacks clientAuth, is valid for less than a day, or expires before the current one (unless --allow-shorter) is refused (exit 8). ' +
    'A file that cannot be replaced fails before anything is asked of the platform (exit 9). On any failure the files are as they were. Certificate requests go to port 443 unless the URL names a port.',
  load: async () => (await import('./run.js')).run,
});
