/** doctor's report: a checklist with what was found and the fix, the chain drawn on a terminal, or JSON. */
import type { DoctorCheck, DoctorReport } from './doctor.js';
import { chainTree } from '../../output/chain-tree.js';
import { describeError } from '../../output/messages.js';
import { mark, paint, type MarkStyle } from '../../output/marks.js';
import { shownText } from '../../core/text.js';

/** A check with its error worded: the message joins the details, the hint is the fix. */
function worded(c: DoctorCheck): { id: string; title: string; verdict: string; details: string[]; fix: string | null } {
  const words = c.error ? describeError(c.error) : undefined;
  return { id: c.id, title: c.title, verdict: c.verdict, details: words ? [...c.details, words.message] : c.details, fix: c.fix ?? words?.hint ?? null };
}

/** The same for people: each line of it made safe before it is painted (details hold platform text and claims). */
function wordedForPeople(c: DoctorCheck): ReturnType<typeof worded> {
  const w = worded(c);
  const line = (s: string): string => shownText(s, Number.POSITIVE_INFINITY);
  return { ...w, title: line(w.title), details: w.details.map(line), fix: w.fix === null ? null : line(w.fix) };
}

/** The JSON form: `checks` (id, title, verdict, details, fix) and `ok`. */
export function doctorJson(report: DoctorReport): Record<string, unknown> {
  return { ok: report.ok, checks: report.checks.map(worded) };
}

/** The checklist for stdout. */
export function renderDoctor(report: DoctorReport, style: MarkStyle & { tree: boolean }): string {
  const lines: string[] = ['c8ytoken doctor: from the config to a token', ''];
  for (const c of report.checks.map(wordedForPeople)) {
    lines.push(`${mark(c.verdict as 'pass', style)} ${c.title}`);
    for (const d of c.details) lines.push(`    ${d}`);
    if (c.fix && c.verdict !== 'pass' && c.verdict !== 'skip') lines.push(`    fix: ${c.fix}`);
    if (c.id === 'identity' && style.tree && report.chain?.certificates.length) lines.push(...chainTree(report.chain, style).map((l) => `      ${l}`));
  }
  const failed = report.checks.filter((c) => c.verdict === 'fail').length;
  const warned = report.checks.filter((c) => c.verdict === 'warn').length;
  lines.push('');
  lines.push(failed ? paint('fail', `${failed} check(s) failed: see the fixes above.`, style) : paint('pass', `Nothing failed${warned ? ` (${warned} warning(s))` : ''}.`, style));
  return lines.join('\n') + '\n';
}
