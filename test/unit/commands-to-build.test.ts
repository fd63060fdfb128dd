/**
 * main() builds only the command argv names (commander's options and help texts of ten commands were
 * several milliseconds of every start-up), and all of them when argv names none. What the user sees must
 * not depend on it: a command's help built alone is its help among all the others.
 */
import { describe, expect, it } from 'vitest';
import { commandsToBuild } from '../../src/cli.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { runMain } from '../helpers/main.js';

const built = (argv: string[]): string[] => commandsToBuild(argv).map((c) => c.name);
const all = COMMANDS.map((c) => c.name);

describe('the commands main() builds', () => {
  it('only the command named, after the program options and their values', () => {
    expect(built(['inspect', 'eyJ'])).toEqual(['inspect']);
    expect(built(['--json', '-v', 'fetch', '--url', 'x'])).toEqual(['fetch']);
    expect(built(['--config', 'fetch', 'inspect'])).toEqual(['inspect']);
    expect(built(['-c', 'fetch', '-p', 'watch', 'inspect'])).toEqual(['inspect']);
    expect(built(['--config=fetch', 'inspect'])).toEqual(['inspect']);
    expect(built(['-qc', 'fetch', 'inspect'])).toEqual(['inspect']); // -q, then -c takes the next word
    expect(built(['-cfetch', 'inspect'])).toEqual(['inspect']); // -c takes the rest of its word
    expect(built(['-cq', 'inspect'])).toEqual(['inspect']); // -c takes "q": "inspect" is the command
    expect(built(['cert', 'renew', '--keystore', 'k.p12'])).toEqual(['cert renew']);
    expect(built(['exec', '--', 'fetch'])).toEqual(['exec']);
  });

  it('all of them for help, a group alone, a mistyped or a missing command', () => {
    for (const argv of [[], ['--help'], ['help', 'fetch'], ['cert'], ['cert', '--help'], ['fecth'], ['--config', 'x.json'], ['--', 'fetch']]) {
      expect(built(argv), argv.join(' ')).toEqual(all);
    }
  });

  it("a command's help built alone is the same as among all the others (commander's help command builds all)", async () => {
    for (const name of all) {
      const words = name.split(' ');
      const alone = await runMain([...words, '--help']);
      const amongAll = await runMain(words.length > 1 ? [words[0]!, 'help', words[1]!] : ['help', name]);
      expect(alone.code, name).toBe(0);
      expect(alone.stdout, name).toMatch(new RegExp(`^Usage: c8ytoken ${name} `));
      expect(alone.stdout, name).toBe(amongAll.stdout);
    }
  });

  it("a mistyped command still gets commander's suggestion", async () => {
    const run = await runMain(['fecth']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/fetch/);
  });
});
