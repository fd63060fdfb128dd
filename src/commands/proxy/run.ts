/** Runs `proxy`: the typed options once, then the log (access lines, token events) until SIGTERM. */
import { C8yError } from '../../core/errors.js';
import { parseListen } from '../../core/config/listen.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';
import { proxyCommand, type ProxyOptions } from './proxy.js';
import { proxyEventJson, renderProxyEvent } from './output.js';
import { streamedCollector } from './memory.js';

/** --require-header NAME or NAME:VALUE. */
function requiredHeader(text: string | undefined): ProxyOptions['requireHeader'] {
  if (text === undefined) return undefined;
  const i = text.indexOf(':');
  const name = (i < 0 ? text : text.slice(0, i)).trim();
  if (!/^[!#$%&'*+.^`|~\w-]+$/.test(name)) throw new C8yError('USAGE', { option: '--require-header', value: text, reason: 'needs a header name, optionally :VALUE' });
  return i < 0 ? { name } : { name, value: text.slice(i + 1).trim() };
}

/** The proxy's options from the command's options object: the listen address parsed, the durations named as such. */
export function proxyOptions(r: Run<(typeof keys)[number]>): ProxyOptions {
  const o = r.options;
  if (o.upstreamAuth === 'mtls' && o.renewBefore !== undefined) throw new C8yError('USAGE', { detail: '--renew-before works with --upstream-auth token (renewal over EST needs the device token).' });
  return {
    listen: parseListen(o.listen),
    upstreamAuth: o.upstreamAuth,
    allowUi: o.allowUi,
    tlsCert: o.tlsCert,
    tlsKey: o.tlsKey,
    clientCa: o.clientCa,
    socketMode: parseInt(o.socketMode, 8),
    socketGroup: o.socketGroup,
    requireHeader: requiredHeader(o.requireHeader),
    headerTimeoutMs: o.headerTimeout,
    idleTimeoutMs: o.idleTimeout,
    drainTimeoutMs: o.drainTimeout,
    output: o.output === '-' ? undefined : o.output,
    meta: o.meta,
    minRetryMs: o.minRetry,
    maxRetryMs: o.maxRetry,
    slowRetryMs: o.slowRetry,
    renewal:
      o.renewBefore === undefined
        ? undefined
        : { beforeMs: o.renewBefore, renew: (...a) => import('../../core/est/device.js').then((m) => m.renewForKeeper(r.settings!, r.io(), o.allowShorter, ...a)) },
  };
}

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  const options = proxyOptions(r);
  // A log line per request for as long as it runs: never a blocking write to a reader that stalls.
  r.cli.streamOutput?.();
  if (options.socketGroup !== undefined && options.socketMode !== 0o660) r.cli.stderr.write('c8ytoken: --socket-group gives the group access only with --socket-mode 0660.\n');
  return proxyCommand(r.settings!, options, {
    ...r.io(),
    emit: (event) => {
      if (r.term.json) return void r.cli.stdout.write(`${JSON.stringify(proxyEventJson(event))}\n`);
      const routine = event.event === 'access' || event.event === 'token' || event.event === 'start' || event.event === 'stop';
      if (!r.term.quiet || !routine) r.cli.stderr.write(`${renderProxyEvent(event)}\n`);
    },
    random: Math.random,
    takeSignals: r.cli.takeSignals,
    streamed: streamedCollector(),
  });
}
