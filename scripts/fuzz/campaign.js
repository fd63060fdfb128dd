#!/usr/bin/env node
// `npm run fuzz`: a black-box fuzz campaign against the BUILT CLI. Seeded, reproducible mutations of the
// fixture keystores (PKCS#12, JKS), certificates (PEM, DER), keys (PEM) and minted JWTs are driven through
// `node bin/c8ytoken.js` as child processes with a clean environment, and every run is judged by the
// exit code contract: exit 70 (internal error), a JS stack without --verbose, a timeout, a run over 3 s,
// a peak RSS over 300 MB or a death by signal is a finding, saved with a reproducer.
//
//   npm run fuzz -- --quick                      ~200 cases, a smoke run
//   npm run fuzz -- --seed 7 --count 4000 --jobs 2 --out fuzz-out --json
//   npm run fuzz -- --formats pkcs12,jks --count 1000
//   node scripts/fuzz/campaign.js --seed 7 --case 1234 --formats ...   regenerate and run one case, verbosely
//   node scripts/fuzz/campaign.js --report DIR   summary (signatures, diagnosis) of a finished campaign again
//
// Options: --seed N (1), --count N (1000; 200 with --quick), --formats LIST (all), --jobs N (2),
// --timeout DURATION (10s), --out DIR (a new temp folder), --json, --slow 3s, --rss-mb 300,
// --max-rss-mb 2048 (a run is killed above this, to protect the machine), --no-diagnose (skip the
// re-runs that profile slow runs and give --json internal errors a stack), --diagnose-max 40,
// --no-dedupe (re-run inputs identical to an earlier case's), --progress (a line every 200 cases).
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXTENSIONS, FORMATS, generateCase, loadSeeds } from './formats.js';
import { GNU_TIME, cleanEnv, runCli, timeFileFor } from './runner.js';
import { KINDS, classify, errorSignature, frameText, parseError, renderSummary, resourceGroup, sourceIndex } from './report.js';
import { profileRun } from './diagnose.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    count: { type: 'string' },
    formats: { type: 'string', default: FORMATS.join(',') },
    jobs: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '10s' },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    slow: { type: 'string', default: '3s' },
    'rss-mb': { type: 'string', default: '300' },
    'max-rss-mb': { type: 'string', default: '2048' },
    'no-diagnose': { type: 'boolean', default: false },
    'diagnose-max': { type: 'string', default: '40' },
    'no-dedupe': { type: 'boolean', default: false },
    progress: { type: 'boolean', default: false },
    case: { type: 'string' },
    report: { type: 'string' },
  },
});

function duration(text, flag) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new Error(`${flag} must be a duration like 10s, 500ms or 2m, not "${text}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's'];
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/c8ytoken.js');
const pki = join(root, 'fixtures/pki');
if (!existsSync(join(root, 'dist/c8ytoken.cjs'))) {
  console.error('dist/c8ytoken.cjs is missing: run `npm run build` first (npm run fuzz does).');
  process.exit(2);
}
let formats = values.formats
  .split(',')
  .map((f) => f.trim())
  .filter(Boolean);
for (const f of formats) if (!FORMATS.includes(f)) throw new Error(`unknown format ${f}; known: ${FORMATS.join(', ')}`);
let options = {
  seed: values.seed,
  count: Number(values.count ?? (values.quick ? 200 : 1000)),
  formats,
  jobs: Math.max(1, Number(values.jobs)),
  timeoutMs: duration(values.timeout, '--timeout'),
  slowMs: duration(values.slow, '--slow'),
  rssKb: Number(values['rss-mb']) * 1024,
  maxRssKb: Number(values['max-rss-mb']) * 1024,
  diagnose: !values['no-diagnose'],
  diagnoseMax: Number(values['diagnose-max']),
  dedupe: !values['no-dedupe'],
};
const seeds = loadSeeds(pki);
const work = mkdtempSync(join(tmpdir(), 'c8ytoken-fuzz-work-'));
const homes = Array.from({ length: options.jobs }, (_, i) => {
  const home = join(work, `home-${i}`);
  mkdirSync(home);
  return home;
});
const idText = (i) => String(i).padStart(6, '0');
const caseFile = (dir, c) => join(dir, `case-${idText(c.id)}.${EXTENSIONS[c.format]}`);
const argsFor = (c, file) => c.command.args.map((a) => (a === 'FILE' ? file : a));
const log = (m) => process.stderr.write(`${m}\n`);

/** The shell line that reproduces a case from the findings folder (see repro.sh's header). */
function reproLine(c, argv = argsFor(c, `"$D/case-${idText(c.id)}.${EXTENSIONS[c.format]}"`)) {
  const quoted = argv.map((a) => (a.startsWith('"$D/') ? a : a.startsWith(pki) ? `"$REPO/fixtures/pki${a.slice(pki.length)}"` : /^[\w./:=-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return `c8y ${quoted.join(' ')}${c.command.stdin ? ` < "$D/case-${idText(c.id)}.${EXTENSIONS[c.format]}"` : ''}`;
}

function reproHeader() {
  return `#!/bin/sh
# Reproducers of c8ytoken fuzz findings (campaign seed ${options.seed}). Each line runs the built CLI on a saved
# input with the campaign's clean environment. Usage: sh repro.sh [CASE]   (no CASE: every finding)
# REPO is the c8ytoken checkout with a built dist/ (npm run build); it defaults to the one fuzzed.
REPO="\${REPO:-${root.replace(/\/$/, '')}}"
D="$(cd "$(dirname "$0")" && pwd)"
c8y() {
  H="$(mktemp -d)"
  (cd "$H" && env -i PATH="$PATH" HOME="$H" NO_COLOR=1 C8YTOKEN_KEYSTORE_PASSWORD=changeit C8YTOKEN_TRUSTSTORE_PASSWORD=changeit node "$REPO/bin/c8ytoken.js" "$@")
  echo "exit code $?" >&2
  rm -rf "$H"
}
want() { [ -z "$1" ] || [ "$1" = "$2" ]; }
`;
}

async function runOne(c, slot, dir = work, extra = {}) {
  const file = caseFile(dir, c);
  writeFileSync(file, c.bytes);
  const run = await runCli({
    bin,
    args: argsFor(c, file),
    home: homes[slot],
    env: cleanEnv(homes[slot]),
    timeoutMs: options.timeoutMs,
    maxRssKb: options.maxRssKb,
    stdinFile: c.command.stdin ? file : undefined,
    timeFile: timeFileFor(work, slot),
    ...extra,
  });
  return { run, file };
}

function record(c, run) {
  return {
    id: c.id,
    format: c.format,
    seed: c.seed,
    layer: c.layer,
    mutator: c.mutator,
    fixup: c.fixup,
    detail: c.detail,
    command: c.command.name,
    size: c.bytes.length,
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    rssCapped: run.rssCapped,
    wallMs: Math.round(run.wallMs),
    cpuMs: run.cpuMs,
    rssKb: run.rssKb,
    stack: /^ {4}at /m.test(run.stderr),
    internalError: /internal error/.test(run.stderr),
    kinds: classify(run, options),
  };
}

// ---- one case, verbosely ----------------------------------------------------------------------------

if (values.case !== undefined) {
  const c = generateCase(options.seed, Number(values.case), formats, seeds, pki);
  const dir = values.out ? resolve(values.out) : work;
  mkdirSync(dir, { recursive: true });
  const { run, file } = await runOne(c, 0, dir);
  const rec = record(c, run);
  console.log(JSON.stringify({ ...rec, file, args: argsFor(c, file), stderr: run.stderr.slice(0, 4000), stdout: run.stdout.slice(0, 1000) }, null, 2));
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

// ---- the campaign (or, with --report DIR, the records of an earlier one) ---------------------------

let outDir;
let records = [];
let findings = [];
let executed = 0;
let campaignMs = 0;

if (values.report !== undefined) {
  // Rebuild the summary (signatures, diagnosis) of a finished campaign from its folder, without
  // running its cases again: the options are the campaign's own.
  outDir = resolve(values.report);
  const before = existsSync(join(outDir, 'summary.json')) ? JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) : undefined;
  const saved = before?.options ?? JSON.parse(readFileSync(join(outDir, 'options.json'), 'utf8'));
  options = { ...options, ...saved, diagnose: options.diagnose, diagnoseMax: options.diagnoseMax };
  formats = options.formats;
  const lines = (f) =>
    existsSync(join(outDir, f))
      ? readFileSync(join(outDir, f), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [];
  for (const r of lines('cases.jsonl')) records[r.id] = r;
  for (const r of lines('findings.jsonl')) records[r.id] = r;
  findings = records.filter((r) => r && r.kinds.length);
  executed = before?.executed ?? records.filter((r) => r && r.sameInputAs === undefined).length;
  campaignMs = before?.elapsedMs ?? 0;
} else {
  outDir = values.out ? resolve(values.out) : mkdtempSync(join(tmpdir(), 'c8ytoken-fuzz-'));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'options.json'), `${JSON.stringify(options, null, 2)}\n`);
  writeFileSync(join(outDir, 'repro.sh'), reproHeader(), { mode: 0o755 });
  writeFileSync(join(outDir, 'findings.jsonl'), '');
  const casesLog = createWriteStream(join(outDir, 'cases.jsonl'));
  const seen = new Map(); // input digest -> record, for --dedupe
  const started = Date.now();
  let next = 0;

  const worker = async (slot) => {
    while (next < options.count) {
      const i = next++;
      const c = generateCase(options.seed, i, formats, seeds, pki);
      const digest = createHash('sha1').update(c.command.name).update('\0').update(c.bytes).digest('hex');
      let rec;
      const earlier = options.dedupe ? seen.get(digest) : undefined;
      if (earlier) {
        rec = {
          ...record(c, {
            exitCode: earlier.exitCode,
            signal: earlier.signal,
            timedOut: earlier.timedOut,
            rssCapped: earlier.rssCapped,
            wallMs: earlier.wallMs,
            cpuMs: earlier.cpuMs,
            rssKb: earlier.rssKb,
            stderr: '',
          }),
          stack: earlier.stack,
          internalError: earlier.internalError,
          kinds: earlier.kinds,
          sameInputAs: earlier.id,
        };
      } else {
        const { run, file } = await runOne(c, slot);
        executed++;
        rec = record(c, run);
        if (rec.kinds.length) {
          const savedFile = caseFile(outDir, c);
          copyFileSync(file, savedFile);
          rec.file = savedFile;
          rec.repro = reproLine(c);
          rec.stderrHead = run.stderr.slice(0, 3000);
          rec.args = argsFor(c, savedFile);
          appendFileSync(join(outDir, 'repro.sh'), `want "$1" ${idText(c.id)} && ${rec.repro}   # ${rec.kinds.join(',')}: exit ${rec.exitCode ?? rec.signal}, ${rec.format} ${rec.mutator}\n`);
        }
        rmSync(file, { force: true });
        if (options.dedupe) seen.set(digest, rec);
      }
      records[i] = rec;
      if (rec.kinds.length) {
        findings.push(rec);
        appendFileSync(join(outDir, 'findings.jsonl'), `${JSON.stringify(rec)}\n`);
      }
      casesLog.write(`${JSON.stringify(rec)}\n`);
      if (values.progress && (i + 1) % 200 === 0) {
        const sec = (Date.now() - started) / 1000;
        log(
          `[${i + 1}/${options.count}] ${sec.toFixed(0)} s, ${((i + 1) / sec).toFixed(2)} cases/s; exit 70: ${findings.filter((f) => f.kinds.includes('exit70')).length}, timeouts: ${findings.filter((f) => f.kinds.includes('timeout')).length}, findings: ${findings.length}`,
        );
      }
    }
  };
  await Promise.all(homes.map((_, slot) => worker(slot)));
  campaignMs = Date.now() - started;
  await new Promise((r) => casesLog.end(r));
}
const finishStarted = Date.now();

// What each internal error / stack says, from its saved stderr (so --report applies the current rules).
for (const rec of findings) {
  if (!rec.stderrHead || !(rec.kinds.includes('exit70') || rec.kinds.includes('stack'))) continue;
  const err = parseError(rec.stderrHead);
  rec.error = { message: err.message, errorClass: err.errorClass, top: frameText(err.top), frames: err.productFrames, hasStack: err.hasStack };
  rec.signature = errorSignature(err, rec.file);
}

// ---- diagnosis: stacks for --json internal errors, profiles for slow runs -------------------------

const signatures = new Map();
const addTo = (sig, rec, extra = {}) => {
  let s = signatures.get(sig);
  if (!s) {
    s = { signature: sig, kinds: [], count: 0, foundBy: {}, example: undefined, cases: [], ...extra };
    signatures.set(sig, s);
  }
  s.count++;
  for (const k of rec.kinds) if (!s.kinds.includes(k)) s.kinds.push(k);
  const by = `${rec.format} ${rec.mutator}`;
  s.foundBy[by] = (s.foundBy[by] ?? 0) + 1;
  s.cases.push(rec.id);
  // The example: a saved case, preferring the smallest input (easiest to read).
  if (rec.file && (!s.example || rec.size < s.example.size)) s.example = rec;
};

const byId = new Map(records.filter((r) => r && r.file).map((r) => [r.id, r]));
const original = (rec) => (rec.sameInputAs !== undefined ? (byId.get(rec.sameInputAs) ?? rec) : rec);
let diagnosed = 0;

// Internal errors whose stack does not reach the product (V8 keeps 10 frames; an error thrown deep in
// Node's https stack has none of ours): re-run one per signature with a longer stack trace limit.
// Internal errors printed as JSON (inspect --json) carry no stack at all: those keep their own signature
// (the JSON output names no place), and the re-run without --json is reported beside it as a hint only,
// since the human output takes other code paths.
const rerun = new Map();
for (const rec of findings) {
  const o = original(rec);
  if (!o.kinds.includes('exit70') || !o.error || !o.file) continue;
  if (!o.error.hasStack || !o.error.top) if (!rerun.has(o.signature)) rerun.set(o.signature, o);
}
if (options.diagnose) {
  for (const [key, o] of rerun) {
    const c = { ...generateCase(options.seed, o.id, formats, seeds, pki) };
    const jsonOnly = !o.error.hasStack;
    if (jsonOnly) c.command = { ...c.command, args: c.command.args.filter((a) => a !== '--json') };
    const { run } = await runOne(c, 0, work, jsonOnly ? {} : { nodeFlags: ['--stack-trace-limit=200'] });
    diagnosed++;
    const err = parseError(run.stderr);
    if (!err.top) continue;
    const sig = errorSignature({ ...err, message: o.error.message }, o.file);
    for (const rec of findings) {
      const r = original(rec);
      if (r.signature !== key) continue;
      if (jsonOnly) r.error.hint = `re-run without --json fails as: ${sig}; frames ${err.productFrames.join(' <- ')}`;
      else {
        r.diagSignature = `${sig} [frames from a re-run with --stack-trace-limit=200]`;
        r.error.rerunFrames = err.productFrames;
      }
    }
  }
}

// Slow, killed, memory-hungry runs: profile one run per preliminary group with V8's sampling profiler.
const resourceKinds = ['timeout', 'slow', 'rss', 'signal', 'unexpected-exit'];
const groups = new Map();
for (const rec of findings) {
  const o = original(rec);
  if (o.kinds.includes('exit70') || o.kinds.includes('stack')) continue;
  const kind = resourceKinds.find((k) => o.kinds.includes(k));
  if (!kind) continue;
  const g = resourceGroup(kind, { ...o, command: { name: o.command } });
  if (!groups.has(g)) groups.set(g, []);
  groups.get(g).push(rec);
}
const profiles = new Map();
if (options.diagnose) {
  const ordered = [...groups.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, options.diagnoseMax);
  for (const [g, recs] of ordered) {
    const o = original(recs.reduce((a, b) => (original(b).wallMs > original(a).wallMs ? b : a)));
    if (!o.file) continue;
    const c = generateCase(options.seed, o.id, formats, seeds, pki);
    const p = await profileRun({
      bin,
      args: argsFor(c, o.file),
      home: homes[0],
      env: cleanEnv(homes[0]),
      stdinFile: c.command.stdin ? o.file : undefined,
      seconds: Math.min(options.timeoutMs, 6000) / 1000,
      work,
    });
    diagnosed++;
    profiles.set(g, p);
  }
}

for (const rec of findings) {
  const o = original(rec);
  if (o.kinds.includes('exit70') || o.kinds.includes('stack')) {
    const jsonOnly = o.error && !o.error.hasStack;
    addTo(
      jsonOnly ? `${o.signature} (${o.command} prints no stack)` : (o.diagSignature ?? o.signature),
      { ...rec, file: o.file, repro: o.repro, size: o.size, error: o.error },
      {
        frames: o.error?.frames?.length ? o.error.frames : o.error?.rerunFrames,
        ...(o.error?.hint ? { diagnosis: o.error.hint } : {}),
      },
    );
    continue;
  }
  const kind = resourceKinds.find((k) => o.kinds.includes(k));
  const g = resourceGroup(kind, { ...o, command: { name: o.command } });
  const p = profiles.get(g);
  // One cause, whatever the input size made of it (a slow run or a timeout): grouped by the profile.
  const sig = p?.signature ? `hot: ${p.signature}` : g;
  addTo(sig, { ...rec, file: o.file, repro: o.repro, size: o.size }, p ? { diagnosis: p.text, frames: p.chain } : {});
}

// ---- summary ----------------------------------------------------------------------------------------

const all = records.filter(Boolean);
const col = (r) => (r.timedOut ? 'T' : r.signal ? 'S' : String(r.exitCode));
const exitCodesSeen = [...new Set(all.map(col))].sort((a, b) => (Number(a) || 999) - (Number(b) || 999));
const table = {};
for (const f of [...formats, 'total']) table[f] = { total: 0 };
for (const r of all) {
  for (const f of [r.format, 'total']) {
    table[f][col(r)] = (table[f][col(r)] ?? 0) + 1;
    table[f].total++;
  }
}
const count = {};
for (const k of KINDS) count[k] = all.filter((r) => r.kinds.includes(k)).length;
const worstBy = (key) => {
  const r = all.reduce((a, b) => (b[key] > (a?.[key] ?? -1) ? b : a), undefined);
  return r && { id: r.id, format: r.format, mutator: r.mutator, command: r.command, seed: r.seed, detail: r.detail, wallMs: r.wallMs, rssKb: r.rssKb, file: original(r).file, timedOut: r.timedOut };
};
const ran = all.filter((r) => r.sameInputAs === undefined);
// Function names of the frames, looked up in src/ (the bundle keeps names), for reading signatures.
const srcFiles = (dir) =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? srcFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [{ path: join(dir, d.name), text: readFileSync(join(root, dir, d.name), 'utf8') }] : [],
  );
const sourceOf = existsSync(join(root, 'src')) ? sourceIndex(srcFiles('src')) : () => undefined;
const withSource = (frame) => {
  if (!frame) return frame;
  const fn = frame.split(' ')[0];
  const files = frame.includes('c8ytoken.cjs') || frame.includes('dist/') ? sourceOf(fn) : undefined;
  return files ? `${frame} [${files.join(', ')}]` : frame;
};
const meanWallMs = ran.reduce((s, r) => s + r.wallMs, 0) / Math.max(1, ran.length);
const timed = ran.filter((r) => r.cpuMs !== undefined);
const killedShare = all.filter((r) => r.timedOut).length / Math.max(1, all.length);
const meanCpuMs = timed.length ? timed.reduce((s, r) => s + r.cpuMs, 0) / timed.length : undefined;
const summary = {
  options: { ...options, gnuTime: Boolean(GNU_TIME), cpus: cpus().length, node: process.version },
  cases: all.length,
  executed,
  deduplicated: all.length - executed,
  elapsedMs: campaignMs,
  diagnosisRuns: diagnosed,
  diagnosisMs: Date.now() - finishStarted,
  perCase: {
    meanWallMs,
    medianWallMs: ran.map((r) => r.wallMs).sort((a, b) => a - b)[ran.length >> 1] ?? 0,
    casesPerSecond: all.length / (campaignMs / 1000),
    projected16kSeconds: (16000 * campaignMs) / 1000 / Math.max(1, all.length),
    // CPU (user + system) of the CLI runs that were not killed: what a case costs whatever else the
    // machine is doing; divided over the jobs (at most the cores) for an idle machine's projection.
    meanCpuMs,
    // The campaign process itself (generation, fixups, bookkeeping, diagnosis), per case.
    campaignProcessCpuMs: values.report === undefined ? (process.cpuUsage().user + process.cpuUsage().system) / 1000 / Math.max(1, all.length) : undefined,
    projected16kIdleSeconds: meanCpuMs === undefined ? undefined : (16000 * ((1 - killedShare) * meanCpuMs + killedShare * options.timeoutMs)) / 1000 / Math.min(options.jobs, cpus().length),
  },
  exitCodesSeen,
  table,
  findings: count,
  findingCases: all.filter((r) => r.kinds.length).length,
  exit70Cases: count.exit70,
  timeouts: count.timeout,
  worst: { wall: worstBy('wallMs'), rss: worstBy('rssKb') },
  signatures: [...signatures.values()]
    .sort((a, b) => (a.kinds.includes('exit70') === b.kinds.includes('exit70') ? b.count - a.count : a.kinds.includes('exit70') ? -1 : 1))
    .map((s) => ({
      signature: s.signature,
      kinds: s.kinds,
      count: s.count,
      foundBy: s.foundBy,
      frames: s.frames?.map(withSource),
      diagnosis: s.diagnosis,
      example: s.example && {
        id: s.example.id,
        format: s.example.format,
        seed: s.example.seed,
        mutator: s.example.mutator,
        layer: s.example.layer,
        fixup: s.example.fixup,
        detail: s.example.detail,
        command: s.example.command,
        exitCode: s.example.exitCode,
        wallMs: s.example.wallMs,
        rssKb: s.example.rssKb,
        file: s.example.file,
        repro: s.example.repro,
        message: s.example.error?.message,
      },
      cases: s.cases.slice(0, 50),
    })),
  outDir,
};
writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
rmSync(work, { recursive: true, force: true });
if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
else process.stdout.write(`${renderSummary(summary)}\n`);
