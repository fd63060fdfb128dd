/** The options `c8ytoken proxy` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import { CONNECTION_OPTIONS, REFRESH_OPTIONS, RENEWAL_OPTIONS, type OptionKey } from '../../core/config/options.js';

export const keys = [
  ...CONNECTION_OPTIONS,
  'listen',
  'upstreamAuth',
  'allowUi',
  'tlsCert',
  'tlsKey',
  'clientCa',
  'socketMode',
  'socketGroup',
  'requireHeader',
  'headerTimeout',
  'idleTimeout',
  'drainTimeout',
  'output',
  'meta',
  ...REFRESH_OPTIONS,
  ...RENEWAL_OPTIONS,
] as const satisfies readonly OptionKey[];
