/** The verify-chain report: a checklist for people (✔ ✖ ⚠, ASCII without UTF-8), JSON for scripts. */
import type { VerifyChainResult } from '../commands/verify-chain.js';
import { chainTree } from './chain-tree.js';
import { mark, paint, type MarkStyle } from './marks.js';

export { supportsUnicode } from './marks.js';

export interface VerifyStyle extends MarkStyle {
  /** On a terminal: the chain is drawn as a tree above the list. */
  tree: boolean;
}

/** The checklist for stdout. */
export function renderVerify(result: VerifyChainResult, style: VerifyStyle): string {
  const r = result.report;
  const lines: string[] = [];
  lines.push(`Device chain from ${result.source}, checked at ${r.at}${result.deviceCa ? ` against the device CA ${result.deviceCa}` : ' (no device CA given)'}`);
  lines.push('');
  if (style.tree && r.certificates.length) lines.push(...chainTree(r, style).map((l) => `  ${l}`), '');
  r.certificates.forEach((c, i) => {
    const days = c.daysLeft < 0 ? `expired ${-c.daysLeft} day(s) ago` : `${c.daysLeft} day(s) left`;
    lines.push(`${i + 1}. ${c.role}: ${c.subject}`);
    lines.push(`   issuer     ${c.issuer}`);
    lines.push(`   serial     ${c.serial}`);
    lines.push(`   sha256     ${c.sha256}`);
    lines.push(`   valid      ${c.notBefore} → ${c.notAfter} (${days})`);
    lines.push(`   key        ${c.key}${c.ca ? `, CA${c.pathLen !== undefined ? ` pathLen ${c.pathLen}` : ''}` : ''}${c.selfSigned ? ', self-signed' : ''}`);
    if (c.keyUsage.length || c.extendedKeyUsage.length) lines.push(`   usage      ${[...c.keyUsage, ...c.extendedKeyUsage].join(', ')}`);
  });
  lines.push('');
  for (const check of r.checks) {
    lines.push(`${mark(check.verdict, style)} ${check.title}`);
    for (const p of check.problems) lines.push(`    ${p}`);
    if (check.fix && (check.verdict === 'fail' || check.verdict === 'warn')) lines.push(`    fix: ${check.fix}`);
  }
  lines.push('');
  if (r.deviceUser) lines.push(`${mark('info', style)} Device user on the platform: ${r.deviceUser}`);
  lines.push(`${mark('info', style)} X-Ssl-Cert-Chain (auto) carries: ${r.chainHeader.length ? r.chainHeader.join(' | ') : 'nothing (no header is sent)'}`);
  const h = result.handshake;
  if (h) {
    lines.push('');
    lines.push(`TLS handshake with ${h.host}:${h.port}`);
    if (h.networkProblem) lines.push(`${mark('fail', style)} Connection: ${h.networkProblem}`);
    else {
      lines.push(
        `${mark(h.serverTrusted ? 'pass' : 'fail', style)} Server certificate ${h.serverTrusted ? 'trusted' : 'NOT trusted'} by ${h.trustSource}${h.serverProblem ? `: ${h.serverProblem}` : ''}${h.serverSubject ? ` (${h.serverSubject})` : ''}`,
      );
      if (h.tlsVersion) lines.push(`${mark('info', style)} TLS version: ${h.tlsVersion}`);
      if (h.clientAccepted !== undefined || h.clientProblem) {
        lines.push(`${mark(h.clientAccepted ? 'pass' : 'fail', style)} Device certificate ${h.clientAccepted ? `accepted (HTTP ${h.httpStatus} to HEAD /)` : `rejected: ${h.clientProblem}`}`);
      }
    }
  }
  lines.push('');
  lines.push(result.ok ? paint('pass', 'All checks passed.', style) : paint('fail', 'Some checks failed: see the fixes above.', style));
  return lines.join('\n') + '\n';
}
