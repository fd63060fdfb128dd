/**
 * Where the proxy listens, and who may reach it: loopback by default; another address only with TLS and
 * client certificates (a device's identity must not be lent to the whole network); a Unix socket with a
 * mode that leaves others out, set (and its group) before the first connection can be accepted.
 */
import { chmod, chown, lstat, readFile, unlink } from 'node:fs/promises';
import { connect, isIP } from 'node:net';
import { C8yError } from '../../core/errors.js';
import type { ListenAddress } from '../../core/config/listen.js';

/** Whether a host name or address is this machine's loopback (the only names a plain-HTTP proxy answers to). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Refuses a listening address anyone else could use: not loopback without TLS and client certificates.
 * A usage error (exit 2) that says why and what to give instead.
 */
export function checkExposure(address: ListenAddress, tls: { cert?: string | undefined; key?: string | undefined; clientCa?: string | undefined }): void {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new C8yError('USAGE', { detail: '--tls-cert and --tls-key go together.' });
  if (tls.clientCa !== undefined && tls.cert === undefined)
    throw new C8yError('USAGE', { detail: '--client-ca needs --tls-cert and --tls-key: client certificates are asked for in a TLS handshake.' });
  if (address.kind === 'unix' || isLoopbackHost(address.host)) return;
  if (tls.cert === undefined || tls.clientCa === undefined)
    throw new C8yError('USAGE', {
      detail: `Refusing to listen on ${address.shown}: every program that reaches that address would call the tenant as this device. Off loopback the proxy serves only HTTPS with client certificates.`,
      suggestion: 'Listen on 127.0.0.1:PORT or unix:PATH, or give --tls-cert, --tls-key and --client-ca (the CA of the child devices allowed in).',
    });
}

/** A group's id from a name (read from /etc/group) or a number. */
export async function groupId(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new C8yError('USAGE', { option: '--socket-group', value: group, reason: 'names no group of this system' });
}

/**
 * Before listening on a Unix socket: a socket file left by a proxy that ended is removed; anything else
 * at the path (a file, a socket someone answers on) is LISTEN_FAILED.
 */
export async function clearStaleSocket(address: Extract<ListenAddress, { kind: 'unix' }>): Promise<void> {
  const st = await lstat(address.path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw new C8yError('LISTEN_FAILED', { value: address.shown, reason: 'the path exists and is not a socket' });
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(address.path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
  if (alive) throw new C8yError('LISTEN_FAILED', { value: address.shown, reason: 'another process answers on that socket', nodeCode: 'EADDRINUSE' });
  await unlink(address.path);
}

/** Sets the socket's mode and group. The socket is made under umask 0177, so until then only this user can connect. */
export async function secureSocket(path: string, mode: number, gid: number | undefined): Promise<void> {
  if (gid !== undefined) await chown(path, -1, gid);
  await chmod(path, mode);
}
