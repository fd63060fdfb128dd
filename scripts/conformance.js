#!/usr/bin/env node
// `npm run conformance`: the X.509 path-validation cases of ../shared/conformance/x509-limbo run through
// `c8ytoken verify-chain` (the real CLI entry, in-process): each case's trusted certificates as
// --device-ca, leaf and intermediates as the chain, its validation time as --at; exit 0 means SUCCESS.
// Prints the score per category next to OpenSSL's (`openssl verify -x509_strict`) from the corpus baseline.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../dist/c8ytoken.cjs';

export const limboDir = fileURLToPath(new URL('../../shared/conformance/x509-limbo/', import.meta.url));

class Sink {
  text = '';
  isTTY = false;
  write(chunk) {
    this.text += chunk;
    return true;
  }
}

/** Runs every case of a limbo file; returns one row per case. */
export async function runLimbo(file = join(limboDir, 'limbo-client-core.json')) {
  const { testcases } = JSON.parse(readFileSync(file, 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'limbo-'));
  const rows = [];
  try {
    for (const tc of testcases) {
      const chain = join(dir, 'chain.pem');
      const anchors = join(dir, 'anchors.pem');
      writeFileSync(chain, [tc.peer_certificate, ...tc.untrusted_intermediates].join('\n'));
      writeFileSync(anchors, tc.trusted_certs.join('\n'));
      const args = ['verify-chain', '--json', '--cert', chain, '--device-ca', anchors];
      if (tc.validation_time) args.push('--at', tc.validation_time);
      // The case's required EKU: clientAuth → client (the default), serverAuth → server, none → any.
      const eku = tc.extended_key_usage ?? [];
      args.push('--purpose', eku.includes('clientAuth') ? 'client' : eku.includes('serverAuth') ? 'server' : 'any');
      const stdout = new Sink();
      const stderr = new Sink();
      const started = performance.now();
      const code = await main(args, { stdout, stderr, stdin: () => process.stdin, stdinIsTTY: false, env: { NO_COLOR: '1' }, cwd: dir, version: 'conformance' });
      const ms = performance.now() - started;
      const actual = code === 0 ? 'SUCCESS' : 'FAILURE';
      let reason = '';
      try {
        const report = JSON.parse(stdout.text);
        reason = report.checks
          .filter((c) => c.verdict === 'fail')
          .flatMap((c) => c.problems)
          .join('; ');
      } catch {
        reason = stderr.text.split('\n')[0];
      }
      rows.push({ id: tc.id, category: tc.c8y_category ?? tc.id.split('::')[0], expected: tc.expected_result, actual, match: actual === tc.expected_result, exitCode: code, ms, reason });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** Scores per category: [category, passed, total]. */
export function score(rows) {
  const by = new Map();
  for (const r of rows) {
    const s = by.get(r.category) ?? { passed: 0, total: 0 };
    s.total += 1;
    if (r.match) s.passed += 1;
    by.set(r.category, s);
  }
  return [...by.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!existsSync(limboDir)) {
    console.log(`No conformance corpus at ${limboDir}: nothing to run.`);
    process.exit(0);
  }
  const rows = await runLimbo();
  const baselineFile = join(limboDir, 'baseline/openssl-3.0.19-verify-core.json');
  const baseline = existsSync(baselineFile) ? new Map(JSON.parse(readFileSync(baselineFile, 'utf8')).map((b) => [b.id + b.expected, b.match])) : new Map();
  const categoryOf = new Map(rows.map((r) => [r.id + r.expected, r.category]));
  const opensslBy = new Map();
  for (const [key, match] of baseline) {
    const c = categoryOf.get(key);
    if (c) opensslBy.set(c, (opensslBy.get(c) ?? 0) + (match ? 1 : 0));
  }
  console.log('| category | c8ytoken | openssl -x509_strict |');
  console.log('|---|---:|---:|');
  for (const [c, s] of score(rows)) console.log(`| ${c} | ${s.passed}/${s.total} | ${opensslBy.has(c) ? `${opensslBy.get(c)}/${s.total}` : '—'} |`);
  const passed = rows.filter((r) => r.match).length;
  const opensslPassed = [...baseline.values()].filter(Boolean).length;
  console.log(`| **all** | **${passed}/${rows.length}** | **${opensslPassed}/${baseline.size}** |`);
  const slowest = rows.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(`\nslowest case: ${slowest.id} ${slowest.ms.toFixed(0)} ms`);
  console.log('\nStill failing:');
  for (const r of rows.filter((x) => !x.match)) console.log(`- ${r.id} [${r.category}] expected ${r.expected}, got ${r.actual}${r.reason ? `: ${r.reason}` : ''}`);
}
