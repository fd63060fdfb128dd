// Classifying a run into finding kinds, grouping findings by signature, and the summary (text and JSON).

export const CONTRACT_EXIT_CODES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 70, 130, 143]);
export const KINDS = ['exit70', 'stack', 'timeout', 'slow', 'rss', 'signal', 'unexpected-exit'];

const STACK_LINE = /^ {4}at /m;

/** The finding kinds of one run (empty when it is not a finding). */
export function classify(run, { slowMs, rssKb }) {
  const kinds = [];
  if (run.exitCode === 70) kinds.push('exit70');
  if (STACK_LINE.test(run.stderr)) kinds.push('stack');
  if (run.timedOut) kinds.push('timeout');
  else if (run.wallMs > slowMs) kinds.push('slow');
  if (run.rssKb > rssKb || run.rssCapped) kinds.push('rss');
  if (run.signal && !run.timedOut && !run.rssCapped) kinds.push('signal');
  if (run.exitCode !== null && !CONTRACT_EXIT_CODES.has(run.exitCode)) kinds.push('unexpected-exit');
  return kinds;
}

/** Frames "    at fn (file:line:col)" of a stack text, parsed. */
export function frames(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^\s+at (?:async )?(?:(.+?) \((.+?):(\d+):(\d+)\)|(.+?):(\d+):(\d+))$/.exec(line);
    if (!m) continue;
    if (m[1] !== undefined) out.push({ fn: m[1], file: m[2], line: Number(m[3]), col: Number(m[4]) });
    else out.push({ fn: '<anonymous>', file: m[5], line: Number(m[6]), col: Number(m[7]) });
  }
  return out;
}

const inProduct = (f) => /[/\\]dist[/\\]/.test(f.file) || /c8ytoken\.cjs$/.test(f.file);
const shortFile = (file) => file.replace(/^.*[/\\](dist[/\\])/, '$1');

export function frameText(f) {
  return f ? `${f.fn} (${shortFile(f.file)}:${f.line}:${f.col})` : undefined;
}

/**
 * What an internal error says: the message (first line), the error's class from the stack's header, the
 * first frame inside dist/ and the first few product frames. Works on the human and --json forms.
 */
export function parseError(stderr) {
  let message;
  const human = /^c8ytoken: internal error: (.*)$/m.exec(stderr);
  if (human) message = human[1];
  else {
    for (const line of stderr.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line);
        if (j.error?.code === 'INTERNAL') message = String(j.error.message).split('\n')[0];
      } catch {
        // not JSON
      }
    }
  }
  const lines = stderr.split('\n');
  const firstAt = lines.findIndex((l) => STACK_LINE.test(l));
  // The line(s) before the first frame: "TypeError: message" (an Error's stack header).
  let header;
  if (firstAt > 0) {
    for (let i = firstAt - 1; i >= 0; i--) {
      if (/^[A-Za-z_$][\w$.]*(?: \[[A-Z_]+\])?: /.test(lines[i]) || /^[A-Za-z]*Error$/.test(lines[i])) {
        header = lines[i];
        break;
      }
    }
  }
  if (message === undefined && header) message = header.replace(/^[^:]+: /, '');
  if (message === undefined && firstAt > 0) message = lines[firstAt - 1].trim();
  const errorClass = header ? header.split(':')[0] : undefined;
  const fs = frames(stderr);
  const product = fs.filter(inProduct);
  // An anonymous function (an arrow in a map, a promise executor) says little: name its caller too.
  const named = product.find((f) => !/<anonymous>$/.test(f.fn));
  return { message, errorClass, top: product[0], topNamed: named, topAny: fs[0], productFrames: collapse(product).slice(0, 6), hasStack: fs.length > 0 };
}

/** Frames as text, a run of recursive calls of one function shown once with its count. */
function collapse(list) {
  const out = [];
  for (let i = 0; i < list.length;) {
    let j = i;
    while (j + 1 < list.length && list[j + 1].fn === list[i].fn) j++;
    out.push(`${frameText(list[i])}${j > i ? ` (x${j - i + 1})` : ''}`);
    i = j + 1;
  }
  return out;
}

/** Message normalised for grouping: the case's file name and numbers replaced. */
export function normaliseMessage(message, file) {
  let m = String(message ?? '(no message)');
  if (file) m = m.split(file).join('FILE');
  return m
    .replace(/\/[^\s"')]*case-\d+\.\w+/g, 'FILE')
    .replace(/error:[0-9A-F]{6,8}:/g, 'error:N:')
    .replace(/(?<![\w.])\d+(?:\.\d+){2,}/g, 'OID')
    .replace(/0x[0-9a-f]+/gi, 'N')
    .replace(/(?<![\w.])\d+/g, 'N')
    .slice(0, 200);
}

/** The signature of an exit-70 / stack finding: error class + normalised message + first product frame. */
export function errorSignature(err, file) {
  const anonymous = err.top && /<anonymous>$/.test(err.top.fn) && err.topNamed ? ` in ${err.topNamed.fn}` : '';
  const where = err.top ? `${err.top.fn}${anonymous} (${shortFile(err.top.file)})` : err.topAny ? `no frame in dist/, top: ${err.topAny.fn} (${err.topAny.file})` : 'no stack';
  return `${err.errorClass ? `${err.errorClass}: ` : ''}${normaliseMessage(err.message, file)} @ ${where}`;
}

/** A preliminary group for a resource finding (timeout, slow, rss, signal) before any profile. */
export function resourceGroup(kind, c) {
  const target = String(c.detail ?? '')
    .split(':')[0]
    .replace(/\d+/g, 'N');
  return `${kind} | ${c.format} | ${c.command.name} | ${c.mutator} | ${target}`;
}

function pad(s, n, right = false) {
  s = String(s);
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The summary as text. */
export function renderSummary(summary) {
  const out = [];
  const codes = summary.exitCodesSeen;
  out.push(
    `c8ytoken fuzz campaign: seed ${summary.options.seed}, ${summary.cases} cases (${summary.executed} run, ${summary.deduplicated} identical inputs not re-run), jobs ${summary.options.jobs}, timeout ${summary.options.timeoutMs} ms`,
  );
  const pc = summary.perCase;
  out.push(
    `elapsed ${(summary.elapsedMs / 1000).toFixed(1)} s (+${(summary.diagnosisMs / 1000).toFixed(1)} s for ${summary.diagnosisRuns} diagnosis runs); per run: ${pc.meanWallMs.toFixed(0)} ms mean wall (median ${pc.medianWallMs}), ${pc.meanCpuMs === undefined ? '?' : pc.meanCpuMs.toFixed(0)} ms mean CPU${pc.campaignProcessCpuMs === undefined ? '' : ` (+${pc.campaignProcessCpuMs.toFixed(0)} ms in the campaign process)`}; ${pc.casesPerSecond.toFixed(2)} cases/s`,
  );
  out.push(
    `projected for 16,000 cases: ${(pc.projected16kSeconds / 60).toFixed(1)} min at this run's rate${pc.projected16kIdleSeconds === undefined ? '' : `, ${(pc.projected16kIdleSeconds / 60).toFixed(1)} min from CPU time (an otherwise idle machine; timeouts at their full length)`}`,
  );
  out.push('');
  out.push('cases per format and exit code (T = killed at the timeout, S = killed by a signal):');
  const header = pad('format', 10) + codes.map((c) => pad(c, 7, true)).join('') + pad('total', 8, true);
  out.push(header);
  for (const [format, row] of Object.entries(summary.table)) {
    out.push(pad(format, 10) + codes.map((c) => pad(row[c] ?? '', 7, true)).join('') + pad(row.total, 8, true));
  }
  out.push('');
  out.push('findings (a case can be of several kinds):');
  for (const k of KINDS) out.push(`  ${pad(k, 16)} ${summary.findings[k] ?? 0}`);
  out.push(`  ${pad('any', 16)} ${summary.findingCases}`);
  const w = summary.worst;
  if (w.wall) out.push(`worst wall time: ${(w.wall.wallMs / 1000).toFixed(2)} s, case ${w.wall.id} (${w.wall.format}, ${w.wall.mutator}, ${w.wall.command}; ${w.wall.detail})`);
  if (w.rss) out.push(`worst peak RSS:  ${(w.rss.rssKb / 1024).toFixed(1)} MB, case ${w.rss.id} (${w.rss.format}, ${w.rss.mutator}, ${w.rss.command}; ${w.rss.detail})`);
  out.push('');
  out.push(`distinct signatures (${summary.signatures.length}):`);
  summary.signatures.forEach((s, i) => {
    out.push(`${pad(i + 1, 3, true)}. [${s.kinds.join(',')}] x${s.count}  ${s.signature}`);
    if (s.diagnosis) out.push(`       diagnosis: ${s.diagnosis}`);
    if (s.frames?.length) out.push(`       frames: ${s.frames.slice(0, 4).join(' <- ')}`);
    out.push(
      `       found by: ${Object.entries(s.foundBy)
        .map(([k, v]) => `${k} x${v}`)
        .join(', ')}`,
    );
    out.push(`       example: case ${s.example.id}: ${s.example.format} ${s.example.mutator} [${s.example.layer}${s.example.fixup !== 'none' ? `, ${s.example.fixup}` : ''}] ${s.example.detail}`);
    out.push(`       reproduce: ${s.example.repro}`);
  });
  if (summary.outDir) out.push('', `findings saved in ${summary.outDir} (repro.sh, findings.jsonl, cases.jsonl, summary.json)`);
  return out.join('\n');
}

/**
 * Where a function of the bundle is defined in src/ (by name: the bundle keeps names), for reading a
 * signature: "readNode" -> ["src/core/der.ts"]. Names defined in several files map to all of them.
 */
export function sourceIndex(files) {
  const index = new Map();
  const add = (name, file) => {
    const list = index.get(name) ?? [];
    if (!list.includes(file)) list.push(file);
    index.set(name, list);
  };
  for (const { path, text } of files) {
    for (const m of text.matchAll(/function\s+([\w$]+)\s*[(<]/g)) add(m[1], path);
    for (const m of text.matchAll(/^\s*(?:export\s+)?const\s+([\w$]+)\s*=\s*(?:async\s*)?(?:\([^)]*\)|[\w$]+)\s*(?::[^=]+)?=>/gm)) add(m[1], path);
    for (const m of text.matchAll(/^\s+(?:(?:public|private|protected|static|async|override|readonly|get|set)\s+)*([\w$]+)\s*\([^)]*\)\s*(?::\s*[^{;]+)?\{/gm)) {
      if (!['if', 'for', 'while', 'switch', 'catch', 'return', 'function'].includes(m[1])) add(m[1], path);
    }
  }
  return (fn) => {
    if (!fn) return undefined;
    const name = fn
      .replace(/^(async |new )/, '')
      .split('.')
      .pop();
    return index.get(name);
  };
}
