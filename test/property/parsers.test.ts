/**
 * Property tests of every parser we own: for any input (random bytes, or a real file with random damage)
 * each gives a result or its own typed error (DerError inside, C8yError at the boundary), never another
 * exception: what the fuzz campaign (npm run fuzz) checks through the whole CLI, here in process.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { C8yError } from '../../src/core/errors.js';
import { DerError, parseDer, type Node } from '../../src/core/encoding/der.js';
import { pemBlocks } from '../../src/core/encoding/pem.js';
import { readPkcs12 } from '../../src/core/keystore/pkcs12.js';
import { readJks } from '../../src/core/keystore/jks.js';
import { certDetails } from '../../src/core/x509/certificate.js';
import { parseCertificate, readCertificates } from '../../src/core/x509/read.js';
import { verifyChain } from '../../src/core/chain/verify.js';
import { decodePemKey } from '../../src/core/credentials/identity.js';
import { PasswordBook } from '../../src/core/credentials/passwords.js';
import { decodeJwt, tokenTimes } from '../../src/core/token/jwt.js';
import { inspectCommand } from '../../src/commands/inspect/inspect.js';
import { inspectJson, renderInspect } from '../../src/commands/inspect/output.js';
import { pki } from '../helpers/paths.js';

const RUNS = 300;

/** A damage to a buffer: set bytes, flip bits, cut, or insert. */
const damage = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  ),
  { minLength: 1, maxLength: 6 },
);

function apply(original: Buffer, edits: { kind: 'set' | 'flip' | 'cut' | 'insert'; at: number; value: number }[]): Buffer {
  let b = Buffer.from(original);
  for (const e of edits) {
    if (b.length === 0) break;
    const at = e.at % b.length;
    if (e.kind === 'set') b[at] = e.value;
    else if (e.kind === 'flip') b[at] = b[at]! ^ (1 << e.value);
    else if (e.kind === 'cut') b = b.subarray(0, at);
    else b = Buffer.concat([b.subarray(0, at), Buffer.from([e.value]), b.subarray(at)]);
  }
  return b;
}

/** Reads every element of a tree (children are read lazily: walking is where limits bite). */
function walk(node: Node): number {
  return 1 + node.children.reduce((n, c) => n + walk(c), 0);
}

/** Runs `action`; passes when it returns or throws one of the allowed error types. */
async function only(action: () => unknown, ...allowed: (new (...args: never[]) => Error)[]): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!allowed.some((type) => err instanceof type)) throw err;
  }
}

describe('DER', () => {
  it('random bytes parse or raise DerError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => only(() => walk(parseDer(Buffer.from(bytes))), DerError)),
      { numRuns: 2000 },
    );
  });
  it('damaged certificates parse or raise DerError', async () => {
    const der = new (await import('node:crypto')).X509Certificate(readFileSync(pki('device-rsa.crt'))).raw;
    await fc.assert(
      fc.asyncProperty(damage, async (edits) => only(() => walk(parseDer(apply(der, edits))), DerError)),
      { numRuns: RUNS },
    );
  });
});

describe('PEM', () => {
  it('any text gives blocks, never an exception, each block BEGIN to END of one label', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom('-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----', '-----BEGIN X-----', '-----END X-----', '\n', 'MIIB'), fc.string()), { maxLength: 40 }),
        (parts) => {
          for (const b of pemBlocks(parts.join(''))) expect(b.text.startsWith(`-----BEGIN ${b.label}-----`) && b.text.endsWith(`-----END ${b.label}-----`)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
  it('damaged certificate files give certificates or NOT_A_CERTIFICATE', async () => {
    const text = readFileSync(pki('device-rsa.chain.pem'));
    await fc.assert(
      fc.asyncProperty(damage, async (edits) => only(() => readCertificates(apply(text, edits), 'f', 'certificate'), C8yError)),
      { numRuns: RUNS },
    );
  });
});

describe('X.509 details and chain checks', () => {
  it('damaged certificates that Node still parses give details or DerError, and verify-chain always reports', async () => {
    const der = new (await import('node:crypto')).X509Certificate(readFileSync(pki('device-ec256.crt'))).raw;
    const ca = readCertificates(readFileSync(pki('device-intermediate-ca.crt')), 'ca', 'certificate');
    await fc.assert(
      fc.asyncProperty(damage, async (edits) => {
        const cert = parseCertificate(apply(der, edits));
        if (!cert) return;
        await only(() => certDetails(cert), DerError);
        const report = verifyChain({ leaf: cert, others: ca, at: Date.parse('2026-06-01T00:00:00Z') });
        expect(report.checks.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('keystores', () => {
  const warn = (): void => undefined;
  for (const name of ['device-rsa.p12', 'device-ec256.legacy.p12', 'device-rsa.keytool.p12']) {
    it(`damaged ${name} gives a keystore or a C8yError, now and when its key is decrypted`, async () => {
      const data = readFileSync(pki(name));
      await fc.assert(
        fc.asyncProperty(damage, async (edits) =>
          only(async () => {
            const store = await readPkcs12(apply(data, edits), { path: name, role: 'keystore', password: 'changeit', warn });
            for (const entry of store.keyEntries) {
              void entry.chain;
              await entry.decryptKey('changeit');
            }
          }, C8yError),
        ),
        { numRuns: 60 },
      );
    });
  }
  for (const name of ['device-rsa.jks', 'device-ec384.jks', 'truststore.jks']) {
    it(`damaged ${name} gives a keystore or a C8yError, now and when its key is decrypted`, async () => {
      const data = readFileSync(pki(name));
      await fc.assert(
        fc.asyncProperty(damage, async (edits) =>
          only(async () => {
            const store = readJks(apply(data, edits), { path: name, role: 'keystore', password: 'changeit', warn });
            for (const entry of store.keyEntries) await entry.decryptKey('changeit');
          }, C8yError),
        ),
        { numRuns: RUNS },
      );
    });
  }
});

describe('PEM private keys', () => {
  const book = new PasswordBook(
    { key: { role: 'key', envName: 'K', envValue: 'keysecret' }, keystore: { role: 'keystore', envName: 'S' }, truststore: { role: 'truststore', envName: 'T' } },
    undefined,
    () => undefined,
  );
  for (const name of ['device-rsa.key', 'device-ec256.sec1.key', 'device-rsa.enc-pkcs8.key', 'device-ec384.enc-traditional.key']) {
    it(`damaged ${name} gives a key or a C8yError`, async () => {
      const text = readFileSync(pki(name));
      await fc.assert(
        fc.asyncProperty(damage, async (edits) => only(() => decodePemKey(apply(text, edits).toString('latin1'), name, book), C8yError)),
        { numRuns: RUNS },
      );
    });
  }
});

describe('JWT', () => {
  it('damaged real tokens decode or raise TOKEN_MALFORMED, and their times never throw', async () => {
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token = Buffer.from(`${b64({ alg: 'RS256' })}.${b64({ sub: 'device_x', iat: 1, exp: 3601, ten: 't1' })}.c2ln`);
    await fc.assert(
      fc.asyncProperty(damage, async (edits) =>
        only(() => {
          const jwt = decodeJwt(apply(token, edits).toString('latin1'));
          tokenTimes(jwt.claims);
        }, C8yError),
      ),
      { numRuns: 1000 },
    );
  });

  // The damage above never removes a claim whole, nor gives one another JSON type: the fuzz campaign
  // missed `aud` without `iss` (inspect crashed, exit 70) that way. Here claims go and change type.
  it('a device token with any claims deleted and any retyped is explained by inspect (text and JSON), or refused with a C8yError', async () => {
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const full: Record<string, unknown> = { ten: 't1', sub: 'device_x', tci: 'device_token_config', iss: 't1.example.com', aud: 't1.example.com', iat: 1, nbf: 1, exp: 3601, jti: 'j', xsrfToken: 'x' };
    const keys = Object.keys(full);
    await fc.assert(
      fc.asyncProperty(fc.subarray(keys), fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.boolean(), async (dropped, retyped, color) => {
        const claims = { ...full, ...retyped };
        for (const k of dropped) delete claims[k];
        const token = `${b64({ alg: 'RS256' })}.${b64(claims)}.c2ln`;
        await only(async () => {
          const result = await inspectCommand({ input: token, check: false }, { stdin: () => process.stdin, stdinIsTTY: true, cwd: process.cwd(), now: () => 1_800_000_000_000 });
          expect(renderInspect(result, { color, showSecrets: false, now: 1_800_000_000_000 })).toMatch(/Device user/);
          JSON.stringify(inspectJson(result));
        }, C8yError);
      }),
      { numRuns: 500 },
    );
  });
});
