#!/usr/bin/env node
// `npm test` (after `npm run build`, its pretest): the type check, ESLint and Prettier run while vitest
// runs, instead of before it. vitest's spawned CLIs and local endpoints leave the two cores idle for
// part of its run; the checks fill that time. Each check's output is shown when it fails. Any failure
// fails the run, and the last line printed is the count CI reads, "tests: N passed, N failed, N skipped"
// (test/helpers/count-reporter.ts), with a failed check counted as a failed test.
// Caches in node_modules/.cache: tsc's build info (tsconfig.json), ESLint's and Prettier's per file.
// tsc in build mode (-b): when no file changed since the last check it answers from its build info in
// 0.2 s instead of parsing every file again (3.4 s of CPU here), and it still reports the errors it
// recorded; tsconfig.json has noEmit, so nothing is written but the build info.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);
const started = Date.now();
// The tests start about 150 Node processes (the CLI, local endpoints); where NODE_EXTRA_CA_CERTS is set,
// every one of them parses that bundle first (45 ms of CPU each on the development VM, which sets it).
// No test trusts the machine's extra CAs: each brings its own truststore, and the one test about the
// variable sets it itself.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

/** Runs a command to its end: exit code, seconds, and its output when `capture`. */
function run(name, args, { capture = true, env: extra = {} } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, args, { cwd: root, env: { ...env, ...extra }, stdio: ['ignore', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'] });
    let output = '';
    if (capture) for (const s of [child.stdout, child.stderr]) s.setEncoding('utf8').on('data', (d) => (output += d));
    child.on('close', (code, signal) => resolve({ name, code: code ?? (signal ? 1 : 0), seconds: (Date.now() - t0) / 1000, output }));
  });
}

// The checks, one after the other: each keeps a core busy, and vitest already runs two workers per core.
const checks = (async () => {
  const results = [];
  results.push(await run('tsc -b', [bin('typescript', 'bin/tsc'), '-b']));
  results.push(await run('eslint', [bin('eslint', 'bin/eslint.js'), '--cache', '--cache-location', 'node_modules/.cache/eslint', '.']));
  results.push(await run('prettier --check', [bin('prettier', 'bin/prettier.cjs'), '--check', '--cache', '--log-level', 'warn', '.']));
  return results;
})();

// vitest writes to the terminal as usual; its count goes to a file, to be printed last.
const countDir = mkdtempSync(join(tmpdir(), 'c8ytoken-test-'));
const countFile = join(countDir, 'count.json');
const tests = await run('vitest', [bin('vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)], { capture: false, env: { C8YTOKEN_TEST_COUNT_FILE: countFile } });
let count;
try {
  count = JSON.parse(readFileSync(countFile, 'utf8'));
} catch {
  count = undefined;
}
rmSync(countDir, { recursive: true, force: true });

const done = await checks;
const failedChecks = done.filter((c) => c.code !== 0);
for (const c of failedChecks) process.stdout.write(`\n${c.name} failed (exit ${c.code}):\n${c.output.trimEnd()}\n`);
process.stdout.write(
  `\n${done.map((c) => `${c.name}: ${c.code === 0 ? 'ok' : 'FAILED'} (${c.seconds.toFixed(1)} s)`).join(', ')}; vitest ${tests.seconds.toFixed(1)} s; in all ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
);
if (!count) process.stdout.write('vitest gave no count (it did not finish)\n');
const c = count ?? { passed: 0, failed: 0, skipped: 0 };
process.stdout.write(`tests: ${c.passed} passed, ${c.failed + failedChecks.length + (count ? 0 : 1)} failed, ${c.skipped} skipped\n`);
process.exitCode = tests.code !== 0 || failedChecks.length || !count ? 1 : 0;
