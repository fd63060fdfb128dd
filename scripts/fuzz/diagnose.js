// Where a slow or killed run spends its time: one re-run under V8's sampling profiler (node --prof; the
// log survives SIGKILL), summarised from `node --prof-process`'s bottom-up profile. A process stuck in a
// loop prints no stack, so this is how a timeout gets a signature: the hottest function and the first
// function of the product that calls it.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

let counter = 0;

/**
 * The bundle is minified with esbuild's keepNames: stack traces show real names (the `name` property),
 * but the profiler shows the minified identifiers. The bundle's naming calls, helper(min, "real"),
 * map them back; an identifier minified in several scopes maps to every real name it had.
 */
const nameMaps = new Map();
function nameMap(bundle) {
  if (nameMaps.has(bundle)) return nameMaps.get(bundle);
  const map = new Map();
  // The bundle and its chunks (dist/chunks/, scripts/bundle.js): a minified name may stand for several.
  let files = [bundle];
  try {
    files = [
      bundle,
      ...readdirSync(join(dirname(bundle), 'chunks'))
        .filter((n) => n.endsWith('.cjs'))
        .map((n) => join(dirname(bundle), 'chunks', n)),
    ];
  } catch {
    // no chunks
  }
  for (const file of files) addNames(map, file);
  nameMaps.set(bundle, map);
  return map;
}

function addNames(map, file) {
  try {
    const text = readFileSync(file, 'utf8');
    const helper = /var ([\w$]+)=\(([\w$]+),([\w$]+)\)=>[\w$]+\(\2,"name",\{value:\3,configurable:!0\}\)/.exec(text)?.[1];
    if (helper) {
      const esc = helper.replace(/\$/g, '\\$');
      for (const m of text.matchAll(new RegExp(`(?<![\\w$.])${esc}\\(([\\w$]+),"([^"]+)"\\)`, 'g'))) {
        const names = map.get(m[1]) ?? new Set();
        names.add(m[2]);
        map.set(m[1], names);
      }
    }
  } catch {
    // no bundle: names stay minified
  }
}

/** Runs the CLI under --prof for at most `seconds`; resolves { signature, text, chain } or undefined. */
export async function profileRun({ bin, args, home, env, stdinFile, seconds, work }) {
  const log = join(work, `prof-${process.pid}-${counter++}.log`);
  const stdinFd = stdinFile ? openSync(stdinFile, 'r') : undefined;
  const child = spawn(process.execPath, ['--prof', `--logfile=${log}`, '--no-logfile-per-isolate', bin, ...args], { cwd: home, env, stdio: [stdinFd ?? 'ignore', 'ignore', 'ignore'], detached: true });
  if (stdinFd !== undefined) closeSync(stdinFd);
  await new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, seconds * 1000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  if (!existsSync(log)) return undefined;
  const processed = spawnSync(process.execPath, ['--prof-process', log], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  rmSync(log, { force: true });
  return summarise(processed.stdout ?? '', nameMap(join(bin, '..', '..', 'dist', 'c8ytoken.cjs')));
}

const clean = (name, names = new Map()) =>
  name
    .replace(/^RegExp: (.*)$/, (all, re) => `RegExp:/${re.length > 40 ? `${re.slice(0, 40)}...` : re}/`.replace(/ /g, '\u00a0'))
    .replace(/^JS: [*^~+]?/, '')
    .replace(/^(LazyCompile|Function|Builtin|BytecodeHandler|Stub|RegExp): [*^~+]?/, '')
    .replace(/ (\/[^\s]*\/)?([^/\s]+:\d+:\d+)$/, ' $2')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^([\w$]+) (c8ytoken\.cjs:\d+:\d+)$/, (all, fn, where) => (names.has(fn) ? `${[...names.get(fn)].join('|')} ${where}` : all));

const isProduct = (name) => /c8ytoken\.cjs/.test(name);

/** Parses the bottom-up profile: top entries with their heaviest caller chains. */
export function summarise(text, names = new Map()) {
  const start = text.indexOf('[Bottom up (heavy) profile]');
  if (start < 0) return undefined;
  const rows = [];
  for (const line of text.slice(start).split('\n').slice(1)) {
    const m = /^\s*(\d+)\s+([\d.]+)%\s{2}(\s*)(\S.*)$/.exec(line);
    if (m) rows.push({ ticks: Number(m[1]), pct: Number(m[2]), depth: m[3].length / 2, name: m[4] });
  }
  const total = Number(/\((\d+) ticks/.exec(text)?.[1] ?? 0);
  const tops = [];
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].depth !== 0) continue;
    const chain = [clean(rows[i].name, names)];
    // The heaviest caller at each level is the first row one level deeper.
    let depth = 0;
    for (let j = i + 1; j < rows.length && rows[j].depth > depth; j++) {
      if (rows[j].depth === depth + 1) {
        chain.push(clean(rows[j].name, names));
        depth++;
      }
    }
    tops.push({ ticks: rows[i].ticks, share: total ? rows[i].ticks / total : 0, chain });
  }
  if (!tops.length) return undefined;
  const top = tops[0];
  // The hottest function and the product functions that call it (up to four): "where" and "why".
  const fn = (n) => n.split(' ')[0];
  const callers = top.chain.slice(1).filter(isProduct).slice(0, 4).map(fn);
  const signature = [fn(top.chain[0]), ...callers].join(' <- ');
  const textOut = tops
    .slice(0, 3)
    .map((t) => `${(t.share * 100).toFixed(0)}% ${t.chain.slice(0, 6).join(' <- ')}`)
    .join(' | ');
  return { signature, share: top.share, text: textOut, chain: top.chain.slice(0, 8), totalTicks: total };
}
