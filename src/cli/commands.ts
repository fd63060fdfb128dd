/**
 * The command table: every command's name, summary, arguments, examples and options, and how to load
 * it. src/cli.ts registers them all from this table and runs them through one generic action; each
 * command's code (and the modules it needs) loads only when it runs.
 */
import { CONNECTION_OPTIONS, option } from '../core/config/options.js';
import type { CommandSpec } from './command-spec.js';
import { proxySpec } from '../commands/proxy/spec.js';
import { statusSpec } from '../commands/status/spec.js';

export type { CommandSpec } from './command-spec.js';

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'fetch',
    summary: 'get a device access token over mutual TLS; print it or write it to a file',
    examples: [
      'c8ytoken fetch --url https://t12345.eu-latest.cumulocity.com --keystore device.p12',
      'C8YTOKEN_KEYSTORE_PASSWORD=changeit c8ytoken fetch --keystore device.jks --truststore truststore.jks -o /var/lib/c8y/token',
      'c8ytoken fetch --cert device.chain.pem --key device.key --format header | curl -sf -H @- https://t12345.eu-latest.cumulocity.com/inventory/managedObjects',
      'env=$(c8ytoken fetch --format env) || exit; eval "$env"',
      'c8ytoken fetch --format env --shell powershell | Invoke-Expression',
    ],
    options: [...CONNECTION_OPTIONS, 'format', 'shell', 'output', 'cache', 'force', 'meta'],
    settings: [...CONNECTION_OPTIONS, 'meta'],
    notes:
      "With -o FILE nothing goes to stdout unless --format asks for a form (then that form is printed too); --json prints the token's metadata without the token.\n" +
      'Take --format env into a variable first, as in the example: eval "$(c8ytoken fetch --format env)" carries on after a failed fetch, even under set -e.',
    load: async () => (await import('./run/fetch.js')).run,
  },
  {
    name: 'inspect',
    summary: 'decode a token and explain it (no network, no keys)',
    args: ['[token]', 'the token, a file holding it, or - for stdin (default: stdin when piped)'],
    examples: [
      'c8ytoken inspect eyJhbGciOi...',
      'c8ytoken inspect /var/lib/c8y/token',
      'c8ytoken fetch | c8ytoken inspect -',
      'c8ytoken inspect --json token | jq .claims.ten',
      'c8ytoken inspect --check --expires-within 5m /var/lib/c8y/token || c8ytoken fetch -o /var/lib/c8y/token',
    ],
    options: ['check', 'expiresWithin', 'showSecrets'],
    notes: 'Exit code 0 when the token decodes (with --check: and is valid), 1 when --check fails, 4 when it is not a token.',
    load: async () => (await import('./run/inspect.js')).run,
  },
  {
    name: 'watch',
    summary: 'keep a token file fresh: refresh after half the lifetime, retry through outages, forever',
    args: ['[command...]', 'with --exec: the command and its arguments, after --'],
    argValues: 'commands',
    examples: [
      'c8ytoken watch -o /var/lib/c8y/token',
      'c8ytoken watch -o token --exec -- systemctl reload my-agent',
      'c8ytoken watch -o token --json',
      'c8ytoken watch -o token --once',
      'c8ytoken watch -o /var/lib/c8y/token --cert device.pem --key device.key --renew-before 30d',
    ],
    options: [...CONNECTION_OPTIONS, 'output', 'meta', 'exec', 'once', 'exitOnError', 'minRetry', 'maxRetry', 'slowRetry', 'renewBefore', 'allowShorter', 'estUrl'],
    settings: [...CONNECTION_OPTIONS, 'meta', 'renewBefore', 'allowShorter', 'estUrl'],
    notes:
      'Signals: SIGHUP refreshes now; SIGINT and SIGTERM stop (exit 130, 143), leaving the file intact. A hook gets C8Y_TOKEN_FILE and the environment without the password variables.\n' +
      "A failed hook is logged and watch goes on; with --once it fails the run: the exit code is the hook's (128+N when signal N ended it, 127 when it could not be started), as exec gives its command's.\n" +
      'With --renew-before, a refresh that finds the device certificate inside the window renews it (as `cert renew`: PEM files or the PKCS#12/JKS keystore replaced in place, FILE.bak kept) and goes on with the new one; a failed renewal is retried with backoff at later refreshes while the old certificate keeps the tokens coming.',
    load: async () => (await import('./run/watch.js')).run,
  },
  {
    name: 'doctor',
    summary: 'walk the whole path (config, files, identity, chain, trust, DNS, TCP, TLS, token, clock) and say what to fix',
    examples: ['c8ytoken doctor --keystore device.p12', 'c8ytoken doctor --profile staging', 'c8ytoken doctor --json | jq \'.checks[] | select(.verdict != "pass")\''],
    options: CONNECTION_OPTIONS,
    notes: 'Exit code 0 when no step failed (warnings allowed), 1 when one failed. A step after a failed one is skipped, and says why.',
    load: async () => (await import('./run/doctor.js')).run,
  },
  {
    name: 'exec',
    summary: 'run a command with a valid token in its environment and a token file kept fresh while it runs',
    args: ['<command...>', 'the command and its arguments, after --'],
    argValues: 'commands',
    examples: [
      'c8ytoken exec -- sh -c \'curl -sf -H "Authorization: $C8Y_HEADER_AUTHORIZATION" "$C8Y_HOST/inventory/managedObjects"\'',
      'c8ytoken exec --keystore device.p12 -- ./my-agent --token-file-env C8Y_TOKEN_FILE',
      'c8ytoken exec -o /run/my-agent/token -- my-agent',
    ],
    options: [...CONNECTION_OPTIONS, 'output', 'minRetry', 'maxRetry', 'slowRetry'],
    settings: CONNECTION_OPTIONS,
    notes:
      "The command gets C8Y_TOKEN, C8Y_HOST, C8Y_TENANT, C8Y_USER, C8Y_HEADER_AUTHORIZATION and C8Y_TOKEN_FILE, a 0600 file kept fresh (half-life schedule) while it runs and removed afterwards unless -o named it; never a password variable. It is started once, never restarted. SIGINT, SIGTERM and SIGHUP are passed to it. The exit code is the command's (128+N when signal N ended it); when no token can be had, the token's exit code and the command does not start.",
    load: async () => (await import('./run/exec.js')).run,
  },
  {
    name: 'verify-chain',
    summary: 'check the device certificate, key and chain locally (and, with --connect, the TLS handshake)',
    examples: [
      'c8ytoken verify-chain --keystore device.p12',
      'c8ytoken verify-chain --cert device.pem --key device.key --device-ca device-root.pem',
      'c8ytoken verify-chain --keystore device.jks --json | jq \'.checks[] | select(.verdict == "fail")\'',
      'c8ytoken verify-chain --keystore device.p12 --connect',
      'c8ytoken verify-chain --cert device.pem --at 2027-01-01',
    ],
    options: [...CONNECTION_OPTIONS, 'at', 'connect', 'purpose'],
    settings: CONNECTION_OPTIONS,
    notes: 'Exit code 0 when every check passes (warnings allowed), 1 when a check fails, 4 when the files cannot be read.',
    load: async () => (await import('./run/verify-chain.js')).run,
  },
  {
    name: 'cert renew',
    summary: 'renew the configured device certificate over EST (simplereenroll with a device token)',
    examples: [
      'c8ytoken cert renew --url https://t12345.eu-latest.cumulocity.com --cert device.pem --key device.key',
      'c8ytoken cert renew --keystore device.p12 --json',
      'c8ytoken cert renew --cert device.pem --key device.key --new-key',
      'c8ytoken cert needs-renewal --cert device.pem --within 30d && c8ytoken cert renew --cert device.pem --key device.key',
    ],
    options: [...CONNECTION_OPTIONS, 'estUrl', 'newKey', 'allowShorter'],
    optionHelp: { url: 'tenant URL: the certificate request (EST) goes to port 443 (or --est-url) and the token request to port 8443, unless the URL names a port' },
    settings: [...CONNECTION_OPTIONS, 'estUrl', 'allowShorter'],
    notes:
      'The identity is replaced in place once the new certificate has fetched a token: PEM files, or a PKCS#12/JKS keystore rewritten in the same format with the same password and alias (other JKS entries kept). ' +
      'The previous files stay as FILE.bak; mode, owner and group are kept. A certificate that is a CA, lacks clientAuth, is valid for less than a day, or expires before the current one (unless --allow-shorter) is refused (exit 8). ' +
      'A file that cannot be replaced fails before anything is asked of the platform (exit 9). On any failure the files are as they were. Certificate requests go to port 443 unless the URL names a port.',
    load: async () => (await import('./run/cert-renew.js')).run,
  },
  {
    name: 'cert needs-renewal',
    summary: 'exit 0 when the device certificate should be renewed now (expires within --within, or expired), 1 when not yet',
    examples: [
      'c8ytoken cert needs-renewal --cert device.pem --within 30d',
      'c8ytoken cert needs-renewal --keystore device.p12 --json',
      'c8ytoken cert needs-renewal --within 45d && c8ytoken cert renew',
    ],
    options: ['cert', 'key', 'keystore', 'keystoreType', 'keystorePasswordFile', 'keyPasswordFile', 'alias', 'within'],
    settings: ['cert', 'key', 'keystore', 'keystoreType', 'alias', 'within'],
    notes: 'Exit code 0: renew now; 1: not yet (as `step certificate needs-renewal` and tedge); 3 or 4 when the certificate cannot be read. A keystore needs its store password as usual.',
    load: async () => (await import('./run/cert-needs-renewal.js')).run,
  },
  {
    name: 'cert enroll',
    summary: "get a new device's first certificate over EST (simpleenroll with its one-time password), polling until it is registered",
    examples: [
      'c8ytoken cert enroll --url https://t12345.eu-latest.cumulocity.com --device-id dev-0001 --one-time-password-file otp.txt --cert device.pem --key device.key',
      'C8YTOKEN_ONE_TIME_PASSWORD=... c8ytoken cert enroll --url https://t12345.eu-latest.cumulocity.com --device-id dev-0001 --cert device.pem --key device.key --max-wait 1h',
    ],
    options: ['url', 'estUrl', 'cert', 'key', 'truststore', 'truststorePasswordFile', 'timeout', 'proxy', 'proxyCa', 'proxyPasswordFile', 'deviceId', 'oneTimePasswordFile', 'retryEvery', 'maxWait'],
    settings: ['url', 'estUrl', 'cert', 'key', 'truststore', 'timeout', 'proxy', 'proxyCa', 'deviceId', 'retryEvery', 'maxWait'],
    optionHelp: {
      url: 'tenant URL: the certificate request (EST) goes to port 443 (or --est-url), the proof token request to port 8443, unless the URL names a port',
      cert: 'the PEM device certificate enroll WRITES (a new file; an existing one is not replaced)',
      key: 'the PEM private key enroll WRITES (a new file, mode 0600; an existing one is not replaced)',
    },
    notes:
      '--cert and --key name the files to write (the key 0600, EC P-256); existing files are not replaced. The certificate is checked (our key and CN, not a CA, clientAuth, valid for a day or more) and proven with a token before both files are renamed into place; a device not enrolled has neither file. The one-time password comes from --one-time-password-file or C8YTOKEN_ONE_TIME_PASSWORD, never from the command line. ' +
      'Until the device is registered, the platform refuses: enroll asks again every --retry-every for at most --max-wait.',
    load: async () => (await import('./run/cert-enroll.js')).run,
  },
  proxySpec,
  statusSpec,
  {
    name: 'completion',
    summary: 'print the shell completion script for bash, zsh, fish or powershell (commands, options, their values, profile names)',
    args: ['[shell]', 'bash, zsh, fish or powershell'],
    argValues: option('shell').choices!,
    examples: [
      'c8ytoken completion bash > ~/.local/share/bash-completion/completions/c8ytoken',
      'c8ytoken completion zsh > ~/.zfunc/_c8ytoken',
      'c8ytoken completion fish > ~/.config/fish/completions/c8ytoken.fish',
      'c8ytoken completion powershell | Out-String | Invoke-Expression',
      'source <(c8ytoken completion bash)',
    ],
    options: ['profiles'],
    notes:
      'The script is made from the commands and options of this version: make it again after an upgrade (the Debian package installs it for bash, zsh and fish). zsh: the folder must be in fpath before compinit runs (fpath+=(~/.zfunc) in ~/.zshrc). PowerShell: put the line in $PROFILE. Profile names are completed from the config file the search finds, or the one --config names on the line.',
    load: async () => (await import('./run/completion.js')).completionRunner(COMMANDS, COMMAND_GROUPS),
  },
];

/** Descriptions of the commands that group others ("cert" for "cert renew" ...). */
export const COMMAND_GROUPS: Readonly<Record<string, string>> = {
  cert: 'the device certificate: check when it needs renewal, renew it, enroll a new device (EST)',
};

/** A command of the table by name. */
export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
