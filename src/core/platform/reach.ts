/** The first steps to the platform, one at a time, for doctor: the name resolves, the port answers. */
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { safeTimeout } from '../time/timer.js';

/** The addresses a host name resolves to (the system resolver, as the request uses). */
export async function resolveHost(host: string): Promise<string[]> {
  const found = await lookup(host.replace(/^\[|\]$/g, ''), { all: true });
  return found.map((a) => a.address);
}

/** Opens and closes a TCP connection; resolves the milliseconds it took, rejects with Node's error (or ETIMEDOUT). */
export function connectTcp(host: string, port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const timer = safeTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Date.now() - started);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
