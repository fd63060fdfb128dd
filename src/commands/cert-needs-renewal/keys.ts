/** The options `c8ytoken cert needs-renewal` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import type { OptionKey } from '../../core/config/options.js';

export const keys = ['cert', 'key', 'keystore', 'keystoreType', 'keystorePasswordFile', 'keyPasswordFile', 'alias', 'within'] as const satisfies readonly OptionKey[];
