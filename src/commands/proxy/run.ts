/** Runs `proxy`: the typed options once, then the log (access lines, token events) until SIGTERM. */
import { C8yError } from '../../core/errors.js';
import { msOf, textOf, valueOf, type Run } from '../../cli/run/run.js';
import { parseListen } from './listen.js';
import { proxyCommand, type ProxyOptions } from './proxy.js';
import { proxyEventJson, renderProxyEvent } from './output.js';

/** --require-header NAME or NAME:VALUE. */
function requiredHeader(text: string | undefined): ProxyOptions['requireHeader'] {
  if (text === undefined) return undefined;
  const i = text.indexOf(':');
  const name = (i < 0 ? text : text.slice(0, i)).trim();
  if (!/^[!#$%&'*+.^`|~\w-]+$/.test(name)) throw new C8yError('USAGE', { option: '--require-header', value: text, reason: 'needs a header name, optionally :VALUE' });
  return i < 0 ? { name } : { name, value: text.slice(i + 1).trim() };
}

/** The typed options of proxy, from the run's flags, settings and defaults. */
export function proxyOptions(r: Run): ProxyOptions {
  const renewBeforeMs = msOf(r, 'renewBefore');
  const mode = textOf(r, 'upstreamAuth') === 'mtls' ? 'mtls' : 'token';
  if (mode === 'mtls' && renewBeforeMs !== undefined) throw new C8yError('USAGE', { detail: '--renew-before works with --upstream-auth token (renewal over EST needs the device token).' });
  const output = textOf(r, 'output');
  return {
    listen: parseListen(textOf(r, 'listen')!),
    upstreamAuth: mode,
    allowUi: valueOf(r, 'allowUi') === true,
    tlsCert: textOf(r, 'tlsCert'),
    tlsKey: textOf(r, 'tlsKey'),
    clientCa: textOf(r, 'clientCa'),
    socketMode: parseInt(textOf(r, 'socketMode')!, 8),
    socketGroup: textOf(r, 'socketGroup'),
    requireHeader: requiredHeader(textOf(r, 'requireHeader')),
    headerTimeoutMs: msOf(r, 'headerTimeout')!,
    idleTimeoutMs: msOf(r, 'idleTimeout')!,
    drainTimeoutMs: msOf(r, 'drainTimeout')!,
    output: output === '-' ? undefined : output,
    meta: textOf(r, 'meta'),
    minRetryMs: msOf(r, 'minRetry')!,
    maxRetryMs: msOf(r, 'maxRetry')!,
    slowRetryMs: msOf(r, 'slowRetry')!,
    renewal:
      renewBeforeMs === undefined
        ? undefined
        : { beforeMs: renewBeforeMs, renew: (...a) => import('../cert.js').then((m) => m.renewForKeeper(r.settings!, r.io(), valueOf(r, 'allowShorter') === true, ...a)) },
  };
}

export async function run(r: Run): Promise<number> {
  const options = proxyOptions(r);
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
  });
}
