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
import { isTokenKey, keyTypeLabel, publicKeyOf, type ClientIdentity } from '../../core/credentials/identity.js';
import type { TokenKey } from '../../core/credentials/pkcs11.js';
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
import { tokenTimes } from '../../core/token/jwt.js';
import { isoSeconds } from '../../core/time/iso.js';
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

/** A step's finding: its check(s), and what the steps after it need (absent when the step failed). */
interface Step<T> {
  checks: DoctorCheck[];
  value?: T;
}

const passed = <T>(check: DoctorCheck, value: T): Step<T> => ({ checks: [check], value });
const failure = (id: string, title: string, err: unknown, details: string[] = []): DoctorCheck => ({ id, title, verdict: 'fail', details, error: asC8y(err) });
const skipped = (steps: readonly (readonly [string, string])[], because: string): DoctorCheck[] => steps.map(([id, title]) => ({ id, title, verdict: 'skip', details: [`skipped: ${because}`] }));

/** Runs every step it can; never throws for what it checks (a bad flag is a usage error, as for every command). */
export async function doctorCommand(io: DoctorIo): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  // The chain as verify-chain built it, for the picture, once the chain step has run.
  const found: { chain?: ChainReport | undefined } = {};
  const report = (): DoctorReport => ({ checks, ...(found.chain ? { chain: found.chain } : {}), ok: checks.every((c) => c.verdict !== 'fail') });
  /** Records a step's checks and hands on its value. */
  const take = <T>(step: Step<T>): T | undefined => (checks.push(...step.checks), step.value);

  const settings = take(await settingsStep(io));
  if (!settings) return (checks.push(...skipped(REST, 'the settings cannot be read')), report());
  take(await filesStep(settings));
  const passwords = new PasswordBook(settings.passwords, io.prompt, io.warn);
  const identity = take(await identityStep(settings, passwords, io));
  found.chain = identity ? take(await chainStep(settings, identity, io.now())) : take({ checks: skipped([['chain', 'Certificate chain']], 'the identity could not be loaded') });
  const trust = take(await trustStep(settings, passwords, io));

  const endpoint = settings.endpoint;
  if (!endpoint) return (checks.push({ id: 'url', title: 'Tenant URL', verdict: 'fail', details: [], error: new C8yError('NO_URL') }, ...skipped(NETWORK, 'no tenant URL')), report());
  const proxy = take(await proxyStep(settings, endpoint, io));
  if (!proxy) return (checks.push(...skipped(NETWORK.slice(1), 'the proxy setting is not valid')), report());
  // DNS and TCP go to the proxy when there is one, TLS through its tunnel.
  const via = proxy.decision.proxy;
  const host = via ? via.hostname : endpoint.hostname;
  const port = via ? Number(via.port || (via.protocol === 'https:' ? 443 : 80)) : Number(endpoint.port || 443);
  if (!take(await dnsStep(host, endpoint, proxy.route))) return (checks.push(...skipped(NETWORK.slice(2), 'the host name does not resolve')), report());
  if (!take(await tcpStep(host, port, endpoint, proxy.route, settings.timeoutMs))) return (checks.push(...skipped(NETWORK.slice(3), `nothing answers on port ${port}`)), report());
  if (!identity || !trust) return (checks.push(...skipped(NETWORK.slice(3), identity ? 'the trust could not be loaded' : 'the identity could not be loaded')), report());
  const tls = take(await tlsStep(settings, endpoint, identity, trust, proxy.route, io));
  if (!tls) return (checks.push(...skipped(NETWORK.slice(4), 'the TLS handshake failed')), report());
  take(await tokenStep(settings, identity, passwords, tls, io));
  return report();
}

/** 1. Settings: which config file, which profile, where the URL and the credentials came from. */
async function settingsStep(io: DoctorIo): Promise<Step<Settings>> {
  try {
    const settings = await loadSettings({ flags: io.flags, env: io.env, cwd: io.cwd, warn: io.warn });
    const where = settings.configPath ? `config file ${settings.configPath}${settings.profile ? `, profile ${settings.profile}` : ''}` : 'no config file: settings from flags and environment';
    return passed({ id: 'config', title: 'Settings', verdict: 'pass', details: [where, ...sourceLines(settings)] }, settings);
  } catch (err) {
    // A bad flag is the command line's problem, as for every other command: exit 2, not a failed step.
    if (err instanceof C8yError && err.code === 'USAGE') throw err;
    return { checks: [failure('config', 'Settings', err)] };
  }
}

/** 2. Files: every configured file is there and readable. */
async function filesStep(settings: Settings): Promise<Step<true>> {
  const lines: string[] = [];
  let fileError: unknown;
  for (const [file, role] of configuredFiles(settings)) {
    try {
      // A password pipe (<(pass show NAME)) gives its content once: the identity step reads it.
      if (role.endsWith('password') && (await stat(file).catch(() => undefined))?.isFIFO()) {
        lines.push(`${role} ${file}: a pipe, read when the password is needed`);
        continue;
      }
      const data = await readRegularFile(file, role, LIMITS.keystoreBytes);
      lines.push(`${role} ${file}: readable, ${data.length} bytes`);
    } catch (err) {
      fileError ??= err;
    }
  }
  if (!settings.cert && !settings.keystore) return { checks: [failure('files', 'Files', new C8yError('NO_CREDENTIALS'), lines)] };
  if (fileError) return { checks: [failure('files', 'Files', fileError, lines)] };
  return passed({ id: 'files', title: 'Files', verdict: 'pass', details: lines }, true);
}

/** 3. Identity: the key and the certificates load, and belong together. */
async function identityStep(settings: Settings, passwords: PasswordBook, io: DoctorIo): Promise<Step<ClientIdentity>> {
  try {
    const identity = await loadIdentityWithProgress(settings, passwords, io);
    const leaf = identity.chain[0]!;
    const key = identity.key;
    const details = isTokenKey(key)
      ? [
          `certificate ${identity.source}; key in a PKCS#11 token: ${tokenLabel(key)}, module ${key.module}, engine ${key.engine.path}`,
          `the token signed a challenge that the certificate's ${keyTypeLabel(key)} key verifies: the key belongs to "${subjectCn(leaf)}"`,
          `device user on the platform: device_${subjectCn(leaf)}`,
        ]
      : [
          `${settings.keystore ? `keystore ${identity.source}` : `PEM ${identity.source}`}: ${keyTypeLabel(key)} key matching "${subjectCn(leaf)}"`,
          `device user on the platform: device_${subjectCn(leaf)}`,
        ];
    return passed({ id: 'identity', title: 'Device identity', verdict: 'pass', details }, identity);
  } catch (err) {
    return { checks: [failure('identity', 'Device identity', err)] };
  }
}

/** 4. The chain: verify-chain's checks, as they are. */
async function chainStep(settings: Settings, identity: ClientIdentity, now: number): Promise<Step<ChainReport>> {
  const anchors = settings.deviceCa ? await readAnchors(settings.deviceCa).catch(() => undefined) : undefined;
  const leaf = identity.chain[0]!;
  const chain = verifyChain({ leaf, others: [...identity.chain.slice(1), ...identity.extra], key: publicKeyOf(identity.key), anchors, at: now, chainHeader: settings.chainHeader });
  const days = Math.floor((Date.parse(leaf.validTo) - now) / DAY);
  const checks: DoctorCheck[] = [];
  for (const c of chain.checks) {
    if (c.id === 'key-match') continue; // the identity step checked it
    const details = c.id === 'leaf-expiry' && c.verdict !== 'skip' ? [`valid until ${isoSeconds(leaf.validTo)}: ${days} day(s) left`] : c.problems;
    checks.push({ id: `chain.${c.id}`, title: c.title, verdict: c.verdict === 'info' ? 'pass' : c.verdict, details, ...(c.fix ? { fix: c.fix } : {}) });
  }
  return { checks, value: chain };
}

/** 5. Trust in the platform's certificate. */
async function trustStep(settings: Settings, passwords: PasswordBook, io: DoctorIo): Promise<Step<Trust>> {
  try {
    const trust = await loadTrustWithProgress(settings, passwords, io);
    return passed(
      { id: 'trust', title: 'Trust in the platform certificate', verdict: 'pass', details: [trust.cas ? `truststore ${trust.source}: ${trust.cas.length} CA certificate(s)` : trust.source] },
      trust,
    );
  } catch (err) {
    return { checks: [failure('trust', 'Trust in the platform certificate', err)] };
  }
}

/** 6. The proxy: which one (and why), or why none. */
async function proxyStep(settings: Settings, endpoint: URL, io: DoctorIo): Promise<Step<{ decision: ProxyDecision; route: ProxyRoute | undefined }>> {
  try {
    const decision = decideProxy(settings, io.env, endpoint);
    const route = await proxyRoute(settings, decision, io);
    return passed({ id: 'proxy', title: 'Proxy', verdict: 'pass', details: [describeProxy(decision)] }, { decision, route });
  } catch (err) {
    return { checks: [failure('proxy', 'Proxy', err)] };
  }
}

/** 7. DNS: the platform's host, or the proxy's. */
async function dnsStep(host: string, endpoint: URL, route: ProxyRoute | undefined): Promise<Step<true>> {
  const { resolveHost } = await import('../../core/platform/reach.js');
  try {
    const addresses = await resolveHost(host);
    return passed({ id: 'dns', title: `DNS: ${host}${route ? ' (the proxy)' : ''}`, verdict: 'pass', details: [`resolves to ${addresses.join(', ')}`] }, true);
  } catch (err) {
    const error = route
      ? proxyConnectionError(err as Error, route, tunnelTarget(endpoint))
      : new C8yError('DNS_FAILED', { host, url: endpoint.href, nodeCode: (err as NodeJS.ErrnoException).code ?? '' }, { cause: err });
    return { checks: [failure('dns', `DNS: ${host}`, error)] };
  }
}

/** 8. TCP: the port of the platform, or of the proxy. */
async function tcpStep(host: string, port: number, endpoint: URL, route: ProxyRoute | undefined, timeoutMs: number): Promise<Step<true>> {
  const { connectTcp } = await import('../../core/platform/reach.js');
  const title = `TCP: port ${port}${route ? ' of the proxy' : ''}`;
  try {
    const ms = await connectTcp(host, port, timeoutMs);
    return passed({ id: 'tcp', title, verdict: 'pass', details: [`connected in ${ms} ms`] }, true);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Through a proxy, a refused connection is the proxy's: its words, its setting, and how to bypass it.
    const error = route
      ? proxyConnectionError(err as Error, route, tunnelTarget(endpoint))
      : new C8yError(
          code === 'ECONNREFUSED' ? 'CONNECTION_REFUSED' : code === 'ETIMEDOUT' ? 'TIMEOUT' : 'NETWORK_FAILED',
          { url: endpoint.href, host, port: String(port), stage: 'connect', timeoutMs, ...(code ? { nodeCode: code } : {}) },
          { cause: err },
        );
    return { checks: [failure('tcp', title, error)] };
  }
}

/** What the TLS step hands the token step: the probe's result, its check (the token may settle it), and the TLS setup to reuse. */
interface TlsFound {
  handshake: HandshakeResult;
  check: DoctorCheck;
  prepared: PreparedTls;
}

/** 9. The TLS handshake: the server's certificate trusted, the device certificate accepted (when the handshake can tell). */
async function tlsStep(settings: Settings, endpoint: URL, identity: ClientIdentity, trust: Trust, route: ProxyRoute | undefined, io: DoctorIo): Promise<Step<TlsFound>> {
  const [{ probeHandshake }, { deviceSecureContext }] = await Promise.all([import('../../core/platform/handshake.js'), import('../../core/platform/tls.js')]);
  try {
    // One TLS setup (trust, context, proxy route) for the handshake probe and the token request.
    const prepared: PreparedTls = { trust, context: deviceSecureContext(identity, trust), proxy: route };
    const handshake = await probeHandshake(endpoint, identity, trust, settings.timeoutMs, route, prepared.context, () => io.now());
    const check = handshakeCheck(handshake);
    return check.verdict === 'fail' ? { checks: [check] } : { checks: [check], value: { handshake, check, prepared } };
  } catch (err) {
    return { checks: [failure('tls', 'TLS handshake', err)] };
  }
}

/** 10 and 11. The token request, and the clock compared with the platform's answer. */
async function tokenStep(settings: Settings, identity: ClientIdentity, passwords: PasswordBook, tls: TlsFound, io: DoctorIo): Promise<Step<true>> {
  let fetched: FetchedToken;
  try {
    fetched = await requestToken(settings, identity, passwords, io, undefined, tls.prepared);
  } catch (err) {
    // The handshake could not tell; the refusal below is the answer, so the TLS step claims nothing more.
    if (tls.handshake.clientVerdict === 'unknown') tls.check.details.push('the token request below answers whether the device certificate is accepted');
    return { checks: [failure('token', 'Token request', err), ...skipped([['clock', 'Clock']], 'no answer from the platform to compare with')] };
  }
  if (tls.handshake.clientVerdict === 'unknown') {
    // A token is the evidence the handshake could not give.
    tls.check.verdict = 'pass';
    tls.check.details[tls.check.details.length - 1] = 'device certificate accepted: the platform issued a token with it';
    delete tls.check.fix;
  }
  const t = tokenTimes(fetched.token.claims);
  const claims = fetched.token.claims;
  const token: DoctorCheck = {
    id: 'token',
    title: 'Token request',
    verdict: 'pass',
    details: [
      `HTTP 200: a token for ${String(claims.sub)} on tenant ${String(claims.ten)}`,
      `lifetime ${t.lifetimeSeconds !== undefined ? `${Math.round(t.lifetimeSeconds / 60)} min` : 'unknown'}, expires ${t.expiresAt !== undefined ? isoSeconds(t.expiresAt * 1000) : 'never'}, new token possible from ${t.refreshAfter !== undefined ? isoSeconds(t.refreshAfter * 1000) : 'unknown'}`,
    ],
  };
  return { checks: [token, clockCheck(fetched, t.lifetimeSeconds)], value: true };
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

/** "token "dev", object "device"": which token and key a URI names (never the PIN). */
function tokenLabel(key: TokenKey): string {
  const { token, object, id } = key.uri;
  return [
    token !== undefined ? `token "${token}"` : 'any token',
    object !== undefined ? `object "${object}"` : undefined,
    id !== undefined ? `id ${key.uri.attributes.find(([n]) => n === 'id')![1]}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

/** Every file the settings name, with what it is. */
function configuredFiles(settings: Settings): [string, FileRole][] {
  const p = settings.passwords;
  const files: [string | undefined, FileRole][] = [
    [settings.cert, 'certificate'],
    // A key in a token is no file; its PIN may be (pin-source).
    settings.pkcs11 ? [settings.pkcs11.uri.pinSource, 'key password'] : [settings.key, 'key'],
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
