/** The verify-chain report: a checklist for people (✔ ✖ ⚠, ASCII without UTF-8), JSON for scripts. */
import type { VerifyChainResult } from '../commands/verify-chain.js';
import type { Verdict } from '../core/chain/verify.js';
import { shownText } from '../core/text.js';
import { describeFacts } from './messages.js';

const UNICODE: Record<Verdict, string> = { pass: '✔', fail: '✖', warn: '⚠', skip: '–', info: 'ℹ' };
const ASCII: Record<Verdict, string> = { pass: '[ok]', fail: '[FAIL]', warn: '[warn]', skip: '[skip]', info: '[info]' };
const COLOR: Record<Verdict, number> = { pass: 32, fail: 31, warn: 33, skip: 2, info: 36 };

/** True when the terminal can show ✔ ✖ ⚠ (a UTF-8 locale, or Windows Terminal). */
export function supportsUnicode(env: NodeJS.ProcessEnv, platform = process.platform): boolean {
  if (platform === 'win32') return Boolean(env.WT_SESSION) || env.TERM_PROGRAM === 'vscode';
  return /UTF-?8/i.test(env.LC_ALL || env.LC_CTYPE || env.LANG || '');
}

/** The checklist for stdout. */
export function renderVerify(result: VerifyChainResult, opts: { color: boolean; unicode: boolean }): string {
  const r = result.report;
  const marks = opts.unicode ? UNICODE : ASCII;
  const paint = (v: Verdict, s: string): string => (opts.color ? `\u001b[${COLOR[v]}m${s}\u001b[0m` : s);
  const lines: string[] = [];
  lines.push(`Device chain from ${result.source}, checked at ${r.at}${result.deviceCa ? ` against the device CA ${result.deviceCa}` : ' (no device CA given)'}`);
  lines.push('');
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
    lines.push(`${paint(check.verdict, marks[check.verdict])} ${check.title}`);
    for (const p of check.problems) lines.push(`    ${p}`);
    if (check.fix && (check.verdict === 'fail' || check.verdict === 'warn')) lines.push(`    fix: ${check.fix}`);
  }
  lines.push('');
  if (r.deviceUser) lines.push(`${paint('info', marks.info)} Device user on the platform: ${r.deviceUser}`);
  lines.push(`${paint('info', marks.info)} X-Ssl-Cert-Chain (auto) carries: ${r.chainHeader.length ? r.chainHeader.join(' | ') : 'nothing (no header is sent)'}`);
  const h = result.handshake;
  if (h) {
    lines.push('');
    lines.push(`TLS handshake with ${h.host}:${h.port}${h.proxy ? ` through the proxy ${shownText(h.proxy)} (from ${shownText(h.proxySource ?? '?')})` : ''}`);
    if (h.proxyProblem) {
      const words = describeFacts(h.proxyProblem.code, h.proxyProblem.facts);
      lines.push(`${paint('fail', marks.fail)} Proxy: ${words.message}`);
      if (words.hint) lines.push(`    fix: ${words.hint}`);
    }
    if (h.proxyProblem && h.clientAccepted === undefined) {
      // The tunnel did not open: nothing to say about the platform.
    } else if (h.networkProblem) lines.push(`${paint('fail', marks.fail)} Connection: ${h.networkProblem}`);
    else {
      lines.push(
        `${paint(h.serverTrusted ? 'pass' : 'fail', h.serverTrusted ? marks.pass : marks.fail)} Server certificate ${h.serverTrusted ? 'trusted' : 'NOT trusted'} by ${h.trustSource}${h.serverProblem ? `: ${h.serverProblem}` : ''}${h.serverSubject ? ` (${h.serverSubject})` : ''}`,
      );
      if (h.tlsVersion) lines.push(`${paint('info', marks.info)} TLS version: ${h.tlsVersion}`);
      if (h.clientAccepted !== undefined || h.clientProblem) {
        lines.push(
          `${paint(h.clientAccepted ? 'pass' : 'fail', h.clientAccepted ? marks.pass : marks.fail)} Device certificate ${h.clientAccepted ? `accepted (HTTP ${h.httpStatus} to HEAD /)` : `rejected: ${h.clientProblem}`}`,
        );
      }
    }
  }
  lines.push('');
  lines.push(result.ok ? paint('pass', 'All checks passed.') : paint('fail', 'Some checks failed: see the fixes above.'));
  return lines.join('\n') + '\n';
}
