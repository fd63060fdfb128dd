/**
 * A virtual clock for code that takes time as a parameter (the token keeper, the local endpoint): a wait
 * moves the clock to its end at once, so months of refreshes run in milliseconds. `at(ms, action)`
 * runs an action when the clock passes a moment (an outage that starts, a fault that clears).
 */
import type { Sleep } from '../../src/core/time/timer.js';

export interface VirtualClock {
  now(): number;
  sleepUntil(untilMs: number, now: () => number, signal?: AbortSignal): Sleep;
  at(ms: number, action: () => void): void;
}

export function virtualClock(start: number): VirtualClock {
  let now = start;
  const plans: { ms: number; action: () => void }[] = [];
  const advance = (to: number): void => {
    now = Math.max(now, to);
    for (const p of plans.filter((x) => x.ms <= now)) {
      plans.splice(plans.indexOf(p), 1);
      p.action();
    }
  };
  return {
    now: () => now,
    at: (ms, action) => void plans.push({ ms, action }),
    sleepUntil: (untilMs, _now, signal) => {
      let woken = false;
      const done = new Promise<boolean>((resolve) =>
        setImmediate(() => {
          if (signal?.aborted) return resolve(false);
          if (!woken) advance(untilMs);
          resolve(true);
        }),
      );
      return { done, wake: () => void (woken = true) };
    },
  };
}
