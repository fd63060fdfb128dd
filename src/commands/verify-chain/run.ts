/** Runs `verify-chain`: the checks, printed as a checklist or JSON; exit 1 when one fails. */
import { verifyChainCommand } from './verify-chain.js';
import { renderVerify, supportsUnicode } from './output.js';
import { useColor } from '../../output/terminal.js';
import { ExitCode, type Problem } from '../../core/errors.js';
import { describeFacts } from '../../output/messages.js';
import type { HandshakeResult } from '../../core/platform/handshake.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

/** The handshake for --json: a proxy problem or a refusal with its words, as an error would show them. */
function handshakeJson(h: HandshakeResult | undefined): unknown {
  if (!h) return null;
  const worded = (p: Problem | undefined) => p && { code: p.code, ...describeFacts(p), details: p.facts };
  return { ...h, proxyProblem: worded(h.proxyProblem), refusal: worded(h.refusal) };
}

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  const result = await verifyChainCommand(r.settings!, { at: r.options.at, connect: r.options.connect, purpose: r.options.purpose }, r.io());
  if (r.term.json)
    r.cli.stdout.write(
      `${JSON.stringify({ ...result.report, ok: result.ok, source: result.source, chainHeaderMode: result.chainHeaderMode, deviceCa: result.deviceCa ?? null, handshake: handshakeJson(result.handshake) }, null, 2)}\n`,
    );
  else if (!r.term.quiet) r.cli.stdout.write(renderVerify(result, { color: useColor(r.cli.stdout, r.cli.env, !r.term.color), unicode: supportsUnicode(r.cli.env), tree: r.cli.stdout.isTTY === true }));
  return result.ok ? ExitCode.ok : ExitCode.checkFailed;
}
