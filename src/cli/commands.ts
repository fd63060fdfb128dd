/**
 * The command table: every command's spec, each from its own folder (src/commands/NAME/spec.ts). src/cli.ts
 * registers them all from this list and runs them through one generic action; a spec is data, and each
 * command's code (and the modules it needs) loads only when it runs.
 */
import type { CommandSpec, CommandTable } from '../commands/command.js';
import { spec as fetch } from '../commands/fetch/spec.js';
import { spec as inspect } from '../commands/inspect/spec.js';
import { spec as watch } from '../commands/watch/spec.js';
import { spec as doctor } from '../commands/doctor/spec.js';
import { spec as exec } from '../commands/exec/spec.js';
import { spec as verifyChain } from '../commands/verify-chain/spec.js';
import { spec as certRenew } from '../commands/cert-renew/spec.js';
import { spec as certNeedsRenewal } from '../commands/cert-needs-renewal/spec.js';
import { spec as certEnroll } from '../commands/cert-enroll/spec.js';
import { spec as proxy } from '../commands/proxy/spec.js';
import { spec as status } from '../commands/status/spec.js';
import { spec as completion } from '../commands/completion/spec.js';

export type { CommandSpec } from '../commands/command.js';

export const COMMANDS: readonly CommandSpec[] = [fetch, inspect, watch, doctor, exec, verifyChain, certRenew, certNeedsRenewal, certEnroll, proxy, status, completion];

/** Descriptions of the commands that group others ("cert" for "cert renew" ...). */
export const COMMAND_GROUPS: Readonly<Record<string, string>> = {
  cert: 'the device certificate: check when it needs renewal, renew it, enroll a new device (EST)',
};

export const TABLE: CommandTable = { commands: COMMANDS, groups: COMMAND_GROUPS };

/** A command of the table by name. */
export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
