/**
 * The connections to the tenant: Node's https agent with keep-alive (measured against undici in
 * scripts/bench-auth-proxy.js: the agent keeps Node's own HTTP parser on both sides and adds no
 * dependency), or, through a corporate proxy, https-proxy-agent's pool of CONNECT tunnels with the
 * platform's TLS inside them. Every request goes to the one origin given here: nothing a client sends
 * (Host, an absolute URL) chooses the destination. A new TLS context (renewed certificate, new truststore)
 * gets a new pool; the old one finishes what it carries and is closed.
 */
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Agent, ClientRequest, OutgoingHttpHeaders } from 'node:http';
import type { SecureContext } from 'node:tls';
import { platformTlsOptions } from '../../core/platform/tls.js';
import type { ProxyRoute } from '../../core/platform/proxy/agent.js';

/** Sockets per pool: enough for hundreds of concurrent callers, few enough for the platform's limits. */
const MAX_SOCKETS = 256;
/** Idle upstream connections are closed after this (below the platform's own idle timeouts). */
const FREE_SOCKET_MS = 30_000;

export interface UpstreamRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
}

export class Upstream {
  private agent: Agent | undefined;
  private context: SecureContext | undefined;
  private readonly closer = new AbortController();
  private readonly retired = new Set<Agent>();

  constructor(readonly origin: URL) {}

  /** Uses `context` (and `route`) for new requests from now on. */
  use(context: SecureContext, route: ProxyRoute | undefined): void {
    const old = this.agent;
    this.context = context;
    this.agent = route
      ? route.agent(this.closer.signal, { keepAlive: true, maxSockets: MAX_SOCKETS })
      : new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS, scheduling: 'lifo', timeout: FREE_SOCKET_MS, noDelay: true });
    if (old) this.retire(old);
  }

  get ready(): boolean {
    return this.agent !== undefined;
  }

  /** A request to the tenant; the caller writes the body and listens for its answer. */
  request(r: UpstreamRequest, timeoutMs: number): ClientRequest {
    if (!this.agent || !this.context) throw new Error('upstream used before its TLS context was made');
    const req = httpsRequest({
      protocol: 'https:',
      hostname: this.origin.hostname.replace(/^\[|\]$/g, ''),
      port: Number(this.origin.port || 443),
      path: r.path,
      method: r.method,
      headers: { ...r.headers, host: this.origin.host },
      agent: this.agent,
      ...platformTlsOptions(this.origin, this.context),
    });
    // No answer headers within the limit: the request fails (502/504 to the caller), the socket is not reused.
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })));
    return req;
  }

  /** An old pool: its free sockets closed now, the rest once their requests are done (at most a minute). */
  private retire(agent: Agent): void {
    this.retired.add(agent);
    for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
    setTimeout(() => {
      agent.destroy();
      this.retired.delete(agent);
    }, 60_000).unref();
  }

  close(): void {
    this.agent?.destroy();
    for (const a of this.retired) a.destroy();
    this.closer.abort();
  }
}
