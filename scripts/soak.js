#!/usr/bin/env node
// `npm run soak [-- --refreshes 500]`: runs `c8ytoken watch` against the local endpoint with sub-second
// tokens until it has written N new tokens, and reports the watch process's memory (RSS, Linux /proc)
// after the first 20 refreshes and at the end. Loopback only; bounded in count and in time.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Emulator } from '../dist/emulator/server.js';

const { values } = parseArgs({ options: { refreshes: { type: 'string', default: '500' }, lifetime: { type: 'string', default: '0.3' }, 'max-minutes': { type: 'string', default: '10' } } });
const target = Number(values.refreshes);
const root = fileURLToPath(new URL('..', import.meta.url));
const pki = (f) => join(root, 'fixtures/pki', f);
const rssKb = (pid) => {
  const status = `/proc/${pid}/status`;
  if (!existsSync(status)) return undefined;
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(status, 'utf8'))?.[1]);
};

const emulator = await new Emulator({ lifetimeSeconds: Number(values.lifetime) }).start();
const file = join(mkdtempSync(join(tmpdir(), 'soak-')), 'token');
const child = spawn(process.execPath, [join(root, 'bin/c8ytoken.js'), 'watch', '--json', '-o', file, '--url', emulator.url, '--truststore', pki('truststore.pem'), '--cert', pki('device-ec256.chain.pem'), '--key', pki('device-ec256.key'), '--min-retry', '100ms', '--max-retry', '1s'], { stdio: ['ignore', 'pipe', 'inherit'] });
let written = 0;
let retries = 0;
let first;
const started = Date.now();
const deadline = setTimeout(() => child.kill('SIGTERM'), Number(values['max-minutes']) * 60_000);
let buffer = '';
child.stdout.setEncoding('utf8').on('data', (d) => {
  buffer += d;
  let nl;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    const e = JSON.parse(buffer.slice(0, nl));
    buffer = buffer.slice(nl + 1);
    if (e.event === 'retry' || e.event === 'error') retries += 1;
    if (e.event === 'token' && e.written) {
      written += 1;
      if (written === 20) first = { refreshes: written, rssKb: rssKb(child.pid), atS: (Date.now() - started) / 1000 };
      if (written % 100 === 0) process.stderr.write(`${written} refreshes, RSS ${rssKb(child.pid)} kB\n`);
      if (written === target + 20) {
        const last = { refreshes: written, rssKb: rssKb(child.pid), atS: (Date.now() - started) / 1000 };
        console.log(JSON.stringify({ node: process.version, lifetimeSeconds: Number(values.lifetime), start: first, end: last, refreshesMeasured: target, retries, tokensIssued: emulator.issued }, null, 2));
        child.kill('SIGTERM');
      }
    }
  }
});
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
clearTimeout(deadline);
await emulator.stop();
if (written < target + 20) {
  console.error(`soak stopped after ${written} refreshes (exit ${code})`);
  process.exitCode = 1;
}
