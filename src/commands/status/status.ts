/**
 * `c8ytoken status`: the health of a running proxy (its /_c8ytoken/health, over its socket or address) or
 * of a watch (its --meta sidecar), as one document with a verdict a monitoring check can branch on.
 */
import { request } from 'node:http';
import { C8yError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { readRegularFile } from '../../core/files/read.js';
import { certificateHealth, type HealthDocument } from '../../core/token/health.js';
import type { ListenAddress } from '../../core/config/listen.js';

export interface StatusOptions {
  /** Ask the proxy listening here. */
  listen: ListenAddress;
  /** Read a watch's sidecar instead. */
  meta?: string | undefined;
  /** The certificate needs renewal when it expires within this (the sidecar has no verdict of its own). */
  withinMs: number;
  timeoutMs: number;
}

/** The health document; STATUS_UNREACHABLE when nobody answers, FILE_* when the sidecar cannot be read. */
export async function statusCommand(options: StatusOptions, nowMs: number): Promise<HealthDocument> {
  return options.meta ? fromSidecar(options.meta, options.withinMs, nowMs) : fromProxy(options.listen, options.timeoutMs);
}

function fromProxy(listen: ListenAddress, timeoutMs: number): Promise<HealthDocument> {
  if (listen.kind === 'systemd') throw new C8yError('USAGE', { option: '--listen', value: listen.shown, reason: "is where systemd's socket unit listens: give that address (its ListenStream=)" });
  return new Promise((resolve, reject) => {
    const fail = (reason: string, cause?: unknown): void => reject(new C8yError('STATUS_UNREACHABLE', { value: listen.shown, reason }, { cause }));
    const where = listen.kind === 'unix' ? { socketPath: listen.path } : { host: listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host, port: listen.port };
    const req = request({ ...where, path: '/_c8ytoken/health', headers: { host: 'localhost', accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      res.on('end', () => {
        try {
          const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as HealthDocument;
          if (typeof doc.ok !== 'boolean') return fail(`HTTP ${res.statusCode} without a health document`);
          resolve(doc);
        } catch (err) {
          fail(`HTTP ${res.statusCode} without a health document`, err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message, err));
    req.end();
  });
}

async function fromSidecar(path: string, withinMs: number, nowMs: number): Promise<HealthDocument> {
  const text = (await readRegularFile(path, 'output', LIMITS.certificateBytes)).toString('utf8');
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new C8yError('FILE_UNREADABLE', { path, role: 'output', reason: 'not the JSON sidecar watch --meta writes' }, { cause: err });
  }
  const iso = (k: string): string | null => (typeof meta[k] === 'string' ? meta[k] : null);
  const expiresAt = iso('expiresAt');
  const secondsLeft = expiresAt ? Math.round((Date.parse(expiresAt) - nowMs) / 1000) : null;
  const certNotAfter = iso('certificateNotAfter');
  const certificate = certNotAfter ? certificateHealth(certNotAfter, withinMs, nowMs) : null;
  const reason =
    secondsLeft !== null && secondsLeft <= 0 ? `the token expired at ${expiresAt}: watch has not written a new one` : certificate?.expired ? 'the device certificate has expired' : undefined;
  return {
    ok: reason === undefined,
    ...(reason ? { reason } : {}),
    service: 'watch',
    token: { expiresAt, refreshAfter: iso('refreshAfter'), secondsLeft, deviceUser: iso('deviceUser') },
    certificate,
    lastRefresh: iso('issuedAt'),
    lastError: null,
  };
}
