/** Assertions on typed errors: tests check the stable code, not the wording. */
import { expect } from 'vitest';
import { C8yError, type ErrorCode } from '../../src/core/errors.js';
import { describeError } from '../../src/output/messages.js';

/**
 * The C8yError a promise or function fails with, of the code given (its facts are then typed as that
 * code's); fails the test when it does not fail that way.
 */
export async function caught<C extends ErrorCode = ErrorCode>(action: Promise<unknown> | (() => unknown), code?: C): Promise<C8yError<C>> {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (err) {
    expect(err).toBeInstanceOf(C8yError);
    if (code !== undefined) expect((err as C8yError).code).toBe(code);
    return err as C8yError<C>;
  }
  throw new Error('expected a C8yError, but it succeeded');
}

/** The code of the C8yError it fails with. */
export async function codeOf(action: Promise<unknown> | (() => unknown)): Promise<string> {
  return (await caught(action)).code;
}

/** The words a person reads for an error (src/output/messages.ts): for tests of what a message may never hold. */
export function wordsOf(err: C8yError): { message: string; hint: string } {
  const { message, hint } = describeError(err);
  return { message, hint: hint ?? '' };
}
