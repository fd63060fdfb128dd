/**
 * The CONNECT tunnel, by https-proxy-agent (maintained and widely used) rather than CONNECT written by hand.
 * The agent's own options reach only the connection to the proxy (its CA, the Proxy-Authorization
 * header); the TLS options of each request (client key and chain, truststore, SNI) reach the platform
 * through the tunnel, so mutual TLS stays end to end and the proxy sees neither token nor key.
 * The library is loaded only here, and only when a proxy is actually used.
 */
import type { Agent } from 'node:http';
import * as tls from 'node:tls';
import type { ProxyInfo } from './failures.js';
import type { ProxyDecision } from './select.js';
import { redactProxyUrl } from './redact.js';

export interface ProxyAgentOptions {
  /** CA certificates (PEM) that sign an https:// proxy's certificate; default: the system's root CAs. */
  proxyCa?: (Buffer | string)[];
  /** The proxy password (from --proxy-password-file); wins over a password in the URL. */
  proxyPassword?: string;
  /** Where proxyCa came from, for messages (e.g. the --proxy-ca path). */
  proxyCaSource?: string;
}

/** A decided proxy, ready to open tunnels: what postTokenRequest and probeHandshake take. */
export interface ProxyRoute extends ProxyInfo {
  /**
   * A fresh agent for one request; aborting `signal` closes its connection to the proxy, even mid-CONNECT.
   * `keepAlive`: a pool whose tunnels are kept and reused (the auth proxy's upstream).
   */
  agent(signal: AbortSignal, pool?: { keepAlive: true; maxSockets?: number }): Agent;
}

/** The route for a decision, or undefined when the decision is to connect directly. Loads https-proxy-agent. */
export async function createProxyRoute(decision: ProxyDecision, options: ProxyAgentOptions = {}): Promise<ProxyRoute | undefined> {
  const proxy = decision.proxy;
  if (!proxy) return undefined;
  const { HttpsProxyAgent } = await import('https-proxy-agent');
  const password = options.proxyPassword ?? decision.password?.reveal();
  const headers: Record<string, string> = {};
  if (proxy.username || password) {
    const user = decodeURIComponent(proxy.username);
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`;
  }
  const isTls = proxy.protocol === 'https:';
  // One TLS context for the proxy's own certificate, made once for the route: watch opens a tunnel at
  // every refresh, and a context of a few hundred roots made for each would be memory churned each time.
  const ca = isTls ? (options.proxyCa ?? systemRoots()) : undefined;
  const proxyContext = ca ? tls.createSecureContext({ ca }) : undefined;
  const shown = redactProxyUrl(proxy, password !== undefined && password !== '');
  // The library would build its own header from a user in the URL (with an empty password); it gets the
  // bare address, so the header above is the only one, and the URL it holds (and would print under
  // DEBUG=https-proxy-agent) carries no credentials.
  const address = new URL(`${proxy.protocol}//${proxy.host}`);
  return {
    shown,
    source: decision.source,
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    credentials: Object.keys(headers).length > 0,
    tls: isTls,
    trustSource: options.proxyCa ? (options.proxyCaSource ?? '--proxy-ca') : "the system's root CAs",
    agent: (signal, pool) =>
      new HttpsProxyAgent(address, {
        ...pool,
        headers,
        signal,
        ...(proxyContext ? { secureContext: proxyContext } : {}),
        // Checked as any https server is: by name (SNI set from the proxy host) and chain.
        rejectUnauthorized: true,
      }),
  };
}

/**
 * The system's root CAs, where this Node can read them (22.15 and later), added to Node's bundled ones:
 * a corporate proxy's CA usually lives in the operating system's store. Older Node: undefined, that is
 * Node's default store (bundled roots plus NODE_EXTRA_CA_CERTS).
 */
function systemRoots(): string[] | undefined {
  const get = (tls as { getCACertificates?: (kind: string) => string[] }).getCACertificates;
  if (!get) return undefined;
  try {
    return [...get('default'), ...get('system')];
  } catch {
    return undefined;
  }
}
