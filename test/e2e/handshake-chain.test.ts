/**
 * The local endpoint's record of the certificates a client presented in its TLS handshake is what the
 * fetch tests rely on to prove the intermediate goes on the wire. This checks the record itself: it
 * follows what the client sent (a leaf alone is recorded as a leaf alone), on every supported Node
 * version, including Node 24, whose TLS server consumes the sent chain as the handshake completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { runCli } from '../helpers/cli.js';
import { pki } from '../helpers/paths.js';

let emulator: Emulator;
beforeAll(async () => {
  // 'http': an untrusted client certificate gets a 401 instead of a failed handshake, so a leaf sent
  // without its intermediate still reaches the request handler and is recorded.
  emulator = await new Emulator({ clientCheck: 'http' }).start();
});
afterAll(async () => {
  await emulator.stop();
});

const fetchWith = (cert: string, maxVersion?: string) =>
  runCli(['fetch', '--url', emulator.url, '--truststore', pki('truststore.pem'), '--cert', pki(cert), '--key', pki('device-rsa.key'), '-q'], {
    env: maxVersion ? { NODE_OPTIONS: `--tls-max-v${maxVersion}` } : {},
  });

describe('the endpoint records the certificates sent in the handshake', () => {
  it('leaf and intermediate when the client sends both (TLS 1.3 and 1.2)', async () => {
    for (const version of [undefined, '1.2']) {
      const before = emulator.requests.length;
      const run = await fetchWith('device-rsa.chain.pem', version);
      expect(run.code).toBe(0);
      const req = emulator.requests[before]!;
      expect(req.tlsVersion).toBe(version ? 'TLSv1.2' : 'TLSv1.3');
      expect(req.handshakeChain.slice(0, 2)).toEqual(['rsa-device-001', 'c8ytoken Device Intermediate CA']);
    }
  });

  it('the leaf alone when the client sends the leaf alone, which the endpoint then refuses', async () => {
    const before = emulator.requests.length;
    const run = await fetchWith('device-rsa.crt');
    expect(run.code).toBe(7);
    expect(emulator.requests[before]!.handshakeChain).toEqual(['rsa-device-001']);
  });
});
