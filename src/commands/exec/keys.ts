/** The options `c8ytoken exec` reads: its spec lists them, its runner gets them as one typed object (OptionsOf). */
import { CONNECTION_OPTIONS, REFRESH_OPTIONS, type OptionKey } from '../../core/config/options.js';

export const keys = [...CONNECTION_OPTIONS, 'output', ...REFRESH_OPTIONS] as const satisfies readonly OptionKey[];
