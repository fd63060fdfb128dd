/**
 * man/c8ytoken.1 is made from the command and option tables and the command pages in docs/commands/ (npm
 * run man): made again here, in memory, it must equal the committed page, so that the page cannot drift.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { pageExamples, renderManPage, roff } from '../../src/cli/man.js';
import { OPTIONS, longFlag } from '../../src/core/config/options.js';
import { commandPages } from '../../scripts/man.js';
import { root } from '../helpers/paths.js';

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const made = renderManPage({ commands: COMMANDS, version, pages: commandPages() });
const hasGroff = !spawnSync('groff', ['--version'], { stdio: 'ignore' }).error;

describe('the man page', () => {
  it('is up to date with the tables and the command pages (else: npm run man)', () => {
    expect(readFileSync(join(root, 'man', 'c8ytoken.1'), 'utf8')).toBe(made);
  });

  it('has every command, its examples, and every visible option of the table', () => {
    for (const c of COMMANDS) {
      expect(made).toContain(`.SS \\fB${roff(`c8ytoken ${c.name}`)}\\fR`);
      for (const e of c.examples) expect(made).toContain(roff(e));
    }
    for (const row of OPTIONS) {
      if (row.hidden) expect(made).not.toContain(roff(longFlag(row)) + '\\fR');
      else expect(made, longFlag(row)).toContain(`\\fB${roff(longFlag(row))}\\fR`);
    }
  });

  it("takes the pages' comments as the descriptions of the examples, and their other examples", () => {
    const byCommand = pageExamples('# `c8ytoken fetch`: x\n\n## More\n\n```sh\n# one\nc8ytoken fetch \\\n  --url u\n\nc8ytoken fetch -o t   # two\n```\n# `c8ytoken inspect`\n', ['fetch', 'inspect']);
    expect(byCommand.get('fetch')).toEqual([
      { text: 'c8ytoken fetch \\\n  --url u', comment: 'one' },
      { text: 'c8ytoken fetch -o t', comment: 'two' },
    ]);
    expect(made).toContain(roff('PKCS#12; asks for the password when run at a terminal'));
  });

  it.skipIf(!hasGroff)(`groff -man -ww reads it without a warning${hasGroff ? '' : ' (skipped: groff is not installed)'}`, () => {
    const run = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: made, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
  });
});
