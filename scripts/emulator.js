#!/usr/bin/env node
// Runs the local Cumulocity-like endpoint until Ctrl-C: `npm run emulator [-- --port 8443 --fault http503]`.
import { parseArgs } from 'node:util';
import { Emulator, FAULTS } from '../dist/emulator.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    lifetime: { type: 'string', default: '3600' },
    fault: { type: 'string' },
  },
});
if (values.fault && !FAULTS.includes(values.fault)) {
  console.error(`unknown fault ${values.fault}; one of: ${FAULTS.join(', ')}`);
  process.exit(2);
}
const emulator = await new Emulator({ port: Number(values.port), lifetimeSeconds: Number(values.lifetime) }).start();
if (values.fault) emulator.fault = values.fault;
console.error(`local device token endpoint on ${emulator.url} (token lifetime ${emulator.lifetimeSeconds} s${values.fault ? `, fault ${values.fault}` : ''})`);
console.error(`try: c8ytoken fetch --url ${emulator.url} --keystore fixtures/pki/device-rsa.p12 --keystore-password-file fixtures/pki/store.pass --truststore fixtures/pki/truststore.pem`);
const stop = () => emulator.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
