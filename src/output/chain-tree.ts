/**
 * The chain as a small tree, for a terminal: the top of the path first, each certificate below the one
 * that signed it, a mark on each link (every link of the built path is a verified signature; a missing
 * link to the device CA is a ✖).
 */
import type { ChainReport } from '../core/chain/verify.js';
import { shownText } from '../core/text.js';
import { mark, type MarkStyle } from './marks.js';

/** The tree's lines (without a trailing newline). */
export function chainTree(report: ChainReport, style: MarkStyle): string[] {
  const path = report.certificates.filter((c) => c.role !== 'extra').reverse();
  const name = (subject: string): string => shownText(/(?:^|, )CN=([^,]*)/.exec(subject)?.[1] ?? subject, 80);
  const lines: string[] = [];
  const pathCheck = report.checks.find((c) => c.id === 'path');
  if (report.anchorGiven && path[0]?.role !== 'device CA') lines.push(`${mark('fail', style)} (no link to the device CA)`);
  path.forEach((c, i) => {
    const label = `${name(c.subject)} (${c.role})`;
    if (i === 0) lines.push(`${report.anchorGiven || c.selfSigned ? '' : '… '}${label}`);
    else lines.push(`${'   '.repeat(i - 1)}${style.unicode ? '└─' : '`-'}${mark('pass', style)} ${label}`);
  });
  if (pathCheck?.verdict === 'fail' && !report.anchorGiven) lines.push(`${mark('fail', style)} the chain is incomplete`);
  return lines;
}
