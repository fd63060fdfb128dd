#!/usr/bin/env node
// `npm run docs`: writes docs/options.md (the options reference) and docs/c8ytokenrc.schema.json (a JSON
// schema of the config file, for editors) from the option and command tables, as npm-check-updates makes
// its README's options from its cli-options table. `--check` only compares and exits 1 when a committed
// file is out of date (test/unit/docs-reference.test.ts does the same in npm test).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { importSources } from './import-sources.js';

const root = fileURLToPath(new URL('..', import.meta.url));
export const OPTIONS_PAGE = join(root, 'docs', 'options.md');
export const SCHEMA_FILE = join(root, 'docs', 'c8ytokenrc.schema.json');

/** The tables, from the TypeScript sources (bundled for this one run, as scripts/man.js does). */
function tables() {
  return importSources(
    "export { OPTIONS, GLOBAL_OPTIONS, CONNECTION_OPTIONS, configKeys, listedOptions, longFlag } from './src/core/config/options.ts'; export { COMMANDS } from './src/cli/commands.ts';",
  );
}

const code = (text) => `\`${text}\``;
/** A table cell: pipes escaped, so that help texts with `a|b` stay one cell. */
const cell = (text) => text.replace(/\|/g, '\\|');

/** What a row's value is, in words: its choices, default, bounds. */
function valueNotes(row) {
  const notes = [];
  if (row.kind === 'choice') notes.push(`one of ${row.choices.map(code).join(', ')}`);
  if (row.kind === 'duration') notes.push(row.unitRequired ? 'a duration with a unit (`30d`, `12h`): a bare number is refused' : 'a duration (`90s`, `5m`, `1h30m`; a bare number is seconds)');
  if (row.defaultValue !== undefined) notes.push(`default ${code(row.defaultValue)}`);
  if (row.max !== undefined) notes.push(`at most ${code(row.max)}`);
  return notes;
}

/** The options reference as Markdown (formatted by prettier afterwards). */
function renderOptions(t) {
  const visible = t.OPTIONS.filter((r) => r.hidden !== true);
  const commandsOf = new Map(visible.map((r) => [r.key, []]));
  for (const spec of t.COMMANDS) for (const key of t.listedOptions(spec.name, spec.options)) commandsOf.get(key)?.push(spec.name);
  const configOf = (row) => [row.config, row.password?.configFile, row.password?.configInline].filter(Boolean);
  const table = (rows, withCommands) => [
    `| option | config key | environment |${withCommands ? ' commands |' : ''} meaning |`,
    `|---|---|---|${withCommands ? '---|' : ''}---|`,
    ...rows.map((row) => {
      const flags = code(row.flags.replace(/<([^>]+)>/g, (_m, v) => v.toUpperCase()));
      const config = configOf(row).map(code).join(', ') || '—';
      const env = (row.env ?? []).map(code).join(', ') || '—';
      const password = row.password ? 'a password: from the file, the variable or the config file, never from the command line' : undefined;
      const meaning = [row.help, ...valueNotes(row), ...(password ? [password] : [])].join('; ');
      const commands = withCommands ? ` ${commandsOf.get(row.key).map(code).join(', ')} |` : '';
      return `| ${flags} | ${cell(config)} | ${cell(env)} |${commands} ${cell(meaning)} |`;
    }),
  ];
  const global = new Set(t.GLOBAL_OPTIONS);
  const connection = new Set(t.CONNECTION_OPTIONS);
  const connectionCommands = t.COMMANDS.filter((c) => t.CONNECTION_OPTIONS.every((k) => t.listedOptions(c.name, c.options).includes(k) || k === 'deviceCa')).map((c) => code(c.name));
  return [
    '# Options',
    '',
    '<!-- Made by npm run docs (scripts/docs.js) from the option table, src/core/config/options.ts: do not edit. -->',
    '',
    'Every option of every command, from the table the program itself reads. An option with a config key can also come from the',
    '[config file](configuration.md), and one with variables from the environment; precedence, highest first: flags > environment >',
    'profile > top level of the config file > defaults. A variable listed first wins over the ones after it. `c8ytoken COMMAND --help`',
    'shows the same per command.',
    '',
    '## Global options',
    '',
    'On every command, before or after the command name. Also `--version` and `-h, --help`.',
    '',
    ...table(
      visible.filter((r) => global.has(r.key)),
      false,
    ),
    '',
    '## Connection options',
    '',
    `The device identity, the trust and the connection: on ${connectionCommands.join(', ')}; \`cert needs-renewal\` takes the credential ones and \`cert enroll\` the connection ones (the commands column says which).`,
    '',
    ...table(
      visible.filter((r) => connection.has(r.key)),
      true,
    ),
    '',
    '## Command options',
    '',
    ...table(
      visible.filter((r) => !global.has(r.key) && !connection.has(r.key)),
      true,
    ),
    '',
  ].join('\n');
}

const CASE_INSENSITIVE = (word) => word.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);
const UNITS = `(${['ms', 's', 'm', 'h', 'd'].map(CASE_INSENSITIVE).join('|')})`;

/** Seconds of a bound written in the table ('1h', '3650d'): a pattern cannot bound a text, a number can. */
const seconds = (text) => Number(/^\d+/.exec(text)[0]) * { s: 1, m: 60, h: 3600, d: 86400 }[text.slice(-1)];

/** A config key's value as JSON schema, read as src/core/config/values.ts reads it. */
function valueSchema(row, as) {
  const description = as === 'password' ? `the password itself, instead of ${row.flags.split(' ')[0]} (c8ytoken warns when this file is readable by others)` : row.help;
  const nonEmpty = { type: 'string', pattern: '\\S' };
  switch (as === 'value' ? row.kind : as === 'passwordFile' ? 'path' : 'password') {
    case 'switch':
      return { description, type: 'boolean' };
    case 'choice':
      return { description: `${description} (case-insensitive)`, enum: [...row.choices] };
    case 'duration': {
      const bare = row.unitRequired !== true;
      const limits = `${row.max ? `, at most ${row.max}` : ''}${row.defaultValue ? `; default ${row.defaultValue}` : ''}`;
      const text = { type: 'string', pattern: `^\\s*(${bare ? '\\d+(\\.\\d+)?|' : ''}(\\d+(\\.\\d+)?${UNITS})+)\\s*$` };
      return bare
        ? {
            description: `${description}: a duration such as 90s, 5m, 1h30m; a bare number is seconds${limits}`,
            anyOf: [text, { type: 'number', exclusiveMinimum: 0, ...(row.max ? { maximum: seconds(row.max) } : {}) }],
          }
        : { description: `${description}: a duration with a unit, such as 30d or 12h${limits}`, ...text };
    }
    default:
      return { description, ...nonEmpty };
  }
}

/** The JSON schema of a config file: the keys of the table, nested or dotted, and profiles of the same shape. */
function renderSchema(t) {
  const settings = {};
  const groups = {};
  for (const { key, row, as } of t.configKeys()) {
    if (row.hidden === true) continue;
    const value = valueSchema(row, as);
    // The reader takes `keystore.path: x` as written, and `keystore: {path: x}` (or `keystore: x`) nested.
    settings[key] = value;
    const [group, sub] = key.split('.');
    if (sub !== undefined) (groups[group] ??= {})[sub] = value;
  }
  for (const [group, properties] of Object.entries(groups)) {
    const object = { type: 'object', properties, additionalProperties: false };
    settings[group] = properties.path ? { description: `${group} settings; a string is short for { path: ... }`, anyOf: [{ ...properties.path }, object] } : object;
  }
  const sorted = Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b)));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $comment: 'Made by npm run docs (scripts/docs.js) from the option table, src/core/config/options.ts: do not edit.',
    title: 'c8ytoken config file (.c8ytokenrc)',
    description: 'Settings for c8ytoken; a profile (--profile NAME) lays its settings over the top level. Unknown keys are warned about by c8ytoken and flagged here.',
    type: 'object',
    properties: {
      $schema: { description: 'where editors find this schema; c8ytoken ignores it', type: 'string' },
      ...sorted,
      profiles: { description: 'named profiles, chosen with --profile NAME (or C8YTOKEN_PROFILE)', type: 'object', additionalProperties: { $ref: '#/$defs/profile' } },
    },
    additionalProperties: false,
    $defs: { profile: { type: 'object', properties: sorted, additionalProperties: false } },
  };
}

/** The two files as the sources make them now. */
export async function referenceDocs() {
  const t = await tables();
  // Formatted as prettier writes Markdown and JSON with the project's settings, so that `prettier --write`
  // leaves them as they are.
  const format = async (text, path) => prettier.format(text, { ...(await prettier.resolveConfig(path)), filepath: path });
  const options = await format(renderOptions(t), OPTIONS_PAGE);
  const schema = await format(JSON.stringify(renderSchema(t)), SCHEMA_FILE);
  return { [OPTIONS_PAGE]: options, [SCHEMA_FILE]: schema };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await referenceDocs();
  let stale = 0;
  for (const [path, text] of Object.entries(files)) {
    let old = '';
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      // not made yet
    }
    const name = path.slice(root.length);
    if (process.argv.includes('--check')) {
      if (text !== old) stale++;
      console.log(text === old ? `${name} is up to date` : `${name} is out of date: run npm run docs`);
    } else {
      writeFileSync(path, text);
      console.log(`${name} ${text === old ? 'unchanged' : 'written'} (${text.length} bytes)`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
