/** The options `c8ytoken inspect` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import type { OptionKey } from '../../core/config/options.js';

export const keys = ['check', 'expiresWithin', 'showSecrets'] as const satisfies readonly OptionKey[];
