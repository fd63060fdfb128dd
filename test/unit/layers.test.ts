/**
 * The layers of design.md are an ESLint rule (eslint.config.js `layers`): these imports, each one an
 * arrow that would run back up, must be refused, and their legal counterparts accepted. `npm run lint`
 * then holds the whole tree to it.
 */
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the ESLint config is plain JavaScript, without types
import { layers } from '../../eslint.config.js';
import { root } from '../helpers/paths.js';

const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layers] });

async function refusals(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.map((m) => m.message);
}

describe('the layer rule', () => {
  const cases: [string, string, string, RegExp][] = [
    ['core imports a command', 'src/core/token/obtain.ts', "import { x } from '../../commands/fetch/run.js';", /core imports nothing from cli, commands or output/],
    ['core imports output (type only, too)', 'src/core/platform/proxy/watch.ts', "import type { x } from '../../../output/messages.js';", /core imports nothing/],
    ['core loads chalk', 'src/core/errors.ts', "const c = await import('chalk');", /no terminal/],
    ['core loads node-forge', 'src/core/est/csr.ts', "import forge from 'node-forge';", /oracles/],
    ['a lower core folder imports a higher one', 'src/core/platform/request.ts', "import { decodeJwt } from '../token/jwt.js';", /core\/platform sits below est, token, chain, config/],
    ['the same by import()', 'src/core/token/keeper.ts', "const m = await import('../est/flows.js');", /core\/token sits below est/],
    ['a core file imports a core folder', 'src/core/text.ts', "import { LIMITS } from './config/options.js';", /below every core folder/],
    ['errors imports text', 'src/core/errors.ts', "export { shownText } from './text.js';", /below every core folder and text, limits/],
    ['output imports a command', 'src/output/messages.ts', "import { spec } from '../commands/fetch/spec.js';", /output imports no cli and no command/],
    ['output imports the cli', 'src/output/terminal.ts', "import { main } from '../cli.js';", /output imports no cli/],
    ['a command imports another', 'src/commands/exec/run.ts', "import { renderWatchEvent } from '../watch/output.js';", /imports no other command folder/],
    ['a command imports the cli table', 'src/commands/completion/run.ts', "import { COMMANDS } from '../../cli/commands.js';", /does not import the cli/],
    ["the commands' shared module imports a command", 'src/commands/command.ts', "import { spec } from './fetch/spec.js';", /imports no command folder/],
  ];
  for (const [name, file, code, why] of cases) {
    it(`refuses: ${name}`, async () => {
      expect(await refusals(file, code)).toEqual([expect.stringMatching(why)]);
    });
  }

  const allowed: [string, string, string][] = [
    ['a higher core folder imports a lower one', 'src/core/token/obtain.ts', "import { x } from '../platform/request.js'; const m = await import('../x509/read.js');"],
    ['a folder imports itself and a look-alike name', 'src/core/platform/request.ts', "import { x } from './token-response.js'; import { y } from './proxy/watch.js';"],
    [
      'a command imports its own folder, the shared module, output and core',
      'src/commands/exec/run.ts',
      "import { a } from './exec.js'; import type { Run } from '../command.js'; import { b } from '../../output/token-events.js'; import { c } from '../../core/token/keeper.js';",
    ],
    ['the cli imports the commands', 'src/cli/commands.ts', "import { spec } from '../commands/fetch/spec.js';"],
  ];
  for (const [name, file, code] of allowed) {
    it(`accepts: ${name}`, async () => {
      expect(await refusals(file, code)).toEqual([]);
    });
  }
});
