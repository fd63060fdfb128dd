/**
 * The command-line program: the commands of the table (cli/commands.ts) with the options of the option
 * table (core/config/options.ts), one generic action that reads the options once and runs a command,
 * and the one place where errors become messages and exit codes. `main` returns the exit code; it never
 * calls process.exit.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, usageError } from './core/errors.js';
import { GLOBAL_OPTIONS, listedOptions, noEffectWarnings, option, type OptionKey } from './core/config/options.js';
import type { GivenFlags } from './core/config/settings.js';
import { COMMAND_GROUPS, COMMANDS, TABLE, commandSpec, type CommandSpec } from './cli/commands.js';
import { addOptions } from './cli/commander.js';
import { readsSettings, type CliIo, type Run } from './commands/command.js';
import { useColor, type TerminalOptions } from './output/terminal.js';
import { terminalText } from './core/text.js';

export type { CliIo } from './commands/command.js';
export { runAsProcess } from './cli/process.js';

/** What the program is, in its help and the man page. */
export const DESCRIPTION = 'Get and keep Cumulocity IoT device access tokens (JWT) over mutual TLS.';

export const EXIT_CODES = `Exit codes: 0 ok, 1 check failed, 2 usage, 3 configuration, 4 local input, 5 network, 6 TLS,
7 platform refused, 8 platform failed, 9 cannot write output, 70 internal error, 130/143 interrupted.`;

export const SETTINGS_NOTE = `Options can also come from environment variables (named in each option's help) and a config file
(.c8ytokenrc, see .c8ytokenrc.example); precedence: flags > environment > profile > config file > defaults.`;

// Options that would put a password on the command line, where `ps` and shell history show it.
const PASSWORD_ARGV = /^--((key-|keystore-|truststore-|store-|proxy-|one-time-)?pass(word)?|otp)(=|$)/;

/** Runs the CLI with argv (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  // Only c8ytoken's own arguments: what follows `--` belongs to a command c8ytoken runs.
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  const passwordFlag = own.find((a) => PASSWORD_ARGV.test(a));
  if (passwordFlag) {
    const flag = passwordFlag.split('=')[0]!;
    return reportError(
      usageError(`${flag} is not an option: c8ytoken never takes passwords on the command line, where other users and shell history can see them.`, {
        suggestion: flag.startsWith('--proxy-')
          ? 'Use --proxy-password-file FILE or C8YTOKEN_PROXY_PASSWORD, with the user in the proxy URL (http://USER@HOST:PORT).'
          : 'Use --keystore-password-file / --key-password-file / --truststore-password-file / --one-time-password-file FILE, or C8YTOKEN_KEYSTORE_PASSWORD / C8YTOKEN_KEY_PASSWORD / C8YTOKEN_ONE_TIME_PASSWORD; on a terminal you are asked.',
      }),
      io,
      { verbose: false, json: own.includes('--json'), color: false },
    );
  }

  let exitCode: number = ExitCode.ok;
  let term: TerminalOptions = { quiet: false, json: own.includes('--json'), verbose: own.includes('--verbose') || own.includes('-v'), color: false };
  // Commander's parse errors are kept, not printed: they become a USAGE error like any other (one JSON
  // line under --json), with what follows "=" in an option cut out (--storepass=SECRET is not echoed).
  let parseError = '';
  const program = new Command('c8ytoken')
    .description(DESCRIPTION)
    .version(io.version, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: (s) => (parseError += s) });
  addOptions(program, GLOBAL_OPTIONS);
  program.addHelpText('after', `\nExamples:\n${COMMANDS.map((c) => `  ${c.examples[0]}`).join('\n')}\n\n${SETTINGS_NOTE}\n\n${EXIT_CODES}`);

  // Commands named "group sub" (cert renew) are sub-commands of a group command with its own help.
  const groups = new Map<string, Command>();
  const parentOf = (group: string): Command => {
    let parent = groups.get(group);
    if (!parent) {
      const members = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
      parent = program
        .command(group)
        .description(COMMAND_GROUPS[group] ?? group)
        .exitOverride();
      parent.addHelpText('after', `\nExamples:\n${members.map((c) => `  ${c.examples[0]}`).join('\n')}\n\n${EXIT_CODES}`);
      groups.set(group, parent);
    }
    return parent;
  };
  for (const spec of commandsToBuild(own)) {
    const words = spec.name.split(' ');
    const parent = words.length > 1 ? parentOf(words[0]!) : program;
    const cmd = parent
      .command(words[words.length - 1]!)
      .description(spec.summary)
      .exitOverride();
    if (spec.args) cmd.argument(spec.args[0], spec.args[1]);
    addOptions(cmd, spec.options, listedOptions(spec.name, spec.options), spec.optionHelp);
    cmd.addHelpText(
      'after',
      `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}\n${spec.notes ? `\n${spec.notes}\n` : ''}${readsSettings(spec) || spec.ownSettings ? `\n${SETTINGS_NOTE}\n` : ''}\n${EXIT_CODES}`,
    );
    cmd.action(async (...actionArgs: unknown[]) => {
      const command = actionArgs[actionArgs.length - 1] as Command;
      const args = (actionArgs.slice(0, -2).flat() as (string | undefined)[]).filter((a): a is string => a !== undefined);
      const flags = { ...givenFlags(program, GLOBAL_OPTIONS), ...givenFlags(command, spec.options) };
      term = terminalOptions(flags, io);
      exitCode = await runCommand(spec, args, flags, io, term);
    });
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message already. Help asked for is success; help shown because no
      // command was given (exitCode 1 in commander) is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
      if (err.code === 'commander.help' && err.exitCode === 0) return ExitCode.ok;
      if (parseError) return reportError(usageError(parseErrorText(parseError), { suggestion: 'Run c8ytoken --help, or c8ytoken COMMAND --help, for the commands and their options.' }), io, term);
      return ExitCode.usage;
    }
    return reportError(err, io, term);
  }
}

/**
 * The commands to build for this argv: only the one it names, or all of them when it names none (help, a
 * mistyped name: the program's help lists them all, and commander suggests the nearest name). Building
 * each command's options with their help texts for every run was several milliseconds of each start-up;
 * a command's own help and parsing are the same whether its siblings exist or not.
 */
export function commandsToBuild(argv: readonly string[]): readonly CommandSpec[] {
  const words = leadingWords(argv, 2);
  const named = (words.length > 1 ? commandSpec(words.join(' ')) : undefined) ?? commandSpec(words[0] ?? '');
  return named ? [named] : COMMANDS;
}

/** The program's options that take a value ("-c", "--config", ...): what follows them is no command name. */
const VALUE_FLAGS = new Set(
  GLOBAL_OPTIONS.flatMap((key) =>
    option(key).flags.includes('<')
      ? option(key)
          .flags.split(/[ ,]+/)
          .filter((f) => f.startsWith('-'))
      : [],
  ),
);

/** The first `n` words of argv that are neither options nor the values of the program's options (--config FILE, -qc FILE), as commander reads them. */
function leadingWords(argv: readonly string[], n: number): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < n; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') words.push(arg);
    else if (VALUE_FLAGS.has(arg)) i++;
    else if (!arg.startsWith('--')) {
      // A cluster of short flags (-qv, -qc FILE, -cFILE): the first that takes a value takes the rest of the
      // cluster, or the next word when it is the last.
      const at = [...arg.slice(1)].findIndex((ch) => VALUE_FLAGS.has(`-${ch}`));
      if (at === arg.length - 2) i++;
    }
  }
  return words;
}

/** Commander's message as a sentence, without any option's value after "=" (it may be a mistyped password flag). */
function parseErrorText(text: string): string {
  const sentence = text
    .trim()
    .replace(/^error:\s*/i, '')
    .replace(/'(-{1,2}[^'=\s]*)=[^']*'/g, "'$1=…'");
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}${/[.)?]$/.test(sentence) ? '' : '.'}`;
}

/** The options the user gave on the command line (commander's source "cli"), as the table names them. */
function givenFlags(cmd: Command, keys: readonly OptionKey[]): GivenFlags {
  const out: GivenFlags = {};
  const opts = cmd.opts<Record<string, string | boolean>>();
  for (const key of keys) if (cmd.getOptionValueSource(key) === 'cli') out[key] = opts[key];
  return out;
}

function terminalOptions(flags: GivenFlags, io: CliIo): TerminalOptions {
  return { quiet: flags.quiet === true, json: flags.json === true, verbose: flags.verbose === true, color: useColor(io.stderr, io.env, flags.color === false) };
}

/** The generic action: settings (when the command uses them), the command's surroundings, its runner. */
async function runCommand(spec: CommandSpec, args: string[], flags: GivenFlags, io: CliIo, term: TerminalOptions): Promise<number> {
  const warn = (m: string): void => {
    // Warnings and progress name files and quote the platform: the one sanitizer at this edge too.
    if (!term.quiet) io.stderr.write(`c8ytoken: warning: ${terminalText(m)}\n`);
  };
  for (const message of noEffectWarnings(spec.name, flags)) warn(message);
  const { commandOptions } = await import('./core/config/merge.js');
  let settings;
  if (readsSettings(spec)) {
    const { loadSettings } = await import('./core/config/settings.js');
    settings = await loadSettings({ flags, env: io.env, cwd: io.cwd, warn, keys: spec.options });
    if (term.verbose) io.stderr.write(`c8ytoken: config: ${settings.configPath ?? 'no config file'}${settings.profile ? `, profile ${settings.profile}` : ''}\n`);
  }
  const run: Run = {
    args,
    options: commandOptions(spec.options, settings, { flags, env: io.env, cwd: io.cwd }),
    flags,
    settings,
    cli: io,
    term,
    table: TABLE,
    io: (spinner) => ({
      env: io.env,
      cwd: io.cwd,
      prompt: io.stdinIsTTY
        ? async (q) => {
            spinner?.stop(); // the question must not be drawn over
            return (await import('./output/terminal.js')).promptHidden(q, io.stdin(), io.stderr as NodeJS.WriteStream);
          }
        : undefined,
      warn,
      progress: (m) => {
        if (term.verbose) io.stderr.write(`c8ytoken: ${terminalText(m)}\n`);
        spinner?.update(m);
      },
      signal: io.signal,
      now: io.now ?? Date.now,
      userAgent: `c8ytoken/${io.version}`,
    }),
  };
  return (await spec.load())(run);
}

function reportError(err: unknown, io: CliIo, t: Pick<TerminalOptions, 'verbose' | 'json' | 'color'>): Promise<number> {
  return import('./output/error-output.js').then(async ({ renderError }) => {
    const { paintText } = await import('./output/colour.js');
    const view = renderError(err, { verbose: t.verbose, json: t.json, paint: (s) => paintText('red', s, t.color) });
    io.stderr.write(view.text);
    return view.exitCode;
  });
}
