/** watch in-process with a clock parameter: the device-certificate expiry warning and the schedule. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keepTokenFresh as watchCommand, type TokenEvent as WatchEvent } from '../../src/core/token/keeper.js';
import { loadSettings } from '../../src/core/config/settings.js';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { testIo } from '../helpers/io.js';
import { pki } from '../helpers/paths.js';

const emulators: Emulator[] = [];
afterEach(async () => {
  for (const e of emulators.splice(0)) await e.stop();
});

describe('watch with a clock', () => {
  it('warns when the device certificate expires within 30 days, and schedules at the half-life', async () => {
    const now = Date.parse('2099-12-15T00:00:00Z'); // the fixtures' device certificates end 2099-12-31
    const emulator = await new Emulator({ now: () => now, lifetimeSeconds: 3600 }).start();
    emulators.push(emulator);
    const events: WatchEvent[] = [];
    const io = { ...testIo({ now: () => now }), emit: (e: WatchEvent) => void events.push(e), random: () => 0 };
    const settings = await loadSettings({
      flags: { url: emulator.url, truststore: pki('truststore.pem'), cert: pki('device-rsa.chain.pem'), key: pki('device-rsa.key') },
      env: {},
      cwd: tempDir(),
      warn: io.warn,
    });
    const code = await watchCommand(
      settings,
      {
        output: join(tempDir(), 'token'),
        once: true,
        exitOnError: false,
        minRetryMs: 100,
        maxRetryMs: 1000,
        slowRetryMs: 1000,
      },
      io,
    );
    expect(code).toBe(0);
    const warning = events.find((e) => e.event === 'warning');
    expect(warning && 'message' in warning ? warning.message : '').toMatch(/device certificate expires in 16 day\(s\)/);
    const token = events.find((e) => e.event === 'token');
    // random() = 0: no jitter, the refresh is exactly at the half-life
    expect(token && 'refreshAt' in token ? token.refreshAt : '').toBe(new Date(now + 1800_000).toISOString());
    expect(events.map((e) => e.event)).toEqual(['start', 'warning', 'token', 'stop']);
  });
});
