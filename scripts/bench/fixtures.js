// The fixture device the benchmark and soak scripts run as (its files and the fixtures' truststore as
// command-line flags), so the three scripts name it once.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A file of fixtures/pki. */
export const pkiPath = (name) => join(root, 'fixtures/pki', name);

/** The EC P-256 fixture device and the fixtures' truststore, as c8ytoken's flags. */
export const EC_DEVICE = ['--truststore', pkiPath('truststore.pem'), '--cert', pkiPath('device-ec256.chain.pem'), '--key', pkiPath('device-ec256.key')];
