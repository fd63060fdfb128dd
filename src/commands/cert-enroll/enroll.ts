/** `c8ytoken cert enroll`: a new key, simpleenroll with the one-time password (polled until registered), the files. */
import type { Settings } from '../../core/config/settings.js';
import type { CommandIo } from '../command.js';
import type { C8yError } from '../../core/errors.js';
import { PasswordBook } from '../../core/credentials/passwords.js';
import { loadTrustWithProgress } from '../../core/token/source.js';
import { refuseOverlaps } from '../../core/files/overlap.js';
import { inputFiles } from '../../core/config/settings.js';
import { estConnection, proveFiles, requireTenant } from '../../core/est/device.js';
import type { EnrollResult } from '../../core/est/flows.js';
import type { DeviceId } from '../../core/est/names.js';

export interface EnrollOptions {
  deviceId: DeviceId;
  /** From the password file or its variable; never shown. */
  oneTimePassword: string;
  certPath: string;
  keyPath: string;
  retryEveryMs: number;
  maxWaitMs: number;
}

export interface EnrollIo extends CommandIo {
  /** Told about each refused attempt before the pause (never the password). */
  onRetry?(info: { attempt: number; error: C8yError; nextInMs: number }): void;
}

/** cert enroll: a new key, simpleenroll with the one-time password (polled until registered), the files. */
export async function certEnrollCommand(settings: Settings, options: EnrollOptions, io: EnrollIo): Promise<EnrollResult> {
  const tenant = requireTenant(settings);
  // The files to write are new: none of them may be a file this command reads (the truststore, a password file).
  const reads = inputFiles(settings).filter((f) => f.option !== '--cert' && f.option !== '--key');
  refuseOverlaps(
    [
      { path: options.keyPath, option: '--key' },
      { path: options.certPath, option: '--cert' },
    ],
    reads,
  );
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  const trust = await loadTrustWithProgress(settings, passwords, io);
  const [{ enrollDevice }, { estBaseUrl }] = await Promise.all([import('../../core/est/flows.js'), import('../../core/est/client.js')]);
  const estBase = estBaseUrl(tenant, settings.estUrl);
  return enrollDevice({
    ...(await estConnection(settings, estBase, trust, io)),
    deviceId: options.deviceId,
    oneTimePassword: options.oneTimePassword,
    certPath: options.certPath,
    keyPath: options.keyPath,
    prove: (certPath, _keyPath, key) => proveFiles(settings, certPath, key, undefined, passwords, io),
    poll: { retryEveryMs: options.retryEveryMs, maxWaitMs: options.maxWaitMs, now: () => io.now(), onRetry: (info) => io.onRetry?.(info) },
  });
}
