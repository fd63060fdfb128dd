/**
 * The proxy of a command: decided once from the settings (--proxy, C8YTOKEN_PROXY and the config file's
 * "proxy", merged by the option table) and the standard variables (HTTPS_PROXY, ALL_PROXY, NO_PROXY), in
 * the documented order: --proxy > C8YTOKEN_PROXY > https_proxy/HTTPS_PROXY > all_proxy/ALL_PROXY > config.
 * The route (the CA of an https:// proxy, the password, the tunnel agent) is built from the decision when
 * a connection is about to be made; https-proxy-agent is loaded only when a proxy is actually used.
 */
import type { Settings } from '../config/settings.js';
import { fromConfigFile } from '../config/merge.js';
import type { WarningSink } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readRegularFile } from '../files/read.js';
import { readCertificates } from '../x509/read.js';
import { givenPassword, warnConfigReadable } from '../credentials/passwords.js';
import { describeProxy, selectProxy, type ProxyDecision } from '../platform/proxy/select.js';
import { redactProxyUrl } from '../platform/proxy/redact.js';
import type { ProxyRoute } from '../platform/proxy/agent.js';

/** Which proxy the connection to `endpoint` goes through, and why; PROXY_INVALID (exit 3) for a bad setting. */
export function decideProxy(settings: Settings, env: NodeJS.ProcessEnv, endpoint: URL): ProxyDecision {
  const r = settings.resolved.proxy;
  // The merge has weighed the flag, the variables (C8YTOKEN_PROXY, then the standard ones) and the config
  // file; the environment is still needed for NO_PROXY.
  return selectProxy({ chosen: r && { value: String(r.value), source: r.source }, env, target: endpoint });
}

/** The route for a decision (undefined: connect directly); --verbose says which proxy and why. */
export async function proxyRoute(settings: Settings, decision: ProxyDecision, io: { progress(message: string): void; warn: WarningSink }): Promise<ProxyRoute | undefined> {
  io.progress(describeProxy(decision));
  if (!decision.proxy) return undefined;
  let proxyCa: string[] | undefined;
  if (settings.proxyCa) {
    if (decision.proxy.protocol === 'https:') {
      proxyCa = readCertificates(await readRegularFile(settings.proxyCa, 'proxy CA', LIMITS.certificateBytes), settings.proxyCa, 'proxy CA').map((c) => c.toString());
    } else {
      io.progress(`proxy CA ${settings.proxyCa} not used: the proxy is reached over plain HTTP`);
    }
  }
  const proxyPassword = await givenPassword(settings.passwords.proxy, io.warn);
  // Said before connecting: the proxy's refusal would otherwise be the first sign of a forgotten password.
  if (decision.proxy.username && !decision.password && proxyPassword === undefined) {
    io.warn(
      `The proxy ${redactProxyUrl(decision.proxy, false)} (from ${decision.source}) names the user "${decision.proxy.username}" but no password is given anywhere (in the URL, --proxy-password-file, C8YTOKEN_PROXY_PASSWORD or the config file): an empty password is sent.`,
    );
  }
  // A password inside the config file's proxy URL is as exposed as proxyPassword there.
  const r = settings.resolved.proxy;
  if (proxyPassword === undefined && decision.password && r && fromConfigFile(r) && decision.source === r.source && settings.configPath) {
    warnConfigReadable(settings.configPath, 'proxy', io.warn);
  }
  const { createProxyRoute } = await import('../platform/proxy/agent.js');
  return createProxyRoute(decision, {
    ...(proxyCa ? { proxyCa, proxyCaSource: settings.proxyCa } : {}),
    ...(proxyPassword !== undefined ? { proxyPassword } : {}),
  });
}
