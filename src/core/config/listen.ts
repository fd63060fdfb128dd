/**
 * The --listen value: where `proxy` listens and where `status` asks it. Parsed here, below both commands,
 * so that the two read one address the same way.
 */
import { C8yError } from '../errors.js';

export type ListenAddress =
  | { kind: 'tcp'; host: string; port: number; shown: string }
  | { kind: 'unix'; path: string; shown: string }
  /** The socket systemd passed (socket activation: LISTEN_FDS, LISTEN_PID); only the proxy can listen on it. */
  | { kind: 'systemd'; shown: string };

/** Parses --listen: HOST:PORT, [V6]:PORT, :PORT (all addresses), PORT, unix:PATH, systemd. */
export function parseListen(text: string): ListenAddress {
  const usage = (reason: string): C8yError => new C8yError('USAGE', { option: '--listen', value: text, reason });
  if (text === 'systemd') return { kind: 'systemd', shown: text };
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path) throw usage('needs a path after unix:');
    return { kind: 'unix', path, shown: text };
  }
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? (/^\d+$/.test(text) ? [text, undefined, '127.0.0.1', text] : null);
  if (!m) throw usage('is not HOST:PORT, unix:PATH or systemd (e.g. 127.0.0.1:8001, [::1]:8001, unix:/run/c8ytoken/proxy.sock)');
  const port = Number(m[3]);
  if (port > 65535) throw usage('has a port above 65535');
  const host = m[1] ?? (m[2] || '0.0.0.0');
  return { kind: 'tcp', host, port, shown: text };
}
