/** The options `c8ytoken cert enroll` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import type { OptionKey } from '../../core/config/options.js';

export const keys = [
  'url',
  'estUrl',
  'cert',
  'key',
  'truststore',
  'truststorePasswordFile',
  'timeout',
  'proxy',
  'proxyCa',
  'proxyPasswordFile',
  'deviceId',
  'oneTimePasswordFile',
  'retryEvery',
  'maxWait',
] as const satisfies readonly OptionKey[];
