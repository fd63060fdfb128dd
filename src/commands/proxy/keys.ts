/** The options `c8ytoken proxy` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import { CONNECTION_OPTIONS, type OptionKey } from '../../core/config/options.js';

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
  'minRetry',
  'maxRetry',
  'slowRetry',
  'renewBefore',
  'allowShorter',
  'estUrl',
] as const satisfies readonly OptionKey[];
