#!/usr/bin/env node
// A thin bin: everything testable lives in the CLI module; this only wires the process to it.
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // Scripts call this to probe for the tool: answer without loading the program at all.
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { main } = await import('../dist/bundle/cli.js');
  const controller = new AbortController();
  // 128 + signal number: 130 for SIGINT, 143 for SIGTERM (the shell convention scripts expect).
  const onSignal = (signal) => {
    controller.abort(signal);
    // A second signal, or a command that does not stop, must not keep the process alive.
    setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), 1000).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const code = await main(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: () => process.stdin,
    stdinIsTTY: isatty(0),
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    // SIGHUP asks `watch` to refresh now; Windows has no SIGHUP to send.
    onRefreshRequest: (callback) => {
      if (process.platform === 'win32') return () => undefined;
      process.on('SIGHUP', callback);
      return () => process.off('SIGHUP', callback);
    },
  });
  process.exitCode = controller.signal.aborted ? (controller.signal.reason === 'SIGINT' ? 130 : 143) : code;
}
