/**
 * The command-line program: registers the commands, maps argv to typed options once, loads each command
 * lazily (so `--version` and `inspect` pay for neither keystores nor TLS), and is the one place where
 * errors become messages and exit codes. `main` returns the exit code; it never calls process.exit.
 */
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { C8yError, ExitCode } from './core/errors.js';
import type { ConnectionFlags } from './core/config/settings.js';
import type { CommandIo } from './commands/fetch.js';
import { useColor, type TerminalOptions } from './output/terminal.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** stdin, created only when read: creating process.stdin costs start-up time. */
  stdin: () => NodeJS.ReadStream;
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal?: AbortSignal;
  now?: () => number;
  /** Registers a "refresh now" callback (SIGHUP); returns an unregister function. */
  onRefreshRequest?: (callback: () => void) => () => void;
  /** The package version (the bin reads package.json: the bundle does not know where it is). */
  version: string;
}


// Options that would put a password on the command line, where `ps` and shell history show it.
const PASSWORD_ARGV = /^--(key-|keystore-|truststore-|store-)?pass(word)?(=|$)/;

const CONNECTION_HELP = `
Credentials and connection can also come from a config file (.c8ytokenrc) and environment variables;
precedence: flags > environment > profile > config file > defaults. See the README.`;

function addConnectionOptions(cmd: Command) {
  return cmd
    .option('--url <url>', 'tenant URL; port 8443 unless the URL names one (env C8Y_HOST, C8Y_BASEURL, C8Y_URL, C8YTOKEN_URL)')
    .option('--cert <file>', 'PEM device certificate, optionally followed by its intermediates (env C8Y_CERTIFICATE_FILE)')
    .option('--key <file>', 'PEM private key: PKCS#1, SEC1, PKCS#8, encrypted PKCS#8 or traditional (env C8Y_CERTIFICATE_KEY_FILE)')
    .option('--key-password-file <file>', 'file holding the key password (env C8YTOKEN_KEY_PASSWORD)')
    .option('--keystore <file>', 'PKCS#12 (.p12/.pfx) or JKS keystore with key and chain (env C8YTOKEN_KEYSTORE)')
    .addOption(new Option('--keystore-type <type>', 'keystore format; detected from the content when absent').choices(['pkcs12', 'jks', 'PKCS12', 'JKS']))
    .option('--keystore-password-file <file>', 'file holding the keystore password (env C8YTOKEN_KEYSTORE_PASSWORD)')
    .option('--alias <name>', 'key entry to use when the keystore holds several (env C8YTOKEN_KEYSTORE_ALIAS)')
    .option('--truststore <file>', 'PEM, PKCS#12 or JKS with the CA(s) of the platform server certificate; replaces the built-in roots')
    .option('--truststore-password-file <file>', 'file holding the truststore password (env C8YTOKEN_TRUSTSTORE_PASSWORD)')
    .option('--device-ca <file>', 'the device CA(s) uploaded to the tenant (PEM), used by verify-chain (env C8YTOKEN_DEVICE_CA)')
    .addOption(new Option('--chain-header <mode>', 'what goes into X-Ssl-Cert-Chain: auto (intermediates), none, full (leaf too)').choices(['auto', 'none', 'full']))
    .option('--timeout <duration>', 'whole-request limit, e.g. 30s (default) or 2m (env C8YTOKEN_TIMEOUT)');
}

interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  config?: string;
  profile?: string;
}

/** Runs the CLI with argv (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const VERSION = io.version;
  let globals: GlobalOptions = {};
  const term = (): TerminalOptions => ({
    quiet: globals.quiet === true,
    json: globals.json === true,
    verbose: globals.verbose === true,
    color: useColor(io.stderr, io.env, globals.color === false),
  });
  const passwordFlag = argv.find((a) => PASSWORD_ARGV.test(a));
  if (passwordFlag) {
    return reportError(
      new C8yError('USAGE', `${passwordFlag.split('=')[0]} is not an option: c8ytoken never takes passwords on the command line, where other users and shell history can see them.`, {
        hint: 'Use --keystore-password-file / --key-password-file / --truststore-password-file FILE, or C8YTOKEN_KEYSTORE_PASSWORD / C8YTOKEN_KEY_PASSWORD; on a terminal you are asked.',
      }),
      io,
      { verbose: false, json: argv.includes('--json'), color: false },
    );
  }

  let exitCode: number = ExitCode.ok;
  const program = new Command('c8ytoken')
    .description('Get and keep Cumulocity IoT device access tokens (JWT) over mutual TLS.')
    .version(VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--json', 'machine-readable output wherever a command has a human one')
    .option('-q, --quiet', 'print nothing but the requested data and errors')
    .option('-v, --verbose', 'say what happens, step by step, on stderr (never secrets)')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .option('-c, --config <file>', 'config file to use instead of searching (env C8YTOKEN_CONFIG)')
    .option('-p, --profile <name>', 'use the named profile of the config file (env C8YTOKEN_PROFILE)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .addHelpText(
      'after',
      `
Examples:
  c8ytoken fetch --url https://t12345.eu-latest.cumulocity.com --keystore device.p12
  c8ytoken fetch --cert device.chain.pem --key device.key --format header | curl -sf -H @- https://t12345.eu-latest.cumulocity.com/inventory/managedObjects
  eval "$(c8ytoken fetch --format env)"
  c8ytoken inspect /var/lib/c8y/token

Exit codes: 0 ok, 1 check failed, 2 usage, 3 configuration, 4 local input, 5 network, 6 TLS,
7 platform refused, 8 platform failed, 9 cannot write output, 70 internal error, 130/143 interrupted.`,
    );
  program.hook('preAction', (_root, action) => {
    globals = action.optsWithGlobals() as GlobalOptions;
  });

  const commandIo = (spinner?: { update(text: string): void; stop(): void }): CommandIo => ({
    env: io.env,
    cwd: io.cwd,
    prompt: io.stdinIsTTY
      ? async (q) => {
          spinner?.stop(); // the question must not be drawn over
          return (await import('./output/terminal.js')).promptHidden(q, io.stdin(), io.stderr as NodeJS.WriteStream);
        }
      : undefined,
    warn: (m) => {
      if (!globals.quiet) io.stderr.write(`c8ytoken: warning: ${m}\n`);
    },
    progress: (m) => {
      if (globals.verbose) io.stderr.write(`c8ytoken: ${m}\n`);
      spinner?.update(m);
    },
    signal: io.signal,
    now: io.now ?? Date.now,
    userAgent: `c8ytoken/${VERSION}`,
  });

  const registerFetch = (): void => {
    addConnectionOptions(program.command('fetch'))
      .description('get a device access token over mutual TLS; print it or write it to a file')
      .addOption(new Option('--format <format>', 'token (default), header (for curl -H @-), json, env').choices(['token', 'header', 'json', 'env']))
      .addOption(new Option('--shell <shell>', 'shell syntax for --format env').choices(['bash', 'zsh', 'fish', 'powershell']).default('bash'))
      .option('-o, --output <file>', 'write the token to FILE (atomically, mode 0600, no newline) instead of stdout; reuses the token already there while it is before its half-life')
      .option('--cache <file>', 'reuse the token in FILE while it is before its half-life, and keep FILE updated (for stdout output)')
      .option('--force', 'always ask the platform, even when the cached token is still fresh')
      .addHelpText(
        'after',
        `
  Examples:
    c8ytoken fetch --url https://t12345.eu-latest.cumulocity.com --keystore device.p12
    C8YTOKEN_KEYSTORE_PASSWORD=changeit c8ytoken fetch --keystore device.jks --truststore truststore.jks -o /var/lib/c8y/token
    c8ytoken fetch --cert device.chain.pem --key device.key --format header | curl -sf -H @- https://t12345.eu-latest.cumulocity.com/inventory/managedObjects
    eval "$(c8ytoken fetch --format env)"
    c8ytoken fetch --format env --shell powershell | Invoke-Expression
  ${CONNECTION_HELP}`,
      )
      .action(async (opts) => {
        const t = term();
        const [{ fetchCommand }, out, { startSpinner }] = await Promise.all([import('./commands/fetch.js'), import('./output/fetch-output.js'), import('./output/terminal.js')]);
        const spinner = await startSpinner('Fetching the device token:', io.stderr as NodeJS.WriteStream, t);
        try {
          const result = await fetchCommand({ connection: connectionFlags(opts, globals), output: opts.output, cache: opts.cache, force: opts.force === true }, commandIo(spinner));
          spinner.stop();
          const format = opts.format ?? (t.json ? 'json' : 'token');
          if (!result.written) io.stdout.write(out.renderToken(result, format, opts.shell));
          else if (t.json) io.stdout.write(`${JSON.stringify(out.tokenJson(result), null, 2)}\n`);
          if (!t.quiet) io.stderr.write(`${out.summaryLine(result, (io.now ?? Date.now)())}\n`);
        } finally {
          spinner.stop();
        }
      });
  };

  const registerVerifyChain = (): void => {
    addConnectionOptions(program.command('verify-chain'))
      .description('check the device certificate, key and chain locally (and, with --connect, the TLS handshake)')
      .option('--at <date>', 'check validity at this moment instead of now, e.g. 2027-01-01')
      .option('--connect', 'also perform the TLS handshake with the platform (no token is requested)')
      .addOption(new Option('--purpose <purpose>', 'what the certificate must be good for: client (default; what the platform needs), server, any').choices(['client', 'server', 'any']))
      .addHelpText(
        'after',
        `
  Examples:
    c8ytoken verify-chain --keystore device.p12
    c8ytoken verify-chain --cert device.pem --key device.key --device-ca device-root.pem
    c8ytoken verify-chain --keystore device.jks --json | jq '.checks[] | select(.verdict == "fail")'
    c8ytoken verify-chain --keystore device.p12 --connect
    c8ytoken verify-chain --cert device.pem --at 2027-01-01

  Exit code 0 when every check passes (warnings allowed), 1 when a check fails, 4 when the files cannot be read.
  ${CONNECTION_HELP}`,
      )
      .action(async (opts) => {
        const t = term();
        const [{ verifyChainCommand }, out] = await Promise.all([import('./commands/verify-chain.js'), import('./output/verify-output.js')]);
        const result = await verifyChainCommand({ connection: connectionFlags(opts, globals), at: opts.at, connect: opts.connect === true, purpose: opts.purpose as 'client' | 'server' | 'any' | undefined }, commandIo());
        if (t.json) io.stdout.write(`${JSON.stringify({ ...result.report, ok: result.ok, source: result.source, deviceCa: result.deviceCa ?? null, handshake: result.handshake ?? null }, null, 2)}\n`);
        else if (!t.quiet) io.stdout.write(out.renderVerify(result, { color: useColor(io.stdout, io.env, globals.color === false), unicode: out.supportsUnicode(io.env) }));
        if (!result.ok) exitCode = ExitCode.checkFailed;
      });
  };

  const registerWatch = (): void => {
    addConnectionOptions(program.command('watch'))
      .description('keep a token file fresh: refresh after half the lifetime, retry through outages, forever')
      .requiredOption('-o, --output <file>', 'the token file to keep fresh (atomic writes, mode 0600)')
      .option('--exec', 'after each new token, run the command given after -- (argv as given, no shell)')
      .argument('[command...]', 'with --exec: the command and its arguments, after --')
      .option('--once', 'fetch if needed, write, and exit (for cron and systemd timers)')
      .option('--exit-on-error', 'exit with the error class code instead of retrying failures retrying will not fix')
      .option('--min-retry <duration>', 'first retry delay after a failure (default 2s)')
      .option('--max-retry <duration>', 'longest retry delay (default 5m)')
      .option('--slow-retry <duration>', 'retry delay after a failure retrying will not fix, e.g. a rejected certificate (default 5m)')
      .addHelpText(
        'after',
        `
  Examples:
    c8ytoken watch -o /var/lib/c8y/token
    c8ytoken watch -o token --exec -- systemctl reload my-agent
    c8ytoken watch -o token --json
    c8ytoken watch -o token --once

  Signals: SIGHUP refreshes now; SIGINT and SIGTERM stop (exit 130, 143), leaving the file intact.
  ${CONNECTION_HELP}`,
      )
      .action(async (command, opts) => {
        const t = term();
        if (opts.exec && command.length === 0) throw new C8yError('USAGE', '--exec needs a command after --, e.g. --exec -- systemctl reload my-agent.');
        if (!opts.exec && command.length > 0) throw new C8yError('USAGE', `Unexpected argument "${command[0]}".`, { hint: 'To run a command after each new token, use --exec -- COMMAND ARGS.' });
        const [{ watchCommand }, { renderWatchEvent }, { parseDuration }] = await Promise.all([import('./commands/watch.js'), import('./output/watch-output.js'), import('./core/time/duration.js')]);
        const duration = (value: string | undefined, flag: string, fallback: number): number => {
          if (value === undefined) return fallback;
          const ms = parseDuration(value);
          if (ms === undefined || ms <= 0) throw new C8yError('USAGE', `${flag} must be a duration like 2s or 5m, not "${value}".`);
          return ms;
        };
        const base = commandIo();
        exitCode = await watchCommand(
          {
            connection: connectionFlags(opts, globals),
            output: opts.output,
            exec: opts.exec ? command : undefined,
            once: opts.once === true,
            exitOnError: opts.exitOnError === true,
            minRetryMs: duration(opts.minRetry, '--min-retry', 2_000),
            maxRetryMs: duration(opts.maxRetry, '--max-retry', 300_000),
            slowRetryMs: duration(opts.slowRetry, '--slow-retry', 300_000),
          },
          {
            ...base,
            emit: (event) => {
              if (t.json) io.stdout.write(`${JSON.stringify(event)}\n`);
              else if (!t.quiet || event.event === 'error' || event.event === 'expired') io.stderr.write(`${renderWatchEvent(event)}\n`);
            },
            random: Math.random,
            onRefreshRequest: io.onRefreshRequest,
          },
        );
      });
  };

  const registerInspect = (): void => {
    program
      .command('inspect')
      .description('decode a token and explain it (no network, no keys)')
      .argument('[token]', 'the token, a file holding it, or - for stdin (default: stdin when piped)')
      .option('--check', 'exit 1 when the token is expired, not yet valid or (with --expires-within) expiring soon')
      .option('--expires-within <duration>', 'with --check: fail when the token expires within this time, e.g. 5m')
      .option('--show-secrets', 'show xsrfToken and the signature instead of masking them')
      .addHelpText(
        'after',
        `
  Examples:
    c8ytoken inspect eyJhbGciOi...
    c8ytoken inspect /var/lib/c8y/token
    c8ytoken fetch | c8ytoken inspect -
    c8ytoken inspect --json token | jq .claims.ten
    c8ytoken inspect --check --expires-within 5m /var/lib/c8y/token || c8ytoken fetch -o /var/lib/c8y/token`,
      )
      .action(async (tokenArg, opts) => {
        const t = term();
        const [{ inspectCommand }, out] = await Promise.all([import('./commands/inspect.js'), import('./output/inspect-output.js')]);
        const result = await inspectCommand(
          { input: tokenArg, check: opts.check === true, expiresWithin: opts.expiresWithin },
          { stdin: io.stdin, stdinIsTTY: io.stdinIsTTY, cwd: io.cwd, now: io.now ?? Date.now },
        );
        if (t.json) io.stdout.write(`${JSON.stringify(out.inspectJson(result, opts.showSecrets === true), null, 2)}\n`);
        else if (!(opts.check && t.quiet)) io.stdout.write(out.renderInspect(result, { color: useColor(io.stdout, io.env, globals.color === false), showSecrets: opts.showSecrets === true, now: (io.now ?? Date.now)() }));
        if (opts.check && !result.checkPassed) exitCode = ExitCode.checkFailed;
      });
  };

  // Build only the command that runs: the other commands' options and help cost start-up time.
  const registrars: Record<string, () => void> = { fetch: registerFetch, 'verify-chain': registerVerifyChain, watch: registerWatch, inspect: registerInspect };
  const named = argv.find((a) => !a.startsWith('-'));
  const only = named !== undefined ? registrars[named] : undefined;
  if (only) only();
  else for (const register of Object.values(registrars)) register();

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message already. Help asked for is success; help shown because no
      // command was given (exitCode 1 in commander) is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
      if (err.code === 'commander.help' && err.exitCode === 0) return ExitCode.ok;
      return ExitCode.usage;
    }
    return reportError(err, io, term());
  }
}

function reportError(err: unknown, io: CliIo, t: Pick<TerminalOptions, 'verbose' | 'json' | 'color'>): Promise<number> {
  return import('./output/error-output.js').then(async ({ renderError }) => {
    const paint = t.color ? (await import('chalk')).default.red : undefined;
    const view = renderError(err, { verbose: t.verbose, json: t.json, ...(paint ? { paint } : {}) });
    io.stderr.write(view.text);
    return view.exitCode;
  });
}

/** The connection flags the user actually gave (commander applies no defaults to these). */
function connectionFlags(
  opts: {
    url?: string; cert?: string; key?: string; keyPasswordFile?: string; keystore?: string; keystoreType?: string;
    keystorePasswordFile?: string; alias?: string; truststore?: string; truststorePasswordFile?: string;
    deviceCa?: string; chainHeader?: string; timeout?: string;
  },
  globals: GlobalOptions,
): ConnectionFlags {
  return {
    url: opts.url,
    cert: opts.cert,
    key: opts.key,
    keyPasswordFile: opts.keyPasswordFile,
    keystore: opts.keystore,
    keystoreType: opts.keystoreType?.toLowerCase(),
    keystorePasswordFile: opts.keystorePasswordFile,
    alias: opts.alias,
    truststore: opts.truststore,
    truststorePasswordFile: opts.truststorePasswordFile,
    deviceCa: opts.deviceCa,
    chainHeader: opts.chainHeader,
    timeout: opts.timeout,
    config: globals.config,
    profile: globals.profile,
  };
}
