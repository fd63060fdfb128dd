/** `c8ytoken cert renew`: the configured identity, a token with it, then the renewal (core/est/device.ts). */
import type { Settings } from '../../core/config/settings.js';
import type { CommandIo } from '../command.js';
import { PasswordBook } from '../../core/credentials/passwords.js';
import { loadIdentityWithProgress, prepareTls } from '../../core/token/source.js';
import { renewIdentity, requireTenant, type CertRenewResult, type RenewOptions } from '../../core/est/device.js';

/** cert renew: the configured identity, a token with it, then the renewal. */
export async function certRenewCommand(settings: Settings, options: RenewOptions, io: CommandIo): Promise<CertRenewResult> {
  const tenant = requireTenant(settings);
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  const identity = await loadIdentityWithProgress(settings, passwords, io);
  const tls = await prepareTls(settings, identity, passwords, io);
  return renewIdentity(settings, tenant, identity, tls, passwords, options, io);
}
