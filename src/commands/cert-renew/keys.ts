/** The options `c8ytoken cert renew` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import { CONNECTION_OPTIONS, type OptionKey } from '../../core/config/options.js';

export const keys = [...CONNECTION_OPTIONS, 'estUrl', 'newKey', 'allowShorter'] as const satisfies readonly OptionKey[];
