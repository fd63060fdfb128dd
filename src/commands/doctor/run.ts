/** Runs `doctor`: every step, printed as a checklist or JSON; exit 1 when a step failed. */
import { doctorCommand } from './doctor.js';
import { doctorJson, renderDoctor } from './output.js';
import { terminalText } from '../../core/text.js';
import { supportsUnicode } from '../../output/marks.js';
import { useColor } from '../../output/terminal.js';
import { ExitCode } from '../../core/errors.js';
import type { Run } from '../command.js';

export async function run(r: Run): Promise<number> {
  const report = await doctorCommand({ ...r.io(), flags: r.flags });
  if (r.term.json) r.cli.stdout.write(`${JSON.stringify(doctorJson(report), null, 2)}\n`);
  else if (!r.term.quiet) {
    const color = useColor(r.cli.stdout, r.cli.env, !r.term.color);
    // The output edge: whatever a check's text holds, only our colours reach the terminal.
    r.cli.stdout.write(terminalText(renderDoctor(report, { color, unicode: supportsUnicode(r.cli.env), tree: r.cli.stdout.isTTY === true }), color));
  }
  return report.ok ? ExitCode.ok : ExitCode.checkFailed;
}
