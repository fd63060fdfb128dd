/** The options `c8ytoken completion` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import type { OptionKey } from '../../core/config/options.js';

export const keys = ['profiles'] as const satisfies readonly OptionKey[];
