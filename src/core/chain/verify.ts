/**
 * Device chain verification: builds the path from the device certificate to the device CA (whatever
 * the file order, with decoys and cycles in the pool, within a bounded search: search.ts), then runs
 * the checks (checks.ts: RFC 5280 and what Cumulocity requires, cumulocity.md). The time is a
 * parameter. Each check carries a verdict and, when it does not pass, the reasons and the fix.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { SignatureBudget } from '../x509/path.js';
import { dnOneLine } from '../x509/names.js';
import { chainHeaderCertificates, type ChainHeaderMode } from '../platform/chain-header.js';
import { candidate, dedupe, leafCn, type Candidate } from './candidate.js';
import { buildPaths } from './search.js';
import { CHECKS, pathAcceptable, runCheck, type ChainContext, type Check, type Purpose } from './checks.js';
import { summarize, type CertSummary } from './summary.js';

export type { Check, CheckId, Purpose, Verdict } from './checks.js';
export type { CertSummary } from './summary.js';

export interface ChainReport {
  at: string;
  anchorGiven: boolean;
  /** The path leaf → ... → anchor as built, and certificates given but not on it. */
  certificates: CertSummary[];
  checks: Check[];
  deviceUser?: string;
  chainHeader: string[];
  ok: boolean;
}

export interface VerifyInput {
  leaf: X509Certificate;
  /** Everything else the chain file or keystore held, in any order. */
  others: X509Certificate[];
  /** The certificates in the order the file listed them, to report a wrong order. */
  fileOrder?: X509Certificate[] | undefined;
  key?: KeyObject | undefined;
  /** The device CA(s) uploaded to the tenant; without them the path ends at its last certificate. */
  anchors?: X509Certificate[] | undefined;
  /** The moment to check validity at, in ms since the epoch. */
  at: number;
  chainHeader?: ChainHeaderMode;
  /** What the device certificate must be good for: TLS client auth (the platform's need), server, or anything. */
  purpose?: Purpose;
}

/** Verifies the device chain and returns the full report (no exceptions for bad chains). */
export function verifyChain(input: VerifyInput): ChainReport {
  const budget = new SignatureBudget();
  const wrap = (cert: X509Certificate, anchor: boolean): Candidate | undefined => candidate(cert, anchor, budget);
  const leaf = wrap(input.leaf, false);
  const anchors = (input.anchors ?? []).map((c) => wrap(c, true)).filter((c): c is Candidate => !!c);
  const pool = dedupe(input.others.map((c) => wrap(c, false)).filter((c): c is Candidate => !!c)).filter((c) => c.fingerprint !== leaf?.fingerprint);
  // RFC 5280 times have second granularity: compare at the granularity of the encoding (floor).
  const at = Math.floor(input.at / 1000) * 1000;
  const purpose = input.purpose ?? 'client';
  if (!leaf) {
    const parse = {
      id: 'parse' as const,
      verdict: 'fail' as const,
      title: 'Device certificate readable',
      problems: ['the device certificate cannot be parsed as X.509'],
      fix: 'Re-export the certificate as PEM.',
    };
    return { at: new Date(at).toISOString(), anchorGiven: anchors.length > 0, certificates: [], checks: [parse], chainHeader: [], ok: false };
  }
  const fileOrder = (input.fileOrder ?? [input.leaf, ...input.others]).map((c) => c.fingerprint256);
  const context = (path: Candidate[]): ChainContext => ({
    path,
    at,
    purpose,
    key: input.key,
    anchors,
    extras: pool.filter((c) => !path.some((p) => p.fingerprint === c.fingerprint)),
    search: { anchored: [], incomplete: [], signatureMismatches: [] },
    fileOrder,
    budgetExhausted: budget.exhausted,
  });
  const start = { ...leaf, anchor: anchors.some((a) => a.fingerprint === leaf.fingerprint) };
  const search = buildPaths(start, pool, anchors, (path) => (start.anchor || anchors.length === 0 || path[path.length - 1]!.anchor) && pathAcceptable(context(path)));
  const path = search.valid ?? search.anchored[0] ?? search.incomplete.sort((a, b) => b.length - a.length)[0] ?? [start];
  const ctx: ChainContext = { ...context(path), search, budgetExhausted: budget.exhausted };
  const checks = CHECKS.map((spec) => runCheck(spec, ctx));

  const summaries: CertSummary[] = [...path.map((c, i) => summarize(c, i, path.length, at)), ...ctx.extras.map((c) => summarize(c, -1, 0, at))];
  const deviceUser = leafCn(leaf.details);
  // What fetch would send: the certificates of the source in path order, never the device CA file's.
  const given = new Set(fileOrder);
  const headerCerts = chainHeaderCertificates(
    [
      input.leaf,
      ...path
        .slice(1)
        .filter((c) => given.has(c.fingerprint))
        .map((c) => c.details.cert),
    ],
    input.chainHeader ?? 'auto',
  );
  const report: ChainReport = {
    at: new Date(at).toISOString(),
    anchorGiven: anchors.length > 0,
    certificates: summaries,
    checks,
    chainHeader: headerCerts.map((c) => dnOneLine(c.subject)),
    ok: checks.every((c) => c.verdict !== 'fail'),
  };
  if (deviceUser !== undefined) report.deviceUser = `device_${deviceUser}`;
  return report;
}
