/** Runs `inspect`: read and judge the token, print the report or JSON, exit 1 when --check fails. */
import { inspectCommand } from './inspect.js';
import { inspectJson, renderInspect } from './output.js';
import { useColor } from '../../output/terminal.js';
import { supportsUnicode } from '../../output/marks.js';
import { ExitCode } from '../../core/errors.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  const { check, showSecrets, expiresWithin } = r.options;
  const now = r.cli.now ?? Date.now;
  const result = await inspectCommand(
    { input: r.args[0], check, expiresWithinMs: expiresWithin },
    {
      stdin: r.cli.stdin,
      // asked only when no token is given (finding out loads node:tty)
      get stdinIsTTY() {
        return r.cli.stdinIsTTY;
      },
      cwd: r.cli.cwd,
      now,
    },
  );
  if (r.term.json) r.cli.stdout.write(`${JSON.stringify(inspectJson(result, showSecrets), null, 2)}\n`);
  else if (!(check && r.term.quiet))
    r.cli.stdout.write(
      renderInspect(result, { color: useColor(r.cli.stdout, r.cli.env, !r.term.color), showSecrets, now: now(), ...(r.cli.stdout.isTTY ? { timeline: { unicode: supportsUnicode(r.cli.env) } } : {}) }),
    );
  return check && !result.checkPassed ? ExitCode.checkFailed : ExitCode.ok;
}
