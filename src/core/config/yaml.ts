/** YAML config files, with js-yaml (the parser cosmiconfig uses): loaded only when a YAML file is read. */
import { CORE_SCHEMA, load } from 'js-yaml';

/** Parses YAML text; on a syntax error throws what js-yaml throws (its `reason` and `mark` are used, never its text). */
export function parseYamlText(text: string, filename: string): unknown {
  return load(text, { schema: CORE_SCHEMA, filename });
}
