/**
 * The built `c8ytoken proxy` as a child process: memory flat while 128 MB go through each way (its RSS
 * read from /proc), SIGTERM with requests in flight, SIGHUP, the socket's mode and group, HTTPS with
 * client certificates, and the access log in both forms. What needs no proxy process of its own (status,
 * the refusals before listening) runs in this process through main().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Emulator } from '../emulator/server.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { bin, EC256_DEVICE, pki } from '../helpers/paths.js';

const linux = process.platform === 'linux';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function endpoint(): Promise<Emulator> {
  const e = await new Emulator({ clientCheck: 'http' }).start();
  cleanups.push(() => e.stop());
  return e;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Child {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the proxy and waits for its "listen" line (or its exit). */
async function startCli(e: Emulator, args: string[]): Promise<Child> {
  const home = tempDir('c8ytoken-home-');
  const child = spawn(process.execPath, [bin, 'proxy', '--url', e.url, ...EC256_DEVICE, '--proxy', 'none', ...args], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/"event":"listening"| listen /.test(out + err)) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`proxy exited ${code}: ${err}`));
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The child's resident memory in MB, from /proc. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

function get(port: number, path: string, onResponse: (res: IncomingMessage) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      onResponse(res);
      res.on('end', resolve);
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('c8ytoken proxy (the built CLI)', () => {
  it.skipIf(!linux)(
    `holds memory flat while 128 MB are downloaded and 128 MB uploaded through it, after 200 concurrent connections${linux ? '' : ' (skipped: reads /proc)'}`,
    { timeout: 120_000 },
    async () => {
      const e = await endpoint();
      const port = await freePort();
      const p = await startCli(e, ['--listen', `127.0.0.1:${port}`, '-q']);
      const download = async (size: number): Promise<number> => {
        let got = 0;
        await get(port, `/download?bytes=${size}`, (res) => res.on('data', (c: Buffer) => (got += c.length)));
        return got;
      };
      const upload = (size: number): Promise<{ answer: unknown; sha256: string }> => {
        const hash = createHash('sha256');
        return new Promise((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path: '/upload', method: 'PUT', agent: false }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d: string) => (text += d));
            res.on('end', () => resolve({ answer: JSON.parse(text), sha256: hash.digest('hex') }));
          });
          req.on('error', reject);
          const block = Buffer.alloc(1024 * 1024, 7);
          let sent = 0;
          const push = (): void => {
            while (sent < size) {
              sent += block.length;
              hash.update(block);
              if (!req.write(block)) return void req.once('drain', push);
            }
            req.end();
          };
          push();
        });
      };
      // Warmed up with 20 MB each way (V8's young generation and the TLS buffers take their size) and a burst
      // of 200 concurrent connections (V8's young generation grows under it, 200 upstream sockets stay pooled),
      // as `npm run bench:auth-proxy` runs its download; then measured.
      await download(20 * 1024 * 1024);
      await upload(20 * 1024 * 1024);
      const agent = new HttpAgent({ keepAlive: true, maxSockets: 200 });
      cleanups.push(() => agent.destroy());
      for (let round = 0; round < 5; round++)
        await Promise.all(
          Array.from(
            { length: 200 },
            () =>
              new Promise<void>((resolve, reject) => {
                httpRequest({ host: '127.0.0.1', port, path: '/tenant/currentTenant', agent }, (res) => res.resume().on('end', resolve))
                  .on('error', reject)
                  .end();
              }),
          ),
        );
      const base = rssMb(p.child.pid!);
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(rssMb(p.child.pid!)), 25);
      // 128 MB each way: the least that still catches the dead-chunk sawtooth every time. With memory.ts's
      // collection switched off, 8 runs each: 200 MB peak +27.8..55.6 MB, 128 MB +26.1..31.8 MB (all fail),
      // 96 MB +21.0..31.0 MB (one of 8 passed), 64 MB +23.1..37.1 MB (one of 3 passed); a proxy that buffers
      // the whole answer: 128 MB peak +258 MB. The working proxy: +4..6 MB at every size.
      const size = 128 * 1024 * 1024;
      expect(await download(size)).toBe(size);
      const up = await upload(size);
      clearInterval(sampler);
      expect(up.answer).toEqual({ bytes: size, sha256: up.sha256 });
      const peak = Math.max(base, ...samples);
      // Flat: six times the warm-up's bytes, no more memory than the warm-up took, and no sawtooth of dead
      // chunks between V8's collections (measured here: peak +2 MB, spread 2-4 MB; before memory.ts collected
      // them as they stream, a 13-34 MB sawtooth).
      const tail = samples.slice(Math.floor(samples.length / 4));
      const spread = Math.max(...tail) - Math.min(...tail);
      expect(peak - base, `RSS ${base.toFixed(1)} MB after the warm-up, peak ${peak.toFixed(1)} MB`).toBeLessThan(25);
      expect(spread, `RSS from ${Math.min(...tail).toFixed(1)} to ${Math.max(...tail).toFixed(1)} MB while streaming`).toBeLessThan(10);
      // The absolute figure (under 120 MB) is a goal of `npm run bench:auth-proxy`, not of a test: Node 24's
      // idle process with https loaded holds 51 MB against Node 20's 43 MB, and its peak here went 1 MB over
      // that goal: only growth and flatness are asserted here.
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(143);
    },
  );

  it('SIGTERM: stops accepting, lets the requests in flight finish, exits 143', { timeout: 30_000 }, async () => {
    const e = await endpoint();
    const port = await freePort();
    const p = await startCli(e, ['--listen', `127.0.0.1:${port}`]);
    const size = 20 * 1024 * 1024;
    const sizes: number[] = [];
    let answered = 0;
    const downloads = Array.from({ length: 3 }, () =>
      get(port, `/download?bytes=${size}`, (res) => {
        answered += 1;
        // A slow reader: the answer is still in flight when the signal comes.
        res.pause();
        setTimeout(() => res.resume(), 600);
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => sizes.push(n));
      }),
    );
    while (answered < 3) await new Promise((r) => setTimeout(r, 10));
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const refused = await get(port, '/inventory/managedObjects', (res) => res.resume()).catch((err: NodeJS.ErrnoException) => err.code);
    expect(refused).toBe('ECONNREFUSED');
    await Promise.all(downloads);
    expect(sizes).toEqual([size, size, size]);
    expect(await p.exited).toBe(143);
    expect(p.stderr()).toMatch(/drain +no new connections; 3 request\(s\) in flight/);
  });

  it('--json: one NDJSON access line per request, query values left out; SIGHUP reads the identity again', async () => {
    const e = await endpoint();
    const port = await freePort();
    const p = await startCli(e, ['--listen', `127.0.0.1:${port}`, '--json']);
    await get(port, '/inventory/managedObjects?query=secret-name&pageSize=5', (res) => res.resume());
    p.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(143);
    const lines = p
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.event === 'access')).toMatchObject({ method: 'GET', path: '/inventory/managedObjects?query=&pageSize=', status: 200, retried: false });
    expect(lines.some((l) => l.event === 'reload')).toBe(true);
    expect(p.stdout()).not.toContain('secret-name');
    expect(p.stdout()).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it('a unix socket gets the mode and group asked for', async () => {
    const e = await endpoint();
    const path = join(tempDir(), 'p.sock');
    const gid = process.getgid!();
    const p = await startCli(e, ['--listen', `unix:${path}`, '--socket-mode', '0660', '--socket-group', String(gid)]);
    const st = statSync(path);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(gid);
    const status = await runMain(['status', '--listen', `unix:${path}`, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, service: 'proxy' });
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(143);
  });

  it('HTTPS with client certificates: a client with a certificate of --client-ca gets through, one without is refused in the handshake', async () => {
    const e = await endpoint();
    const port = await freePort();
    const p = await startCli(e, ['--listen', `127.0.0.1:${port}`, '--tls-cert', pki('server.crt'), '--tls-key', pki('server.key'), '--client-ca', pki('device-root-ca.crt')]);
    const ask = (withCert: boolean): Promise<number> =>
      new Promise((resolve, reject) => {
        httpsRequest(
          {
            host: 'localhost',
            port,
            path: '/inventory/managedObjects',
            ca: readFileSync(pki('server-ca.crt')),
            agent: false,
            ...(withCert ? { cert: readFileSync(pki('device-ec256.chain.pem')), key: readFileSync(pki('device-ec256.key')) } : {}),
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
          .on('error', reject)
          .end();
      });
    expect(await ask(true)).toBe(200);
    await expect(ask(false)).rejects.toThrow();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(143);
  });

  const hasActivate = linux && spawnSync('systemd-socket-activate', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasActivate)(
    `socket activation (--listen systemd): serves the socket systemd passes, on TCP and Unix, and leaves it to systemd at exit${hasActivate ? '' : ' (skipped: systemd-socket-activate is not installed)'}`,
    { timeout: 60_000 },
    async () => {
      const e = await endpoint();
      const dir = tempDir();
      const path = join(dir, 'proxy.sock');
      const port = await freePort();
      for (const [listen, where] of [
        [`127.0.0.1:${port}`, { host: '127.0.0.1', port }],
        [path, { socketPath: path }],
      ] as const) {
        // systemd-socket-activate listens, and at the first connection executes the proxy with the socket as fd 3.
        const child = spawn('systemd-socket-activate', ['-l', listen, process.execPath, bin, 'proxy', '--listen', 'systemd', '--url', e.url, ...EC256_DEVICE, '--proxy', 'none'], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        cleanups.push(() => {
          if (child.exitCode === null) child.kill('SIGKILL');
        });
        while (!/Listening on/.test(err)) await new Promise((r) => setTimeout(r, 20));
        const status = await new Promise<number>((resolve, reject) => {
          httpRequest({ ...where, path: '/c8y/inventory/managedObjects', headers: { host: 'localhost' }, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
            .on('error', reject)
            .end();
        });
        expect(status, err).toBe(200);
        const said = listen.startsWith('/') ? /listen +systemd \(unix:.*proxy\.sock\)/ : /listen +systemd \(127\.0\.0\.1:\d+\)/;
        for (let i = 0; i < 100 && !said.test(err); i++) await new Promise((r) => setTimeout(r, 20));
        expect(err).toMatch(said);
        child.kill('SIGTERM');
        expect(await exited).toBe(143);
        if (listen.startsWith('/')) expect(statSync(path).isSocket(), 'the socket unit owns the socket').toBe(true);
      }
    },
  );

  it('--listen systemd without a socket from systemd: exit 3, saying what passes one', async () => {
    const e = await endpoint();
    const run = await runMain(['proxy', '--url', e.url, ...EC256_DEVICE, '--listen', 'systemd']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot listen on systemd \(no socket was passed to this process: it was not started by a systemd socket unit\)/);
    expect(run.stderr).toMatch(/c8ytoken-proxy@DEVICE\.socket/);
  });

  it('refuses to listen off loopback without TLS and client certificates: exit 2, with the reason', async () => {
    const e = await endpoint();
    const run = await runMain(['proxy', '--url', e.url, ...EC256_DEVICE, '--listen', '0.0.0.0:8001']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0:8001/);
    expect(e.requests).toEqual([]);
  });

  it('status: exit 1 for a watch sidecar whose token expired, 5 when no proxy answers', async () => {
    const dir = tempDir();
    const meta = join(dir, 'token.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      meta,
      JSON.stringify({
        issuedAt: '2020-01-01T00:00:00Z',
        expiresAt: '2020-01-01T01:00:00Z',
        refreshAfter: '2020-01-01T00:30:00Z',
        deviceUser: 'device_x',
        certificateNotAfter: '2099-01-01T00:00:00Z',
      }),
      { mode: 0o600 },
    );
    const expired = await runMain(['status', '--meta', meta, '--json']);
    expect(expired.code).toBe(1);
    expect(JSON.parse(expired.stdout)).toMatchObject({ ok: false, service: 'watch', token: { deviceUser: 'device_x' } });
    const nobody = await runMain(['status', '--listen', `127.0.0.1:${await freePort()}`]);
    expect(nobody.code).toBe(5);
    expect(nobody.stderr).toMatch(/No c8ytoken answers at 127\.0\.0\.1:\d+/);
  });

  it('status asks the proxy at C8YTOKEN_LISTEN, and a config file with meta does not turn that into a sidecar read', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'token.json'), JSON.stringify({ expiresAt: '2099-01-01T00:00:00Z', deviceUser: 'device_x' }), { mode: 0o600 });
    writeFileSync(join(dir, '.c8ytokenrc.json'), JSON.stringify({ meta: 'token.json' }), { mode: 0o600 });
    const port = await freePort();
    const run = await runMain(['status'], { cwd: dir, env: { C8YTOKEN_LISTEN: `127.0.0.1:${port}` } });
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toContain(`No c8ytoken answers at 127.0.0.1:${port}`);
  });
});
