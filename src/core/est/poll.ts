/**
 * Enrollment waits for the operator: until the device is registered with its one-time password, the
 * platform refuses simpleenroll. Which answer it gives then is not documented; thin-edge.io
 * (`tedge cert download c8y --retry-every --max-timeout`) and go-c8y (`PollEnroll`) retry on every
 * failure until a deadline. We retry on 401 and 404 (the plausible "not registered yet" answers, whatever
 * their message) and on failures that are temporary anyway (network, 5xx, 429, a 202 "pending" without a
 * certificate, RFC 7030 4.2.3); a 400 (request refused),
 * a 403, a redirect or a TLS failure stop at once, since waiting cannot change them.
 */
import { abortError, C8yError, isRetryable } from '../errors.js';
import { simpleEnroll, type EnrollOptions, type EstAnswer } from './client.js';

/** How long and how often enrollWhenRegistered asks. */
export interface PollOptions {
  /** Pause between attempts. */
  retryEveryMs: number;
  /** Give up when the next attempt would start later than this after the first. 0: one attempt. */
  maxWaitMs: number;
  now?: () => number;
  /** Waits ms, or rejects when the signal aborts; tests pass a fake. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told about each refused attempt before the pause (never given the password). */
  onRetry?: (info: { attempt: number; error: C8yError; nextInMs: number }) => void;
}

/** True for an answer that means "not registered (yet)": 401, or 404 from simpleenroll. */
export function isNotRegisteredYet(err: unknown): boolean {
  if (!(err instanceof C8yError)) return false;
  return err.code === 'EST_UNAUTHORIZED' || (err.code === 'EST_REFUSED' && err.facts.status === 404);
}

/** simpleenroll, repeated every retryEveryMs while the device is not registered yet, for at most maxWaitMs. */
export async function enrollWhenRegistered(options: EnrollOptions, poll: PollOptions): Promise<EstAnswer> {
  const now = poll.now ?? Date.now;
  const sleep = poll.sleep ?? defaultSleep;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await simpleEnroll(options);
    } catch (err) {
      if (!(err instanceof C8yError)) throw err;
      const waitable = isNotRegisteredYet(err) || isRetryable(err.code);
      const elapsed = now() - started;
      if (!waitable) throw err;
      if (elapsed + poll.retryEveryMs > poll.maxWaitMs) {
        if (!isNotRegisteredYet(err)) throw err;
        throw new C8yError('EST_NOT_REGISTERED', { ...err.facts, deviceId: options.deviceId, attempts: attempt, elapsedMs: elapsed }, { cause: err });
      }
      poll.onRetry?.({ attempt, error: err, nextInMs: poll.retryEveryMs });
      try {
        await sleep(poll.retryEveryMs, options.signal);
      } catch {
        throw abortError(options.signal);
      }
    }
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
