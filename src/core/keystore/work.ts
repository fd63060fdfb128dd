/**
 * The key-derivation work one keystore may ask for, and the pauses that keep a long derivation
 * interruptible. Iteration counts come from the file, so they are checked against LIMITS before any
 * work is done (OpenJDK and .NET do the same): each count on its own, and the file's declared total before
 * the first derivation. The work in progress yields to the event loop now and then, so SIGINT/SIGTERM
 * handlers and timers run, and stops when the command is aborted.
 */
import { abortError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { DerError } from '../encoding/der.js';

/** One key derivation a file asks for: `iterations` rounds for each of `blocks` hash-sized output blocks. */
export interface KdfCost {
  iterations: number;
  blocks: number;
  /** What it protects, for messages: "its integrity check (MAC)", "the key of entry x". */
  what: string;
}

export class KdfWork {
  private left: number = LIMITS.kdfWork;
  /**
   * PBKDF2 keys started ahead on the thread pool (pbe.ts deriveAhead), by the AlgorithmIdentifier they are
   * for: accounted with `take` when started, used at most once.
   */
  private readonly ahead = new Map<object, { password: string; rounds: number; key: Promise<Buffer> }>();

  constructor(private readonly signal?: AbortSignal) {}

  /**
   * Refuses, before any work, a file whose declared derivations exceed the limits in all (a count over
   * the per-count limit included). Nothing is used up: `take` accounts each derivation when it runs.
   */
  plan(costs: readonly KdfCost[]): void {
    let total = 0;
    for (const cost of costs) total += checked(cost);
    if (total > this.left) throw new KdfLimitError('its key derivations in all', LIMITS.kdfWork - this.left + total, LIMITS.kdfWork);
  }

  /**
   * Accounts for one derivation of `iterations` rounds per output block. Throws DerError for a count no
   * writer produces (0, negative) and a KdfLimitError for more than the limits allow.
   */
  take(cost: KdfCost): void {
    this.left -= checked(cost);
    if (this.left < 0) throw new KdfLimitError('its key derivations in all', LIMITS.kdfWork - this.left, LIMITS.kdfWork);
  }

  /** Rounds of the derivations started ahead so far (pbe.ts bounds them in all). */
  aheadRounds = 0;

  /** Keeps a derivation of `rounds` started ahead for `algorithm` with `password` (already accounted with `take`). */
  keepAhead(algorithm: object, password: string, rounds: number, key: Promise<Buffer>): void {
    this.aheadRounds += rounds;
    // Not awaited when the password turns out wrong or the command stops: never an unhandled rejection.
    key.catch(() => undefined);
    this.ahead.set(algorithm, { password, rounds, key });
  }

  /**
   * The key derived ahead for `algorithm` with this very password, once; undefined otherwise. One derived
   * with another password is given back to the limits: the derivation asked for with this one is counted
   * instead, so a file is never charged twice for what it declares.
   */
  useAhead(algorithm: object, password: string): Promise<Buffer> | undefined {
    const ahead = this.ahead.get(algorithm);
    if (!ahead) return undefined;
    this.ahead.delete(algorithm);
    if (ahead.password === password) return ahead.key;
    this.left += ahead.rounds;
    return undefined;
  }

  /** Lets signal handlers and timers run; throws INTERRUPTED once the command was aborted. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.signal?.aborted) throw abortError(this.signal);
  }
}

/** The rounds a derivation costs, once its count is known to be one a writer produces and within the per-count limit. */
function checked({ iterations, blocks, what }: KdfCost): number {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new DerError(`${what} has an iteration count of ${iterations}`);
  if (iterations > LIMITS.kdfIterations) throw new KdfLimitError(what, iterations, LIMITS.kdfIterations);
  return iterations * blocks;
}

/** More key-derivation work than LIMITS allow; the keystore reader names the file. */
export class KdfLimitError extends Error {
  override name = 'KdfLimitError';
  constructor(
    readonly what: string,
    readonly actual: number,
    readonly limit: number,
  ) {
    super(`${what} asks for ${actual} iterations; the limit is ${limit}`);
  }
}
