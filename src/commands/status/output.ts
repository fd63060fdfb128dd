/** The health document for people. */
import { shownText } from '../../core/text.js';
import type { HealthDocument } from '../../core/token/health.js';

export function renderStatus(doc: HealthDocument): string {
  const lines = [`${doc.service}: ${doc.ok ? 'OK' : `NOT SERVING: ${doc.reason ?? 'unknown'}`}`];
  if (doc.upstream) lines.push(`upstream: ${doc.upstream.url} (${doc.upstream.mode})`);
  if (doc.token)
    lines.push(
      `token: ${doc.token.deviceUser ?? 'unknown device'}, expires ${doc.token.expiresAt ?? 'never'} (${doc.token.secondsLeft ?? '?'} s left), new one possible from ${doc.token.refreshAfter ?? '?'}`,
    );
  if (doc.certificate)
    lines.push(`certificate: valid until ${doc.certificate.notAfter} (${doc.certificate.daysLeft} days)${doc.certificate.expired ? ', EXPIRED' : doc.certificate.needsRenewal ? ', renew now' : ''}`);
  lines.push(`last refresh: ${doc.lastRefresh ?? 'none yet'}`);
  if (doc.lastError) lines.push(`last error: ${doc.lastError.time} ${doc.lastError.code}: ${doc.lastError.message}`);
  return `${lines.map((l) => shownText(l, Number.POSITIVE_INFINITY)).join('\n')}\n`;
}
