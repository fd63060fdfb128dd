/** The platform's URLs from what the user gave: the tenant URL, and the token endpoint on port 8443. */
import { C8yError } from '../errors.js';

/** The port the platform serves the device token endpoint on (since July 2024). */
export const DEVICE_TOKEN_PORT = 8443;
export const DEVICE_TOKEN_PATH = '/devicecontrol/deviceAccessToken';

/**
 * The tenant URL (scheme, host and the port only when the user named one) from a URL with or without
 * scheme; a path is dropped. `source` names where the text came from, for messages.
 */
export function tenantUrl(raw: string, source: string): URL {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new C8yError('BAD_URL', { value: raw, source, reason: 'not a URL' });
  }
  // Credentials in the URL are never shown: the value is left out of the facts.
  if (url.username || url.password) throw new C8yError('BAD_URL', { source, reason: 'credentials' });
  if (url.protocol !== 'https:') throw new C8yError('BAD_URL', { value: raw, source, reason: `scheme ${url.protocol.replace(':', '')}` });
  return new URL(url.origin);
}

/** The token endpoint for a tenant URL: port 8443 unless the URL names one. */
export function tokenEndpoint(tenant: URL): URL {
  const endpoint = new URL(DEVICE_TOKEN_PATH, tenant.origin);
  if (tenant.port === '') endpoint.port = String(DEVICE_TOKEN_PORT);
  return endpoint;
}
