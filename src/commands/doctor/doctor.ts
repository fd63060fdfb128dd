/**
 * `c8ytoken doctor`: walks the whole path a token takes and stops guessing: config, files, identity,
 * the chain (verify-chain's checks), trust, DNS, TCP, the TLS handshake, the token request and the
 * clock. Each step passes, warns, fails (with the fix) or is skipped because an earlier one failed.
 * It reuses the settings, identity, trust, chain checks and token source of the other commands.
 */
import { stat } from 'node:fs/promises';
import { C8yError, type FileRole } from '../../core/errors.js';
import { loadSettings, type GivenFlags, type Settings } from '../../core/config/settings.js';
import { PasswordBook } from '../../core/credentials/passwords.js';
import type { ClientIdentity } from '../../core/credentials/identity.js';
import type { Trust } from '../../core/credentials/truststore.js';
import { LIMITS } from '../../core/limits.js';
import { readRegularFile } from '../../core/files/read.js';
import { readCertificates } from '../../core/x509/read.js';
import { subjectCn } from '../../core/x509/names.js';
import { verifyChain, type ChainReport } from '../../core/chain/verify.js';
import type { HandshakeResult } from '../../core/platform/handshake.js';
import { describeProxy, type ProxyDecision } from '../../core/platform/proxy/select.js';
import type { ProxyRoute } from '../../core/platform/proxy/agent.js';
import { proxyConnectionError } from '../../core/platform/proxy/failures.js';
import { tunnelTarget } from '../../core/platform/proxy/watch.js';
import { decideProxy, proxyRoute } from '../../core/token/proxy.js';
import { loadIdentityWithProgress, loadTrustWithProgress, requestToken, type FetchedToken, type PreparedTls } from '../../core/token/source.js';
import { isoTime, tokenTimes } from '../../core/token/jwt.js';
import { SKEW_WARNING_MS } from '../../core/token/clock.js';
import { formatDuration } from '../../core/time/duration.js';
import type { CommandIo } from '../command.js';

export type DoctorVerdict = 'pass' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  id: string;
  title: string;
  verdict: DoctorVerdict;
  /** What was found, one line each. */
  details: string[];
  /** For a failure or warning: what to do. */
  fix?: string;
  /** The error behind a failure, for its words (the output layer says them). */
  error?: C8yError;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  /** The chain as verify-chain built it, for the picture. */
  chain?: ChainReport;
  ok: boolean;
}

export interface DoctorIo extends CommandIo {
  /** The flags the user gave (doctor loads the settings itself, so a broken config is a finding). */
  flags: GivenFlags;
}

const DAY = 86_400_000;

/** Runs every step it can; never throws for what it checks. */
export async function doctorCommand(io: DoctorIo): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck): DoctorCheck => (checks.push(c), c);
  const failed = (id: string, title: string, err: unknown): DoctorCheck => add({ id, title, verdict: 'fail', details: [], error: asC8y(err) });
  const skip = (id: string, title: string, because: string): void => void add({ id, title, verdict: 'skip', details: [`skipped: ${because}`] });
  const report = (): DoctorReport => ({ checks, ...(chain ? { chain } : {}), ok: checks.every((c) => c.verdict !== 'fail') });
  let chain: ChainReport | undefined;

  // 1. Settings: which config file, which profile.
  let settings: Settings;
  try {
    settings = await loadSettings({ flags: io.flags, env: io.env, cwd: io.cwd, warn: io.warn });
    add({
      id: 'config',
      title: 'Settings',
      verdict: 'pass',
      details: [
        settings.configPath ? `config file ${settings.configPath}${settings.profile ? `, profile ${settings.profile}` : ''}` : 'no config file: settings from flags and environment',
        ...sourceLines(settings),
      ],
    });
  } catch (err) {
    // A bad flag is the command line's problem, as for every other command: exit 2, not a failed step.
    if (err instanceof C8yError && err.code === 'USAGE') throw err;
    failed('config', 'Settings', err);
    for (const [id, title] of REST) skip(id, title, 'the settings cannot be read');
    return report();
  }

  // 2. Files: every configured file is there and readable.
  const files = configuredFiles(settings);
  const fileLines: string[] = [];
  let fileError: unknown;
  for (const [file, role] of files) {
    try {
      // A password pipe (<(pass show NAME)) gives its content once: the identity step reads it.
      if (role.endsWith('password') && (await stat(file).catch(() => undefined))?.isFIFO()) {
        fileLines.push(`${role} ${file}: a pipe, read when the password is needed`);
        continue;
      }
      const data = await readRegularFile(file, role, LIMITS.keystoreBytes);
      fileLines.push(`${role} ${file}: readable, ${data.length} bytes`);
    } catch (err) {
      fileError ??= err;
    }
  }
  if (!settings.cert && !settings.keystore) add({ id: 'files', title: 'Files', verdict: 'fail', details: fileLines, error: new C8yError('NO_CREDENTIALS') });
  else if (fileError) add({ id: 'files', title: 'Files', verdict: 'fail', details: fileLines, error: asC8y(fileError) });
  else add({ id: 'files', title: 'Files', verdict: 'pass', details: fileLines });

  // 3. Identity: the key and the certificates load, and belong together.
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  let identity: ClientIdentity | undefined;
  try {
    identity = await loadIdentityWithProgress(settings, passwords, io);
    const leaf = identity.chain[0]!;
    add({
      id: 'identity',
      title: 'Device identity',
      verdict: 'pass',
      details: [
        `${settings.keystore ? `keystore ${identity.source}` : `PEM ${identity.source}`}: ${identity.key.asymmetricKeyType?.toUpperCase() ?? 'unknown'} key matching "${subjectCn(leaf)}"`,
        `device user on the platform: device_${subjectCn(leaf)}`,
      ],
    });
  } catch (err) {
    failed('identity', 'Device identity', err);
  }

  // 4. The chain: verify-chain's checks, as they are.
  if (identity) {
    const anchors = settings.deviceCa ? await readAnchors(settings.deviceCa).catch(() => undefined) : undefined;
    const leaf = identity.chain[0]!;
    chain = verifyChain({ leaf, others: [...identity.chain.slice(1), ...identity.extra], key: identity.key, anchors, at: io.now(), chainHeader: settings.chainHeader });
    const days = Math.floor((Date.parse(leaf.validTo) - io.now()) / DAY);
    for (const c of chain.checks) {
      if (c.id === 'key-match') continue; // the identity step checked it
      const details = c.id === 'leaf-expiry' && c.verdict !== 'skip' ? [`valid until ${new Date(leaf.validTo).toISOString()}: ${days} day(s) left`] : c.problems;
      const check: DoctorCheck = { id: `chain.${c.id}`, title: c.title, verdict: c.verdict === 'info' ? 'pass' : c.verdict, details };
      if (c.fix) check.fix = c.fix;
      add(check);
    }
  } else {
    skip('chain', 'Certificate chain', 'the identity could not be loaded');
  }

  // 5. Trust in the platform's certificate.
  let trust: Trust | undefined;
  try {
    trust = await loadTrustWithProgress(settings, passwords, io);
    add({ id: 'trust', title: 'Trust in the platform certificate', verdict: 'pass', details: [trust.cas ? `truststore ${trust.source}: ${trust.cas.length} CA certificate(s)` : trust.source] });
  } catch (err) {
    failed('trust', 'Trust in the platform certificate', err);
  }

  // 6-9. The network: DNS, TCP, TLS, the token.
  const endpoint = settings.endpoint;
  if (!endpoint) {
    add({ id: 'url', title: 'Tenant URL', verdict: 'fail', details: [], error: new C8yError('NO_URL') });
    for (const [id, title] of NETWORK) skip(id, title, 'no tenant URL');
    return report();
  }
  // The proxy: which one (and why), or why none; DNS and TCP then go to the proxy, TLS through its tunnel.
  let decision: ProxyDecision;
  let route: ProxyRoute | undefined;
  try {
    decision = decideProxy(settings, io.env, endpoint);
    route = await proxyRoute(settings, decision, io);
    add({ id: 'proxy', title: 'Proxy', verdict: 'pass', details: [describeProxy(decision)] });
  } catch (err) {
    failed('proxy', 'Proxy', err);
    for (const [id, title] of NETWORK) skip(id, title, 'the proxy setting is not valid');
    return report();
  }
  const via = decision.proxy;
  const host = via ? via.hostname : endpoint.hostname;
  const port = via ? Number(via.port || (via.protocol === 'https:' ? 443 : 80)) : Number(endpoint.port || 443);
  const { resolveHost, connectTcp } = await import('../../core/platform/reach.js');
  try {
    const addresses = await resolveHost(host);
    add({ id: 'dns', title: `DNS: ${host}${via ? ' (the proxy)' : ''}`, verdict: 'pass', details: [`resolves to ${addresses.join(', ')}`] });
  } catch (err) {
    failed(
      'dns',
      `DNS: ${host}`,
      route
        ? proxyConnectionError(err as Error, route, tunnelTarget(endpoint))
        : new C8yError('DNS_FAILED', { host, url: endpoint.href, nodeCode: (err as NodeJS.ErrnoException).code ?? '' }, { cause: err }),
    );
    for (const [id, title] of NETWORK.slice(2)) skip(id, title, 'the host name does not resolve');
    return report();
  }
  try {
    const ms = await connectTcp(host, port, settings.timeoutMs);
    add({ id: 'tcp', title: `TCP: port ${port}${via ? ' of the proxy' : ''}`, verdict: 'pass', details: [`connected in ${ms} ms`] });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    failed(
      'tcp',
      `TCP: port ${port}${via ? ' of the proxy' : ''}`,
      // Through a proxy, a refused connection is the proxy's: its words, its setting, and how to bypass it.
      route
        ? proxyConnectionError(err as Error, route, tunnelTarget(endpoint))
        : new C8yError(
            code === 'ECONNREFUSED' ? 'CONNECTION_REFUSED' : code === 'ETIMEDOUT' ? 'TIMEOUT' : 'NETWORK_FAILED',
            { url: endpoint.href, host, port: String(port), stage: 'connect', timeoutMs: settings.timeoutMs, ...(code ? { nodeCode: code } : {}) },
            { cause: err },
          ),
    );
    for (const [id, title] of NETWORK.slice(3)) skip(id, title, `nothing answers on port ${port}`);
    return report();
  }
  if (!identity || !trust) {
    for (const [id, title] of NETWORK.slice(3)) skip(id, title, identity ? 'the trust could not be loaded' : 'the identity could not be loaded');
    return report();
  }
  const [{ probeHandshake }, { deviceSecureContext }] = await Promise.all([import('../../core/platform/handshake.js'), import('../../core/platform/tls.js')]);
  let handshake: HandshakeResult;
  // One TLS setup (trust, context, proxy route) for the handshake probe and the token request.
  let prepared: PreparedTls;
  try {
    prepared = { trust, context: deviceSecureContext(identity, trust), proxy: route };
    handshake = await probeHandshake(endpoint, identity, trust, settings.timeoutMs, route, prepared.context, () => io.now());
  } catch (err) {
    failed('tls', 'TLS handshake', err);
    for (const [id, title] of NETWORK.slice(4)) skip(id, title, 'the TLS handshake failed');
    return report();
  }
  const tls = handshakeCheck(handshake);
  add(tls);
  if (tls.verdict === 'fail') {
    for (const [id, title] of NETWORK.slice(4)) skip(id, title, 'the TLS handshake failed');
    return report();
  }
  let fetched: FetchedToken;
  try {
    fetched = await requestToken(settings, identity, passwords, io, undefined, prepared);
  } catch (err) {
    failed('token', 'Token request', err);
    // The handshake could not tell; the refusal below is the answer, so the TLS step claims nothing more.
    if (handshake.clientVerdict === 'unknown') tls.details.push('the token request below answers whether the device certificate is accepted');
    skip('clock', 'Clock', 'no answer from the platform to compare with');
    return report();
  }
  if (handshake.clientVerdict === 'unknown') {
    // A token is the evidence the handshake could not give.
    tls.verdict = 'pass';
    tls.details[tls.details.length - 1] = 'device certificate accepted: the platform issued a token with it';
    delete tls.fix;
  }
  const t = tokenTimes(fetched.token.claims);
  const claims = fetched.token.claims;
  add({
    id: 'token',
    title: 'Token request',
    verdict: 'pass',
    details: [
      `HTTP 200: a token for ${String(claims.sub)} on tenant ${String(claims.ten)}`,
      `lifetime ${t.lifetimeSeconds !== undefined ? `${Math.round(t.lifetimeSeconds / 60)} min` : 'unknown'}, expires ${isoTime(t.expiresAt) ?? 'never'}, new token possible from ${isoTime(t.refreshAfter) ?? 'unknown'}`,
    ],
  });
  add(clockCheck(fetched, t.lifetimeSeconds));
  return report();
}

const NETWORK: readonly [string, string][] = [
  ['proxy', 'Proxy'],
  ['dns', 'DNS'],
  ['tcp', 'TCP'],
  ['tls', 'TLS handshake'],
  ['token', 'Token request'],
  ['clock', 'Clock'],
];
const REST: readonly [string, string][] = [['files', 'Files'], ['identity', 'Device identity'], ['chain', 'Certificate chain'], ['trust', 'Trust in the platform certificate'], ...NETWORK];

function asC8y(err: unknown): C8yError {
  return err instanceof C8yError ? err : new C8yError('INTERNAL', { detail: String((err as Error)?.message ?? err) }, { cause: err });
}

/** Every file the settings name, with what it is. */
function configuredFiles(settings: Settings): [string, FileRole][] {
  const p = settings.passwords;
  const files: [string | undefined, FileRole][] = [
    [settings.cert, 'certificate'],
    [settings.key, 'key'],
    [settings.keystore?.path, 'keystore'],
    [settings.truststore, 'truststore'],
    [settings.deviceCa, 'device CA'],
    ...(['key', 'keystore', 'truststore'] as const).flatMap((r): [string | undefined, FileRole][] => [
      [p[r].flagFile, `${r} password`],
      [p[r].configFile, `${r} password`],
    ]),
  ];
  return files.filter((f): f is [string, FileRole] => f[0] !== undefined);
}

/** Where the URL and the credentials came from (flag, variable, config key). */
function sourceLines(settings: Settings): string[] {
  const r = settings.resolved;
  return (['url', 'cert', 'key', 'keystore', 'truststore', 'deviceCa'] as const).filter((k) => r[k] && r[k].level > 0).map((k) => `${k}: ${String(r[k]!.value)} (from ${r[k]!.source})`);
}

async function readAnchors(path: string) {
  return readCertificates(await readRegularFile(path, 'device CA', LIMITS.certificateBytes), path, 'device CA');
}

function handshakeCheck(h: HandshakeResult): DoctorCheck {
  const details: string[] = [];
  if (h.proxyProblem) return { id: 'tls', title: 'TLS handshake', verdict: 'fail', details: [], error: new C8yError(h.proxyProblem.code, h.proxyProblem.facts) };
  if (h.proxy) details.push(`through the proxy ${h.proxy}`);
  if (h.networkProblem)
    return { id: 'tls', title: 'TLS handshake', verdict: 'fail', details: [h.networkProblem], fix: 'Check that nothing between this device and the platform cuts TLS on this port.' };
  details.push(
    `server certificate ${h.serverTrusted ? 'trusted' : 'NOT trusted'} by ${h.trustSource}${h.serverSubject ? ` (${h.serverSubject})` : ''}${h.serverProblem ? `: ${h.serverProblem}` : ''}`,
  );
  if (h.tlsVersion) details.push(`protocol ${h.tlsVersion}`);
  if (!h.serverTrusted)
    return { id: 'tls', title: 'TLS handshake', verdict: 'fail', details, fix: 'Give the CA that signs the platform certificate with --truststore (a truststore replaces the built-in roots).' };
  const title = 'TLS handshake';
  switch (h.clientVerdict) {
    case 'accepted':
      details.push(`device certificate accepted: ${h.clientEvidence ?? ''}`);
      return { id: 'tls', title, verdict: 'pass', details };
    case 'unknown':
      details.push(`device certificate acceptance unknown: ${h.clientProblem ?? ''}`);
      return { id: 'tls', title, verdict: 'warn', details, fix: 'The token request decides: a token means the certificate is accepted.' };
    default: {
      details.push(`device certificate rejected: ${h.clientProblem ?? 'the server closed the connection'}`);
      const refusal = h.refusal ? new C8yError(h.refusal.code, h.refusal.facts) : undefined;
      return {
        id: 'tls',
        title,
        verdict: 'fail',
        details,
        ...(refusal ? { error: refusal } : { fix: 'Upload the device CA to the tenant (with auto-registration), or register the device for certificate authentication; check the chain above.' }),
      };
    }
  }
}

function clockCheck(fetched: FetchedToken, lifetimeSeconds: number | undefined): DoctorCheck {
  const offset = fetched.offset;
  if (!offset) return { id: 'clock', title: 'Clock', verdict: 'warn', details: ['the platform sent no Date header: the clock cannot be compared'] };
  const abs = Math.abs(offset.offsetMs);
  const side = offset.offsetMs > 0 ? 'behind' : 'ahead of';
  const text = abs < 1000 ? "this device's clock agrees with the platform's" : `this device's clock is ${formatDuration(abs)} ${side} the platform's (from its ${offset.basis})`;
  if (lifetimeSeconds !== undefined && abs > lifetimeSeconds * 1000)
    return {
      id: 'clock',
      title: 'Clock',
      verdict: 'fail',
      details: [text, 'more than a token lifetime: tokens look expired or not yet valid to programs on this device'],
      fix: 'Fix the time synchronisation (NTP: timedatectl set-ntp true).',
    };
  if (abs > SKEW_WARNING_MS) return { id: 'clock', title: 'Clock', verdict: 'warn', details: [text], fix: 'Fix the time synchronisation (NTP: timedatectl set-ntp true).' };
  return { id: 'clock', title: 'Clock', verdict: 'pass', details: [text] };
}
