/**
 * EST answers that mean "not yet", and how long to wait for them.
 *
 * Enrollment waits for the operator: until the device is registered with its one-time password, the
 * platform refuses simpleenroll. Which answer it gives then is not documented; thin-edge.io
 * (`tedge cert download c8y --retry-every --max-timeout`) and go-c8y (`PollEnroll`) retry on every
 * failure until a deadline. We retry on 401 and 404 (the plausible "not registered yet" answers, whatever
 * their message) and on failures that are temporary anyway (network, 5xx, 429, a 202 "pending" without a
 * certificate, RFC 7030 4.2.3); a 400 (request refused), a 403, a redirect or a TLS failure stop at once,
 * since waiting cannot change them.
 *
 * Both requests follow a 202 (RFC 7030 4.2.3: the CA holds the request; ask again with the same key after
 * Retry-After). The server's Retry-After wins over our own pause whenever it gives one (a 429 or 503's
 * too), bounded by the caller's limit: --max-wait for enroll, --timeout for a renewal (which has no
 * operator to wait for: an automatic CA answers within seconds, a manual approval takes hours and is
 * better met by the next run of the timer). When the wait would pass the limit, EST_PENDING says when
 * to come back.
 */
import { abortError, C8yError, isC8yError, isRetryable, retryAfterOf } from '../errors.js';
import { simpleEnroll, simpleReenroll, type EnrollOptions, type EstAnswer, type ReenrollOptions } from './client.js';

/** How long and how often a request is asked again. */
export interface PollOptions {
  /** Pause between attempts when the server did not say (no Retry-After). */
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
export function isNotRegisteredYet(err: unknown): err is C8yError<'EST_UNAUTHORIZED' | 'EST_REFUSED'> {
  if (!isC8yError(err, 'EST_UNAUTHORIZED', 'EST_REFUSED')) return false;
  return err.code === 'EST_UNAUTHORIZED' || err.facts.status === 404;
}

/** simpleenroll, repeated while the device is not registered yet or the request is pending, for at most maxWaitMs. */
export function enrollWhenRegistered(options: EnrollOptions, poll: PollOptions): Promise<EstAnswer> {
  return untilIssued(() => simpleEnroll(options), poll, {
    signal: options.signal,
    limit: '--max-wait',
    waitable: (err) => isNotRegisteredYet(err) || isRetryable(err.code),
    givenUp: (err, attempts, elapsedMs) =>
      isNotRegisteredYet(err) ? new C8yError('EST_NOT_REGISTERED', { ...err.facts, deviceId: options.deviceId, attempts, elapsedMs }, { cause: err }) : undefined,
  });
}

/** simplereenroll, asked again while a 202 says when, within the request's --timeout. */
export function reenrollWhenIssued(options: ReenrollOptions, poll: Omit<PollOptions, 'retryEveryMs' | 'maxWaitMs'> = {}): Promise<EstAnswer> {
  return untilIssued(
    () => simpleReenroll(options),
    { ...poll, retryEveryMs: 0, maxWaitMs: options.timeoutMs },
    {
      signal: options.signal,
      limit: '--timeout',
      // Without Retry-After there is nothing to go by: EST_PENDING at once.
      waitable: (err) => err.code === 'EST_PENDING' && retryAfterOf(err) !== undefined,
      givenUp: () => undefined,
    },
  );
}

/**
 * An enrolled certificate's proof (a token fetched with it), asked again while it fails only for now
 * (network, 5xx, 429: isRetryable), with a doubling pause from retryEveryMs (or the server's Retry-After),
 * for at most maxWaitMs from the first attempt; the last error when the wait runs out.
 */
export function retryWhileTemporary<T>(attempt: () => Promise<T>, poll: PollOptions, signal?: AbortSignal): Promise<T> {
  return untilIssued(attempt, poll, { signal, limit: '--max-wait', waitable: (err) => isRetryable(err.code), givenUp: () => undefined, backoff: true });
}

interface Policy {
  signal: AbortSignal | undefined;
  /** Double the pause after each attempt (when the server did not say). */
  backoff?: boolean;
  /** The option that bounds the wait, for the message. */
  limit: string;
  waitable(err: C8yError): boolean;
  /** The error when the wait ran out (undefined: the last error as it was). */
  givenUp(err: C8yError, attempts: number, elapsedMs: number): C8yError | undefined;
}

async function untilIssued<T>(request: () => Promise<T>, poll: PollOptions, policy: Policy): Promise<T> {
  const now = poll.now ?? Date.now;
  const sleep = poll.sleep ?? defaultSleep;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      if (!(err instanceof C8yError) || !policy.waitable(err)) throw err;
      const elapsed = now() - started;
      const asked = retryAfterOf(err);
      const waitMs = asked !== undefined ? asked * 1000 : policy.backoff ? poll.retryEveryMs * 2 ** Math.min(attempt - 1, 16) : poll.retryEveryMs;
      if (elapsed + waitMs > poll.maxWaitMs) {
        if (isC8yError(err, 'EST_PENDING')) {
          const when = asked !== undefined ? { retryAt: new Date(now() + waitMs).toISOString(), waitOption: policy.limit } : {};
          throw new C8yError('EST_PENDING', { ...err.facts, attempts: attempt, elapsedMs: elapsed, ...when }, { cause: err });
        }
        throw policy.givenUp(err, attempt, elapsed) ?? err;
      }
      poll.onRetry?.({ attempt, error: err, nextInMs: waitMs });
      try {
        await sleep(waitMs, policy.signal);
      } catch {
        throw abortError(policy.signal);
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
