/** The token endpoint's URL: a tenant URL turned into https://HOST:8443/devicecontrol/deviceAccessToken. */
import { C8yError } from '../errors.js';

/** The port the platform serves the device token endpoint on (since July 2024). */
export const DEVICE_TOKEN_PORT = 8443;
export const DEVICE_TOKEN_PATH = '/devicecontrol/deviceAccessToken';

/**
 * Builds the token endpoint from what the user gave: a tenant URL with or without scheme and port.
 * Port 8443 unless the URL names one; any path on the tenant URL is dropped (the endpoint is fixed).
 */
export function tokenEndpoint(raw: string, source: string): URL {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new C8yError('BAD_URL', `The tenant URL "${raw}" (from ${source}) is not a URL.`, {
      hint: 'Give it like https://t12345.eu-latest.cumulocity.com',
    });
  }
  if (url.protocol !== 'https:') {
    throw new C8yError('BAD_URL', `The tenant URL "${raw}" (from ${source}) uses ${url.protocol.replace(':', '')}; the device token endpoint is served only over HTTPS with mutual TLS.`, {
      hint: 'Use an https:// URL.',
    });
  }
  if (url.username || url.password) {
    throw new C8yError('BAD_URL', `The tenant URL from ${source} carries user credentials; the device token request authenticates with the certificate only.`, {
      hint: 'Remove user:password@ from the URL.',
    });
  }
  const endpoint = new URL(DEVICE_TOKEN_PATH, url.origin);
  if (url.port === '') endpoint.port = String(DEVICE_TOKEN_PORT);
  return endpoint;
}

/** The tenant host a token is for, without scheme or port: what C8Y_HOST should be for the token's use. */
export function tenantBaseUrl(endpoint: URL): string {
  return `https://${endpoint.hostname}`; // URL keeps IPv6 brackets in hostname
}
