/** The options `c8ytoken watch` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import { CONNECTION_OPTIONS, type OptionKey } from '../../core/config/options.js';

export const keys = [
  ...CONNECTION_OPTIONS,
  'output',
  'meta',
  'exec',
  'once',
  'exitOnError',
  'minRetry',
  'maxRetry',
  'slowRetry',
  'renewBefore',
  'allowShorter',
  'estUrl',
] as const satisfies readonly OptionKey[];
