/**
 * Local endpoints for a test file: `const endpoint = localEndpoints();` at the top, then
 * `await endpoint({ lifetimeSeconds: 60 })` in a test; every endpoint started is stopped after each test.
 */
import { afterEach } from 'vitest';
import { Emulator, type EmulatorOptions } from '../emulator/server.js';

export function localEndpoints(): (options?: EmulatorOptions) => Promise<Emulator> {
  const started: Emulator[] = [];
  afterEach(async () => {
    for (const e of started.splice(0)) await e.stop().catch(() => undefined);
  });
  return async (options = {}) => {
    const e = await new Emulator(options).start();
    started.push(e);
    return e;
  };
}
