#!/usr/bin/env node
// Runs the local Cumulocity-like endpoint until Ctrl-C: `npm run emulator -- --port 8443 --est --register dev-0001:s3cret`.
// Its options are documented in docs/local-endpoint.md (keep the two together).
import { parseArgs } from 'node:util';
import { Emulator, EST_FAULTS, FAULTS } from '../dist/emulator.js';

const HELP = `Usage: node scripts/emulator.js [options]   (or: npm run emulator -- [options])

A local Cumulocity-like mTLS endpoint on 127.0.0.1 for trying c8ytoken (docs/local-endpoint.md).

  --port N                 port to listen on (default 0: any free port, printed at start)
  --lifetime SECONDS       lifetime of the tokens it hands out (default 3600)
  --fault NAME             every token request gets this fault: ${FAULTS.join(', ')}
  --est                    also serve EST (cert renew, cert enroll) on the same port
  --est-fault NAME         EST answers get this fault (implies --est): ${EST_FAULTS.join(', ')}
  --register ID:PASSWORD   register device ID for cert enroll with this one-time password (implies --est;
                           repeatable); the password is used up by the first certificate issued
  --pending N              with --register: answer "not registered yet" (401) to the first N enroll attempts
  -h, --help               this help`;

function usage(message) {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      lifetime: { type: 'string', default: '3600' },
      fault: { type: 'string' },
      // EST (cert renew, cert enroll) on the same port; --est-fault: the next EST answers' fault.
      est: { type: 'boolean', default: false },
      'est-fault': { type: 'string' },
      register: { type: 'string', multiple: true, default: [] },
      pending: { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  usage(err.message);
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
if (values.fault && !FAULTS.includes(values.fault)) usage(`unknown fault ${values.fault}; one of: ${FAULTS.join(', ')}`);
const estFault = values['est-fault'];
if (estFault && !EST_FAULTS.includes(estFault)) usage(`unknown EST fault ${estFault}; one of: ${EST_FAULTS.join(', ')}`);
for (const [name, text] of [
  ['--port', values.port],
  ['--lifetime', values.lifetime],
  ['--pending', values.pending],
]) {
  if (!/^\d+$/.test(text)) usage(`${name} takes a whole number, not "${text}"`);
}
// ID:PASSWORD, split at the first colon (a device id has none; the password may).
const registrations = values.register.map((r) => {
  const colon = r.indexOf(':');
  if (colon <= 0 || colon === r.length - 1) usage(`--register takes DEVICE_ID:ONE_TIME_PASSWORD, not "${r}"`);
  return { id: r.slice(0, colon), otp: r.slice(colon + 1) };
});
const est = values.est || estFault !== undefined || registrations.length > 0;

const emulator = await new Emulator({ port: Number(values.port), lifetimeSeconds: Number(values.lifetime), est }).start();
if (values.fault) emulator.fault = values.fault;
if (estFault) emulator.est.fault = estFault;
for (const { id, otp } of registrations) emulator.registerEnrollment(id, otp, { pendingPolls: Number(values.pending) });
console.error(`local device token endpoint on ${emulator.url} (token lifetime ${emulator.lifetimeSeconds} s${values.fault ? `, fault ${values.fault}` : ''}${est ? ', EST on the same port' : ''})`);
console.error(`try: c8ytoken fetch --url ${emulator.url} --keystore fixtures/pki/device-rsa.p12 --keystore-password-file fixtures/pki/store.pass --truststore fixtures/pki/truststore.pem`);
for (const { id } of registrations) {
  console.error(
    `registered ${id} for enrollment${Number(values.pending) ? ` (the first ${values.pending} attempts are told "not registered yet")` : ''}; try: c8ytoken cert enroll --url ${emulator.url} --truststore fixtures/pki/truststore.pem --device-id ${id} --one-time-password-file OTP_FILE --cert ${id}.pem --key ${id}.key`,
  );
}
const stop = () => emulator.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
