import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests spawn the CLI; two workers match the two cores CI has.
    maxWorkers: 2,
    // One module graph per worker instead of one per file: the test files share the sources they import,
    // and no test depends on a fresh module state (each makes its own endpoints, folders and settings).
    // Measured: vitest's run 46 s -> 28 s on this machine.
    isolate: false,
    reporters: ['default', './test/helpers/count-reporter.ts'],
  },
});
