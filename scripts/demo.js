#!/usr/bin/env node
// `npm run demo`: starts the built-in local endpoint, fetches tokens with the fixture device keystores
// through the real CLI, explains one with `inspect` and checks the device chain with `verify-chain`.
// Everything stays on this machine (loopback).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Emulator } from '../dist/emulator.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/c8ytoken.js', import.meta.url));
const emulator = await new Emulator().start();

// Asynchronous on purpose: the endpoint runs in this process and must keep answering.
async function run(title, args, input) {
  console.log(`\n$ c8ytoken ${args.join(' ')}`);
  const env = { ...process.env, C8YTOKEN_KEYSTORE_PASSWORD: 'changeit', C8YTOKEN_TRUSTSTORE_PASSWORD: 'changeit' };
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stdin.end(input ?? '');
  const status = await new Promise((resolve) => child.on('close', resolve));
  process.stdout.write(stdout);
  if (status !== 0) {
    console.error(`${title} failed with exit code ${status}`);
    process.exitCode = 1;
  }
  return stdout;
}

try {
  console.log(`Local Cumulocity-like endpoint: ${emulator.url} (mutual TLS, fixture device CA)`);
  console.log('Fixture passwords come from C8YTOKEN_KEYSTORE_PASSWORD and C8YTOKEN_TRUSTSTORE_PASSWORD (changeit).');
  const common = ['--url', emulator.url, '--truststore', 'fixtures/pki/truststore.jks'];
  const token = await run('fetch (PKCS#12, RSA)', ['fetch', ...common, '--keystore', 'fixtures/pki/device-rsa.p12']);
  await run('fetch (JKS, EC P-256, header form)', ['fetch', ...common, '--keystore', 'fixtures/pki/device-ec256.jks', '--format', 'header']);
  await run('inspect', ['inspect', '-'], token);
  await run('verify-chain', ['verify-chain', '--keystore', 'fixtures/pki/device-rsa.p12', '--device-ca', 'fixtures/pki/device-root-ca.crt']);
} finally {
  await emulator.stop();
}
