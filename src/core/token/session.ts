/** The session variables other Cumulocity tools read (go-c8y-cli's names), for `fetch --format env` and `exec`. */
import type { DecodedJwt } from './jwt.js';

/** C8Y_TOKEN, C8Y_HOST (the tenant URL as given, an explicit port kept), C8Y_TENANT, C8Y_USER, C8Y_HEADER_AUTHORIZATION. */
export function sessionVariables(token: DecodedJwt, tenant: URL): [string, string][] {
  const claims = token.claims;
  return [
    ['C8Y_TOKEN', token.token],
    // The next call in the same shell goes to the port the user gave.
    ['C8Y_HOST', tenant.origin],
    ['C8Y_TENANT', typeof claims.ten === 'string' ? claims.ten : ''],
    ['C8Y_USER', typeof claims.sub === 'string' ? claims.sub : ''],
    ['C8Y_HEADER_AUTHORIZATION', `Bearer ${token.token}`],
  ];
}
