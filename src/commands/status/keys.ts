/** The options `c8ytoken status` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import type { OptionKey } from '../../core/config/options.js';

export const keys = ['listen', 'meta', 'within', 'timeout'] as const satisfies readonly OptionKey[];
