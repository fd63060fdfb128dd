/** `c8ytoken cert enroll`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'cert enroll',
  summary: "get a new device's first certificate over EST (simpleenroll with its one-time password), polling until it is registered",
  examples: [
    'c8ytoken cert enroll --url https://t12345.eu-latest.cumulocity.com --device-id dev-0001 --one-time-password-file otp.txt --cert device.pem --key device.key',
    'C8YTOKEN_ONE_TIME_PASSWORD=... c8ytoken cert enroll --url https://t12345.eu-latest.cumulocity.com --device-id dev-0001 --cert device.pem --key device.key --max-wait 1h',
  ],
  options: keys,
  optionHelp: {
    url: 'tenant URL: the certificate request (EST) goes to port 443 (or --est-url), the proof token request to port 8443, unless the URL names a port',
    cert: 'the PEM device certificate enroll WRITES (a new file; an existing one is not replaced)',
    key: 'the PEM private key enroll WRITES (a new file, mode 0600; an existing one is not replaced)',
  },
  notes:
    '--cert and --key name the files to write (the key 0600, EC P-256); existing files are not replaced. The certificate is checked (our key and CN, not a CA, clientAuth, valid for a day or more) and proven with a token before both files are renamed into place; a device not enrolled has neither file. The one-time password comes from --one-time-password-file or C8YTOKEN_ONE_TIME_PASSWORD, never from the command line. ' +
    'Until the device is registered, the platform refuses: enroll asks again every --retry-every for at most --max-wait.',
  load: async () => (await import('./run.js')).run,
});
