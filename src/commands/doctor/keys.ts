/** The options `c8ytoken doctor` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import { CONNECTION_OPTIONS, type OptionKey } from '../../core/config/options.js';

export const keys = [...CONNECTION_OPTIONS] as const satisfies readonly OptionKey[];
