/**
 * The key-derivation work one keystore may ask for, and the pauses that keep a long derivation
 * interruptible. Iteration counts come from the file, so they are checked against LIMITS before any
 * work is done (OpenJDK and .NET do the same); the work in progress yields to the event loop now and then,
 * so SIGINT/SIGTERM handlers and timers run, and stops when the command is aborted.
 */
import { abortError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { DerError } from '../encoding/der.js';

export class KdfWork {
  private left: number = LIMITS.kdfWork;

  constructor(private readonly signal?: AbortSignal) {}

  /**
   * Accounts for `iterations` rounds of a derivation (`what`: "its integrity check (MAC)", ...). Throws
   * DerError for a count no writer produces (0, negative) and an InputLimit for more than the limits allow.
   */
  take(iterations: number, what: string): void {
    if (!Number.isSafeInteger(iterations) || iterations < 1) throw new DerError(`${what} has an iteration count of ${iterations}`);
    if (iterations > LIMITS.kdfIterations) throw new KdfLimitError(what, iterations, LIMITS.kdfIterations);
    this.left -= iterations;
    if (this.left < 0) throw new KdfLimitError(`its key derivations in all`, LIMITS.kdfWork - this.left, LIMITS.kdfWork);
  }

  /** Lets signal handlers and timers run; throws INTERRUPTED once the command was aborted. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.signal?.aborted) throw abortError(this.signal);
  }
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
