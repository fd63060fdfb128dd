/**
 * Third-party servers for the interop tests (nginx, tinyproxy, squid): a free port on 127.0.0.1, the
 * program started in the foreground from a config in a temp folder, waited for until it accepts
 * connections, and stopped by its PID. A missing program is a visible skip reason, never a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { createSign } from 'node:crypto';

/** The path of an executable when it is installed, else undefined. */
export function installed(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/** A port free on 127.0.0.1 now: bound to port 0, read, released. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects after timeoutMs. */
async function waitForPort(port: number, timeoutMs: number, died: () => string | undefined): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open) return;
    const why = died();
    if (why) throw new Error(why);
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Daemon {
  stop(): Promise<void>;
  /** What it wrote to stderr (for a failing test's message). */
  output(): string;
}

/** Starts argv in the foreground and waits until every port listens; stop() kills it by its PID. */
export async function startDaemon(argv: string[], ports: number[]): Promise<Daemon> {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = `${argv[0]} exited (${code ?? signal}): ${output.slice(-2000)}`;
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (exit === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exited;
  };
  try {
    for (const port of ports) await waitForPort(port, 10_000, () => exit);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop, output: () => output };
}

/** A device token the way the platform shapes it, signed with the fixture token key, valid for an hour from now. */
export function deviceToken(keyPath: string, cn: string, host: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ jti: null, iss: host, aud: host, sub: `device_${cn}`, tci: 'device_token_config', iat: now, nbf: now, exp: now + 3600, tfa: false, ten: 't1' })}`;
  const signature = createSign('RSA-SHA256').update(body).sign(readFileSync(keyPath)).toString('base64url');
  return `${body}.${signature}`;
}
