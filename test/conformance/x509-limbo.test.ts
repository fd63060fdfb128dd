/**
 * The x509-limbo client-certificate subset through `c8ytoken verify-chain` (see scripts/conformance.js,
 * which prints the per-category table). Guards the score: at least OpenSSL's 77 of 94 on the same cases.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain JavaScript script, shared with `npm run conformance`
import { limboDir, runLimbo, score } from '../../scripts/conformance.js';

interface Row {
  id: string;
  category: string;
  match: boolean;
}

describe.skipIf(!existsSync(limboDir as string))('x509-limbo client-core', () => {
  it('passes at least as many cases as openssl verify -x509_strict (77/94)', async () => {
    const rows = (await runLimbo()) as Row[];
    const passed = rows.filter((r) => r.match).length;
    const table = (score(rows) as [string, { passed: number; total: number }][]).map(([c, s]) => `${c} ${s.passed}/${s.total}`).join(', ');
    console.log(`x509-limbo client-core: ${passed}/${rows.length} (${table})`);
    expect(rows).toHaveLength(94);
    expect(passed).toBeGreaterThanOrEqual(77);
    // Categories c8ytoken gets fully right today; a regression in one is a bug.
    for (const [category, s] of score(rows) as [string, { passed: number; total: number }][]) {
      if (['anchor', 'bc', 'crit-ext', 'dos-timeout', 'eku', 'ku', 'names', 'pathlen', 'signature', 'validity', 'order', 'path-building'].includes(category)) {
        expect(`${category} ${s.passed}/${s.total}`).toBe(`${category} ${s.total}/${s.total}`);
      }
    }
  });
});
