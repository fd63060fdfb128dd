/** `c8ytoken cert renew`: the configured identity, a token with it, then the renewal (core/est/device.ts). */
import type { Settings } from '../../core/config/settings.js';
import { C8yError } from '../../core/errors.js';
import type { CommandIo } from '../command.js';
import { PasswordBook } from '../../core/credentials/passwords.js';
import { loadIdentityWithProgress, prepareTls } from '../../core/token/source.js';
import { renewIdentity, requireTenant, type CertRenewResult, type RenewOptions } from '../../core/est/device.js';

/** cert renew: the configured identity, a token with it, then the renewal. */
export async function certRenewCommand(settings: Settings, options: RenewOptions, io: CommandIo): Promise<CertRenewResult> {
  const tenant = requireTenant(settings);
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  // A new key would have to be made in the token, with the token's own tools: refused before any PIN or request.
  if (options.newKey && settings.pkcs11)
    throw new C8yError('USAGE', {
      option: '--new-key',
      reason: `cannot make a key in a PKCS#11 token (${settings.pkcs11.uri.shown}): c8ytoken makes keys in files only. Renew without --new-key: the key stays in the token and the request is signed there`,
    });
  const identity = await loadIdentityWithProgress(settings, passwords, io);
  const tls = await prepareTls(settings, identity, passwords, io);
  return renewIdentity(settings, tenant, identity, tls, passwords, options, io);
}
