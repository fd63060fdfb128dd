import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two workers per core: a worker spends most of its time waiting (on the CLIs, keytool and openssl it
    // spawns, on local servers and on timers; a CPU profile of the workers showed them idle 60 % of the
    // run), so a second worker per core fills that time. Measured on 2 cores: 2 workers 49 s, 3 38 s,
    // 4 34 s of vitest's run, where the run became CPU-bound (60 s of CPU).
    maxWorkers: Math.min(8, 2 * availableParallelism()),
    // One module graph per worker instead of one per file: the test files share the sources they import,
    // and no test depends on a fresh module state (each makes its own endpoints, folders and settings).
    // Measured: vitest's run 46 s -> 28 s on this machine.
    isolate: false,
    // The TypeScript sources' transforms kept on disk (node_modules/.experimental-vitest-cache, keyed by
    // content) between runs: 5.7 s -> 1.1 s of the workers' transform time in a warm run.
    experimental: { fsModuleCache: true },
    reporters: ['default', './test/helpers/count-reporter.ts'],
  },
});
