/** A CommandIo for calling commands in-process, collecting warnings and progress. */
import type { CommandIo } from '../../src/commands/command.js';

export function testIo(overrides: Partial<CommandIo> = {}): CommandIo & { warnings: string[]; steps: string[] } {
  const warnings: string[] = [];
  const steps: string[] = [];
  return {
    env: {},
    cwd: process.cwd(),
    warn: (m: string) => warnings.push(m),
    progress: (m: string) => steps.push(m),
    now: Date.now,
    warnings,
    steps,
    ...overrides,
  };
}
