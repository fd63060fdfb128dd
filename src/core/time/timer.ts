/**
 * Waiting without Node's timer overflow: setTimeout takes at most 2^31-1 ms (about 24.8 days) and fires
 * after 1 ms for anything longer, which made a token with a 100-day lifetime refresh a hundred times a
 * second. Long waits are re-armed in steps, and every wait can be cut short (a wake-up, an abort).
 */

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** setTimeout with the delay clamped to what Node honours (0 .. MAX_TIMER_MS). */
export function safeTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(callback, Math.min(MAX_TIMER_MS, Math.max(0, Number.isFinite(ms) ? ms : MAX_TIMER_MS)));
}

export interface Sleep {
  /** Resolves true at `untilMs` (or when woken), false when aborted. */
  done: Promise<boolean>;
  /** Ends the wait now, as if its time had come. */
  wake(): void;
}

/** Waits until the local clock shows `untilMs`, in steps no timer can overflow. */
export function sleepUntil(untilMs: number, now: () => number, signal?: AbortSignal): Sleep {
  let wake: () => void = () => undefined;
  const done = new Promise<boolean>((resolve) => {
    if (signal?.aborted) return resolve(false);
    let timer: NodeJS.Timeout | undefined;
    const finish = (value: boolean): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = (): void => finish(false);
    const step = (): void => {
      const left = untilMs - now();
      if (left <= 0) return finish(true);
      timer = safeTimeout(step, left);
    };
    signal?.addEventListener('abort', onAbort);
    wake = () => finish(true);
    step();
  });
  return { done, wake: () => wake() };
}
