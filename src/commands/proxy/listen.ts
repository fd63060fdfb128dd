/**
 * Where the proxy listens, and who may reach it: loopback by default; another address only with TLS and
 * client certificates (a device's identity must not be lent to the whole network); a Unix socket with a
 * mode that leaves others out, set (and its group) before the first connection can be accepted.
 */
import { fstatSync, readFileSync } from 'node:fs';
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
  // systemd's socket: checked again once the address it has is known (resolvedAddress).
  if (address.kind !== 'tcp' || isLoopbackHost(address.host)) return;
  if (tls.cert === undefined || tls.clientCa === undefined)
    throw new C8yError('USAGE', {
      detail: `Refusing to listen on ${address.shown}: every program that reaches that address would call the tenant as this device. Off loopback the proxy serves only HTTPS with client certificates.`,
      suggestion: 'Listen on 127.0.0.1:PORT or unix:PATH, or give --tls-cert, --tls-key and --client-ca (the CA of the child devices allowed in).',
    });
}

/** The first file descriptor systemd passes (sd_listen_fds(3)). */
const SD_LISTEN_FDS_START = 3;

/**
 * --listen systemd: the socket a systemd socket unit passed this process (LISTEN_PID names it, LISTEN_FDS
 * counts them; the first is used). LISTEN_FAILED when none was passed to this process.
 */
export function systemdSocket(env: NodeJS.ProcessEnv, pid: number): number {
  if (env.LISTEN_PID !== String(pid) || !(Number(env.LISTEN_FDS) >= 1))
    throw new C8yError('LISTEN_FAILED', {
      value: 'systemd',
      reason: `no socket was passed to this process: ${env.LISTEN_PID === undefined ? 'it was not started by a systemd socket unit' : 'LISTEN_PID names another process'}`,
    });
  return SD_LISTEN_FDS_START;
}

/** The path of the Unix socket listening on `fd`, from the kernel's table (Node names only the sockets it made). */
export function unixSocketPath(fd: number): string | undefined {
  try {
    const inode = String(fstatSync(fd).ino);
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[6] === inode && f[7]) return f.slice(7).join(' ');
    }
  } catch {
    // no /proc: the address is shown without its path
  }
  return undefined;
}

/**
 * The address the socket systemd passed listens on, as --listen would name it: Node gives a TCP socket's
 * address, and none for a Unix socket it did not make (`fd` finds its path).
 */
export function resolvedAddress(address: string | { address: string; family: string; port: number } | null, shown: string, fd: number): ListenAddress {
  if (!address || typeof address === 'string') {
    const path = address || unixSocketPath(fd) || '';
    return { kind: 'unix', path, shown: `${shown} (unix:${path || '?'})` };
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { kind: 'tcp', host: address.address, port: address.port, shown: `${shown} (${host}:${address.port})` };
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
