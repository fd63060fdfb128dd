#!/usr/bin/env node
// `npm run man`: writes man/c8ytoken.1 from the command and option tables and the command pages in
// docs/commands/ (src/cli/man.ts), for the npm package and the Debian package. `--check` only compares and
// exits 1 when the committed page is out of date (test/unit/man-page.test.ts does the same in npm test).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importSources } from './import-sources.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = join(root, 'man', 'c8ytoken.1');

/** docs/commands/*.md one after another, in name order: the examples the man page takes from them. */
export function commandPages() {
  const dir = join(root, 'docs', 'commands');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

/** The page as the sources make it now. */
export async function manPage() {
  // The generator is TypeScript in src/ (the tests import it directly): bundled for this one run.
  const { renderManPage, COMMANDS } = await importSources("export { renderManPage } from './src/cli/man.ts'; export { COMMANDS } from './src/cli/commands.ts';");
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return renderManPage({ commands: COMMANDS, version, pages: commandPages() });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await manPage();
  let old = '';
  try {
    old = readFileSync(page, 'utf8');
  } catch {
    // not made yet
  }
  if (process.argv.includes('--check')) {
    console.log(text === old ? 'man/c8ytoken.1 is up to date' : 'man/c8ytoken.1 is out of date: run npm run man');
    process.exitCode = text === old ? 0 : 1;
  } else {
    mkdirSync(join(root, 'man'), { recursive: true });
    writeFileSync(page, text);
    console.log(`man/c8ytoken.1 ${text === old ? 'unchanged' : 'written'} (${text.length} bytes)`);
  }
}
