/** The verify-chain report: a checklist for people (✔ ✖ ⚠, ASCII without UTF-8), JSON for scripts. */
import type { VerifyChainResult } from './verify-chain.js';
import type { HandshakeResult } from '../../core/platform/handshake.js';
import { shownText } from '../../core/text.js';
import { isoSeconds } from '../../core/time/iso.js';
import { chainTree } from '../../output/chain-tree.js';
import { describeFacts } from '../../output/messages.js';
import { mark, paint, type MarkStyle } from '../../output/marks.js';

export { supportsUnicode } from '../../output/marks.js';

export interface VerifyStyle extends MarkStyle {
  /** On a terminal: the chain is drawn as a tree above the list. */
  tree: boolean;
}

/** The device certificate's verdict: accepted only on evidence, refused with the cause, or unknown. */
function clientLines(h: HandshakeResult, style: MarkStyle): string[] {
  switch (h.clientVerdict) {
    case 'accepted':
      return [`${mark('pass', style)} Device certificate accepted: ${shownText(h.clientEvidence ?? '')}`];
    case 'refused': {
      const lines = [`${mark('fail', style)} Device certificate rejected: ${shownText(h.clientProblem ?? '')}`];
      if (h.refusal) {
        const words = describeFacts(h.refusal);
        lines.push(`    ${words.message}`);
        if (words.hint) lines.push(`    fix: ${words.hint}`);
      }
      return lines;
    }
    case 'unknown':
      return [`${mark('warn', style)} Device certificate acceptance unknown: ${shownText(h.clientProblem ?? '')}`, '    a token is the proof: `c8ytoken doctor` or `c8ytoken fetch` asks for one'];
    default:
      return [];
  }
}

/** The checklist for stdout. */
export function renderVerify(result: VerifyChainResult, style: VerifyStyle): string {
  const r = result.report;
  const lines: string[] = [];
  lines.push(`Device chain from ${result.source}, checked at ${isoSeconds(r.at)}${result.deviceCa ? ` against the device CA ${result.deviceCa}` : ' (no device CA given)'}`);
  lines.push('');
  if (style.tree && r.certificates.length) lines.push(...chainTree(r, style).map((l) => `  ${l}`), '');
  r.certificates.forEach((c, i) => {
    const days = c.daysLeft < 0 ? `expired ${-c.daysLeft} day(s) ago` : `${c.daysLeft} day(s) left`;
    lines.push(`${i + 1}. ${c.role}: ${c.subject}`);
    lines.push(`   issuer     ${c.issuer}`);
    lines.push(`   serial     ${c.serial}`);
    lines.push(`   sha256     ${c.sha256}`);
    lines.push(`   valid      ${isoSeconds(c.notBefore)} → ${isoSeconds(c.notAfter)} (${days})`);
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
  lines.push(`${mark('info', style)} X-Ssl-Cert-Chain (${result.chainHeaderMode}) carries: ${r.chainHeader.length ? r.chainHeader.join(' | ') : 'nothing (no header is sent)'}`);
  const h = result.handshake;
  if (h) {
    lines.push('');
    lines.push(`TLS handshake with ${h.host}:${h.port}${h.proxy ? ` through the proxy ${shownText(h.proxy)} (from ${shownText(h.proxySource ?? '?')})` : ''}`);
    if (h.proxyProblem) {
      const words = describeFacts(h.proxyProblem);
      lines.push(`${mark('fail', style)} Proxy: ${words.message}`);
      if (words.hint) lines.push(`    fix: ${words.hint}`);
    }
    if (h.proxyProblem && h.clientVerdict === undefined) {
      // The tunnel did not open: nothing to say about the platform.
    } else if (h.networkProblem) lines.push(`${mark('fail', style)} Connection: ${h.networkProblem}`);
    else {
      lines.push(
        `${mark(h.serverTrusted ? 'pass' : 'fail', style)} Server certificate ${h.serverTrusted ? 'trusted' : 'NOT trusted'} by ${h.trustSource}${h.serverProblem ? `: ${h.serverProblem}` : ''}${h.serverSubject ? ` (${h.serverSubject})` : ''}`,
      );
      if (h.tlsVersion) lines.push(`${mark('info', style)} TLS version: ${h.tlsVersion}`);
      lines.push(...clientLines(h, style));
    }
  }
  lines.push('');
  lines.push(result.ok ? paint('pass', 'All checks passed.', style) : paint('fail', 'Some checks failed: see the fixes above.', style));
  return lines.join('\n') + '\n';
}
