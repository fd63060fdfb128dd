#!/usr/bin/env node
// A thin bin: everything testable lives in dist/cli.js; this only wires the process to it.
import { main } from '../dist/cli.js';

const controller = new AbortController();
// 128 + signal number: 130 for SIGINT, 143 for SIGTERM (the shell convention scripts expect).
const onSignal = (signal) => {
  process.exitCode = signal === 'SIGINT' ? 130 : 143;
  controller.abort(signal);
  // A second signal, or a command that does not stop, must not keep the process alive.
  setTimeout(() => process.exit(process.exitCode), 1000).unref();
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
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
