/** Finding and parsing the config file with cosmiconfig: loaded only when a config file may exist. */
import { cosmiconfig, defaultLoaders } from 'cosmiconfig';
import { C8yError } from '../errors.js';
import { MODULE, SEARCH_PLACES } from './schema.js';

export interface FoundConfig {
  path: string;
  raw: unknown;
}

/** Finds and parses the config file: the named one, or cosmiconfig's search from `from` up, then the user's config folder. */
export async function findConfig(named: string | undefined, from: string): Promise<FoundConfig | undefined> {
  // Config files are data: a JavaScript or TypeScript config found anywhere is refused, never run.
  const refuse = (filepath: string): never => {
    throw new C8yError('CONFIG_INVALID', `${filepath} is a program, and c8ytoken runs no code from config files.`, {
      hint: 'Write the settings as JSON or YAML (.c8ytokenrc.json, .c8ytokenrc.yaml).',
    });
  };
  const explorer = cosmiconfig(MODULE, {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'global',
    loaders: { '.js': refuse, '.mjs': refuse, '.cjs': refuse, '.ts': refuse, '.mts': refuse, '.cts': refuse, noExt: defaultLoaders['.yaml'] },
    cache: false,
  });
  try {
    const result = named ? await explorer.load(named) : await explorer.search(from);
    if (!result) return undefined;
    return { path: result.filepath, raw: result.config };
  } catch (err) {
    if (err instanceof C8yError) throw err;
    const path = (err as { filepath?: string }).filepath ?? named ?? 'the config file';
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new C8yError('CONFIG_UNREADABLE', `The config file ${named} does not exist.`, { hint: 'Check --config / C8YTOKEN_CONFIG.', cause: err });
    }
    const reason = String((err as Error).message ?? err).split('\n')[0];
    throw new C8yError('CONFIG_UNREADABLE', `Cannot read the config file ${path}: ${reason}`, {
      hint: 'Fix the JSON/YAML syntax at the place named; .c8ytokenrc.example shows the format.',
      cause: err,
    });
  }
}
