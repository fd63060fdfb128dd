/**
 * docs/options.md and docs/c8ytokenrc.schema.json are made from the option table (npm run docs): made
 * again here they must equal the committed files. The schema must say what the config reader says: the
 * example file passes both, and for each sample config the schema finds a problem exactly when the reader
 * reports an error or an unknown key. A `$schema` key, which editors read, is not a setting the reader
 * warns about.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { configKeys, longFlag, OPTIONS } from '../../src/core/config/options.js';
import { validateConfig } from '../../src/core/config/schema.js';
import { referenceDocs, OPTIONS_PAGE, SCHEMA_FILE } from '../../scripts/docs.js';
import { tempDir } from '../helpers/cli.js';
import { validate } from '../helpers/json-schema.js';
import { runMain } from '../helpers/main.js';
import { pki, root } from '../helpers/paths.js';

const made = await referenceDocs();
const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
const example = yaml.load(readFileSync(join(root, '.c8ytokenrc.example'), 'utf8')) as Record<string, unknown>;

/** What the reader thinks of a parsed config file: its errors and unknown-key warnings, as key paths. */
function readerProblems(raw: unknown): string[] {
  const { errors, warnings } = validateConfig(raw);
  return [...errors, ...warnings].map((p) => p.path);
}

describe('the options reference and the config schema', () => {
  it('are up to date with the option table (else: npm run docs)', () => {
    expect(readFileSync(OPTIONS_PAGE, 'utf8')).toBe(made[OPTIONS_PAGE]);
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(made[SCHEMA_FILE]);
  });

  it('the reference names every visible flag, variable and config key; the schema every config key', () => {
    const page = made[OPTIONS_PAGE]!;
    for (const row of OPTIONS.filter((r) => r.hidden !== true)) {
      expect(page, longFlag(row)).toContain(longFlag(row));
      for (const name of row.env ?? []) expect(page, name).toContain(`\`${name}\``);
    }
    const properties = schema.properties as Record<string, unknown>;
    for (const { key } of configKeys()) {
      expect(page, key).toContain(`\`${key}\``);
      expect(properties, key).toHaveProperty([key]);
    }
  });

  it('.c8ytokenrc.example passes the schema and the reader', () => {
    expect(validate(schema, example)).toEqual([]);
    expect(readerProblems(example)).toEqual([]);
  });

  const samples: [string, unknown][] = [
    ['the example with $schema', { $schema: './c8ytokenrc.schema.json', ...example }],
    ['keystore as a string', { keystore: 'device.p12', truststore: 'trust.pem' }],
    ['dotted keys', { 'keystore.path': 'device.p12', 'keystore.type': 'jks' }],
    ['a bare number of seconds', { timeout: 45, profiles: { slow: { timeout: '90' } } }],
    ['durations with units', { timeout: '1m30s', renewBefore: '30d', profiles: { a: { renewBefore: '1d12h' } } }],
    ['a number of seconds over the bound', { timeout: 7200 }],
    ['an unknown key', { colour: 'red' }],
    ['an unknown key in a group', { keystore: { pth: 'x' } }],
    ['a wrong choice', { chainHeader: 'sometimes' }],
    ['a bare number where a unit is needed', { renewBefore: 30 }],
    ['a bare number string where a unit is needed', { renewBefore: '30' }],
    ['a duration that is not one', { timeout: 'soon' }],
    ['a number where text goes', { url: 42 }],
    ['an empty path', { cert: '  ' }],
    ['a profile of the wrong type', { profiles: { a: 'x' } }],
    ['a list in a profile', { profiles: { a: { cert: [] } } }],
    ['a switch as text', { allowShorter: 'maybe' }],
    ['profiles nested in a profile', { profiles: { a: { profiles: {} } } }],
  ];

  it.each(samples)('agrees with the reader: %s', (_name, raw) => {
    expect(validate(schema, raw).length > 0, validate(schema, raw).join('\n')).toBe(readerProblems(raw).length > 0);
  });

  it('a config file with $schema gives no warning, and its settings apply', async () => {
    const dir = tempDir('c8ytoken-schema-');
    writeFileSync(join(dir, '.c8ytokenrc.yaml'), `# yaml-language-server: $schema=./c8ytokenrc.schema.json\n$schema: ./c8ytokenrc.schema.json\ncert: ${JSON.stringify(pki('device-rsa.crt'))}\n`);
    const run = await runMain(['cert', 'needs-renewal', '--within', '1d', '--json'], { cwd: dir });
    expect(run.stderr).not.toMatch(/not a known setting/);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ renewNow: false });
  });
});
