/** The options `c8ytoken watch` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import { CONNECTION_OPTIONS, REFRESH_OPTIONS, RENEWAL_OPTIONS, type OptionKey } from '../../core/config/options.js';

export const keys = [...CONNECTION_OPTIONS, 'output', 'meta', 'exec', 'once', 'exitOnError', ...REFRESH_OPTIONS, ...RENEWAL_OPTIONS] as const satisfies readonly OptionKey[];
