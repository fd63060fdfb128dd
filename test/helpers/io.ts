/** A CommandIo for calling commands in-process, collecting warnings and progress. */
import type { CommandIo } from '../../src/commands/fetch.js';

export function testIo(overrides: Partial<CommandIo> = {}): CommandIo & { warnings: string[]; steps: string[] } {
  const warnings: string[] = [];
  const steps: string[] = [];
  return {
    env: {},
    cwd: process.cwd(),
    warn: (m) => warnings.push(m),
    progress: (m) => steps.push(m),
    now: Date.now,
    warnings,
    steps,
    ...overrides,
  };
}
