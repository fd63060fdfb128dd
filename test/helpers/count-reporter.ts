/**
 * A vitest reporter that ends the run with one plain line, "tests: N passed, N failed, N skipped",
 * which tools that do not parse vitest's own summary can read. Under `npm test` (scripts/test.js) the
 * counts go to the file C8YTOKEN_TEST_COUNT_FILE instead: that script prints the line last, after the
 * checks it ran beside vitest.
 */
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export default class CountReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') count.passed += 1;
        else if (state === 'failed') count.failed += 1;
        else count.skipped += 1;
      }
    }
    const file = process.env.C8YTOKEN_TEST_COUNT_FILE;
    if (file) writeFileSync(file, JSON.stringify(count));
    else process.stdout.write(`\ntests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  }
}
