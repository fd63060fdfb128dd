/**
 * The words of every error, keyed by its code: what happened (naming the file, URL or key) and what to
 * do next. Core code throws facts (src/core/errors.ts); this is the one place that words them, so the
 * same situation reads the same from every command and the hint fits the file it is about (a wrong
 * truststore password is not told to fix the keystore password).
 */
import {
  problemOf,
  type AnyFacts,
  type C8yError,
  type Endpoint,
  type ErrorCode,
  type EstRefusal,
  type FactsOf,
  type FileRole,
  type LocalCause,
  type PasswordRole,
  type PlatformAnswer,
  type PlatformSaid,
  type Problem,
  type ProxyVia,
} from '../core/errors.js';
import { longFlag, OPTIONS } from '../core/config/options.js';
import { formatBytes } from '../core/limits.js';
import { formatDuration } from '../core/time/duration.js';
import { isoSeconds } from '../core/time/iso.js';
import { shownText } from '../core/text.js';

export interface Words {
  message: string;
  hint?: string;
}

const VERIFY_CHAIN = 'Run `c8ytoken verify-chain --device-ca CA.pem` to check the certificates locally.';
const CLIENT_CERT_CAUSES =
  'Likely causes: the device CA is not uploaded to the tenant (or not marked for auto-registration), the certificate expired, the chain lacks an intermediate, or the device is not registered for certificate authentication.';

/** How a password is given: the option's file and its variable, from the option table. */
export function howToGivePassword(role: PasswordRole): string {
  const row = OPTIONS.find((r) => r.password?.role === role)!;
  return `${longFlag(row)} FILE or ${row.env![0]}`;
}

/** A key in a token that cannot be reached: which piece is missing and which package brings it. */
function pkcs11Unavailable(f: FactsOf<'PKCS11_UNAVAILABLE'>): Words {
  if (f.missing === 'openssl')
    return {
      message: `The key ${shownText(f.path ?? '')} is in a token, and c8ytoken reaches it with the openssl command, which is not installed (or not on PATH).`,
      hint: 'Install OpenSSL 3 (Debian/Ubuntu: apt-get install openssl).',
    };
  if (f.missing === 'module')
    return {
      message: `The PKCS#11 module ${shownText(f.module ?? '')} cannot be loaded${reason(f)}.`,
      hint: "Check --pkcs11-module / PKCS11_MODULE_PATH names the token's module (SoftHSM2: libsofthsm2.so, OpenSC: opensc-pkcs11.so, TPM: libtpm2_pkcs11.so), or leave it unset for p11-kit's proxy.",
    };
  return {
    message: f.path ? `The PKCS#11 engine ${shownText(f.path)} cannot be used${reason(f)}.` : "OpenSSL's PKCS#11 engine (libp11) is not installed: c8ytoken reaches keys in tokens through it.",
    hint: 'Install it (Debian/Ubuntu: apt-get install libengine-pkcs11-openssl; Fedora: openssl-pkcs11; Homebrew: libp11), or name its pkcs11.so with --pkcs11-engine / C8YTOKEN_PKCS11_ENGINE.',
  };
}

/** "the keystore device.p12", "the key file device.key". */
function file(f: { path?: string; role?: FileRole }): string {
  const path = f.path ? shownText(f.path) : 'the file';
  switch (f.role) {
    case undefined:
      return path;
    case 'keystore':
    case 'truststore':
    case 'device CA':
      return `the ${f.role} ${path}`;
    case 'output':
      return path;
    case 'PKCS#11 key':
      return `the key ${path} in its token`;
    default:
      return `the ${f.role} file ${path}`;
  }
}

const entry = (f: { alias?: string }): string => (f.alias !== undefined ? ` (entry "${shownText(f.alias)}")` : '');
/** The server named by its origin (scheme, host, port): the path is always the same endpoint. */
const where = (f: { url?: string; host?: string }): string => {
  if (!f.url) return shownText(f.host ?? 'the platform');
  try {
    return shownText(new URL(f.url).origin);
  } catch {
    return shownText(f.url);
  }
};
const said = (f: { platform?: PlatformSaid; excerpt?: string }): string => {
  // The platform's message usually ends with its own full stop: one is enough.
  if (f.platform) return ` The platform said: ${endSentence([f.platform.error, f.platform.message].filter(Boolean).join(': '))}`;
  return f.excerpt ? ` The answer was: "${f.excerpt}".` : '';
};
/** Text with one closing full stop (none added after ".", "!" or "?"). */
const endSentence = (text: string): string => (/[.!?]$/.test(text.trimEnd()) ? text.trimEnd() : `${text.trimEnd()}.`);
/** The port the connection went to: the one in the facts, else the URL's (its scheme's default when it names none). */
const portOf = (f: Partial<Endpoint>): string => {
  if (f.port) return shownText(f.port);
  try {
    const url = new URL(f.url ?? '');
    return url.port || (url.protocol === 'http:' ? '80' : '443');
  } catch {
    return f.operation ? '443' : '8443';
  }
};
const reason = (f: { reason?: string }): string => (f.reason ? ` (${shownText(f.reason)})` : '');
const optionHelp = (): string => 'Run with --help for usage.';

/** "the proxy http://user:***@proxy.corp:3128 (from HTTPS_PROXY)": the proxy URL is redacted by core. */
const proxyNamed = (f: Partial<ProxyVia>): string => `the proxy ${shownText(f.proxy ?? '')} (from ${shownText(f.proxySource ?? 'the proxy setting')})`;
/** The host of the CONNECT target, for NO_PROXY=. */
const targetHost = (f: Partial<ProxyVia> & { host?: string }): string => shownText(f.target ? f.target.slice(0, f.target.lastIndexOf(':')) : (f.host ?? 'HOST'));
const bypass = (f: Partial<ProxyVia> & { host?: string }): string => `set NO_PROXY=${targetHost(f)} to connect directly, or --proxy none`;
const connectLine = (f: { target?: string }): string => `CONNECT ${shownText(f.target ?? '')}`;
const proxyAnswer = (f: { proxyStatus?: number; proxyStatusText?: string }): string => `${f.proxyStatus ?? '?'}${f.proxyStatusText ? ` ${shownText(f.proxyStatusText, 80)}` : ''}`;

const FILE_HINTS: Partial<Record<FileRole, string>> = {
  config: 'Check --config / C8YTOKEN_CONFIG.',
  token: 'Give a token (eyJ...), the path of a token file, or - to read stdin.',
};

const WORDS: { [C in ErrorCode]: (f: FactsOf<C>) => Words } = {
  CHECK_FAILED: () => ({ message: 'A check failed.' }),
  USAGE: (f) => ({
    // A reason already names the value (or, for a password, deliberately does not): the value is shown only without one.
    message:
      f.detail ??
      (f.option ? (f.reason ? `${f.option} ${f.reason}.` : `${f.option} is not valid${f.value !== undefined ? `: "${shownText(f.value, 60)}"` : ''}.`) : `The command line is not valid${reason(f)}.`),
    hint: f.suggestion ?? (f.reason === 'both a keystore and PEM files' ? 'Give either --keystore, or --cert with --key.' : optionHelp()),
  }),
  CONFIG_UNREADABLE: (f) =>
    f.line !== undefined || (f.reason && f.role === 'config' && !f.nodeCode && f.reason !== 'does not exist')
      ? {
          message: `The config file ${shownText(f.path ?? '')} cannot be parsed${f.line !== undefined ? ` at line ${f.line}, column ${f.column}` : ''}: ${f.reason ?? 'a syntax error'}.`,
          hint: 'Fix the JSON/YAML syntax there; .c8ytokenrc.example shows the format.',
        }
      : { message: `The config file ${shownText(f.path ?? '')} ${f.reason === 'does not exist' ? 'does not exist' : `cannot be read${reason(f)}`}.`, hint: FILE_HINTS.config! },
  CONFIG_INVALID: (f) => {
    if (f.problems) {
      return {
        message: `The config file ${shownText(f.path ?? '')} has ${f.problems.length} problem(s):\n${f.problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
        hint: 'Fix the keys listed; .c8ytokenrc.example shows every key with an example.',
      };
    }
    if (f.profile !== undefined) {
      return {
        message: `There is no profile "${shownText(f.profile)}"${f.path ? ` in ${shownText(f.path)}` : ' (no config file was found)'}.`,
        hint: f.profiles?.length ? `Profiles there: ${f.profiles.join(', ')}.` : 'Add it under "profiles" in the config file, or drop --profile / C8YTOKEN_PROFILE.',
      };
    }
    if (f.reason === 'a program')
      return {
        message: `${shownText(f.path ?? '')} is a program, and c8ytoken runs no code from config files.`,
        hint: 'Write the settings as JSON or YAML (.c8ytokenrc.json, .c8ytokenrc.yaml) and remove the program.',
      };
    if (f.reason === 'in an open folder')
      return {
        message: `The config file ${shownText(f.path ?? '')} is in ${shownText(f.otherPath ?? '')}, a folder any user can write without the sticky bit: anyone could have replaced it, so its url, truststore and credentials cannot be trusted.`,
        hint: `Move it to a folder only you (or root) can write, or protect the folder: chmod o-w ${shownText(f.otherPath ?? '')} (or chmod +t).`,
      };
    if (f.reason === 'writable by others')
      return {
        message: `The config file ${shownText(f.path ?? '')} can be changed by any user on this machine, so its url, truststore and credentials cannot be trusted.`,
        hint: `Check its content, then make it writable by its owner only: chmod o-w ${shownText(f.path ?? '')}`,
      };
    if (f.reason === 'both a keystore and PEM files')
      return {
        message: `Both a keystore and PEM files are configured at the same level (${f.source}).`,
        hint: 'Keep one: the keystore, or the certificate and key (check the config file and the C8Y_CERTIFICATE_* / C8YTOKEN_KEYSTORE variables).',
      };
    return {
      message: `${f.option ?? 'A setting'} ${f.reason ?? 'is not valid'}${f.value !== undefined ? ` ("${shownText(f.value, 60)}")` : ''}.`,
      hint: f.option ? `Fix or unset ${f.option}.` : 'Fix the setting.',
    };
  },
  NO_URL: () => ({ message: 'No tenant URL is configured.', hint: 'Give --url https://TENANT.cumulocity.com, set C8Y_HOST, or put "url" in .c8ytokenrc.' }),
  BAD_URL: (f) => {
    if (f.reason === 'credentials')
      return { message: `The tenant URL from ${f.source} carries user credentials; the device token request authenticates with the certificate only.`, hint: 'Remove user:password@ from the URL.' };
    if (f.reason?.startsWith('scheme'))
      return { message: `The tenant URL "${shownText(f.value ?? '', 80)}" (from ${f.source}) uses ${f.reason.slice(7)}; the platform is reached only over HTTPS.`, hint: 'Use an https:// URL.' };
    return { message: `The tenant URL "${shownText(f.value ?? '', 80)}" (from ${f.source}) is not a URL.`, hint: 'Give it like https://t12345.eu-latest.cumulocity.com' };
  },
  NO_CREDENTIALS: (f) => {
    if (f.reason === 'no certificate')
      return { message: `A key (${shownText(f.path ?? '')}) is configured but no certificate.`, hint: 'Give the device certificate with --cert (or C8Y_CERTIFICATE_FILE).' };
    if (f.reason === 'no key')
      return { message: `No private key is configured for the certificate ${shownText(f.path ?? '')}.`, hint: 'Give the device key with --key (or C8Y_CERTIFICATE_KEY_FILE).' };
    if (f.reason === 'no key for the handshake') return { message: '--connect needs the private key to perform the TLS handshake.', hint: 'Give --key (or use a keystore).' };
    return { message: 'No device credentials are configured.', hint: 'Give --keystore FILE (PKCS#12 or JKS), or --cert FILE with --key FILE; or set them in .c8ytokenrc.' };
  },
  PROXY_INVALID: (f) => {
    const why: Record<string, string> = {
      'not-url': 'is not a valid URL',
      scheme: `uses ${shownText(f.reason ?? '?', 20)}://, which is not supported: only HTTP CONNECT proxies (http:// or https://) are`,
      'no-host': 'names no host',
      encoding: 'has a user or password that is not valid percent-encoding (write % as %25)',
    };
    return {
      message: `The proxy ${shownText(f.proxy ?? '', 120)} from ${shownText(f.proxySource ?? 'the proxy setting')} ${why[f.problem ?? ''] ?? 'is not valid'}.`,
      hint: `Give an HTTP CONNECT proxy as http://HOST:PORT or https://HOST:PORT (a user and password percent-encoded, or the password in ${howToGivePassword('proxy')}), or "none" for no proxy.`,
    };
  },
  PROXY_AUTH_REQUIRED: (f) => {
    const offers = f.authSchemes?.length ? ` (it offers ${f.authSchemes.map((a) => shownText(a, 40)).join(', ')})` : '';
    const answered = `it answered ${connectLine(f)} with ${proxyAnswer(f)}${offers}`;
    if (f.problem === 'scheme')
      return {
        message: `${capital(proxyNamed(f))} wants credentials with a scheme c8ytoken does not speak: ${answered}.`,
        hint: `Only Basic proxy authentication is supported: ask for a Basic account on the proxy, or ${bypass(f)}.`,
      };
    if (f.problem === 'rejected')
      return {
        message: `${capital(proxyNamed(f))} did not accept the proxy credentials: ${answered}.`,
        hint: `Check the user in the proxy URL and the password (percent-encoded in the URL, or in ${howToGivePassword('proxy')}).`,
      };
    return {
      message: `${capital(proxyNamed(f))} wants credentials: ${answered}.`,
      hint: `Put the user in the proxy URL (http://USER@HOST:PORT) and the password in ${howToGivePassword('proxy')}, or percent-encoded in the URL (http://USER:PASSWORD@HOST:PORT).`,
    };
  },
  PASSWORD_REQUIRED: (f) =>
    f.role === 'PKCS#11 key'
      ? {
          message: `${capital(file(f))} needs the token's PIN, and there is no terminal to ask for it.`,
          hint: `Give the PIN with ${howToGivePassword('key')}, or pin-source=file:FILE in the URI (never pin-value on the command line).`,
        }
      : {
          message: `${capital(file(f))}${entry(f)} ${f.role === 'key' ? 'is encrypted and needs its password' : 'needs its password'}, and there is no terminal to ask for it.`,
          hint: `Give it with ${howToGivePassword(f.password ?? 'keystore')}.`,
        },
  FILE_NOT_FOUND: (f) => ({
    message: `${capital(file(f))} does not exist.`,
    hint: FILE_HINTS[f.role ?? 'certificate'] ?? 'Check the path (relative paths in a config file are relative to that file).',
  }),
  FILE_UNREADABLE: (f) => ({
    message: f.reason === 'a folder, not a file' ? `${capital(file(f))} is a folder, not a file.` : `${capital(file(f))} cannot be read${reason(f)}.`,
    hint: f.reason?.startsWith('not a regular file')
      ? f.role?.endsWith('password')
        ? 'Give a regular file or a pipe (such as <(pass show NAME)): c8ytoken does not read devices or sockets.'
        : 'Give a regular file: c8ytoken does not read FIFOs, devices or sockets (only password files may be pipes).'
      : f.reason?.startsWith('a pipe whose writer')
        ? 'Start the program that writes the password (it may be waiting for its own passphrase), or give it longer with --timeout.'
        : f.reason?.startsWith('a pipe that ended')
          ? 'The program that writes the password gave nothing: run it alone to see why (e.g. pass show NAME).'
          : f.reason === 'a folder, not a file'
            ? 'Name the file itself.'
            : 'Check the file permissions for the user running c8ytoken.',
  }),
  FILE_TOO_LARGE: (f) => ({
    message: `${capital(file(f))} is ${formatBytes(f.actual ?? 0)}${f.actual !== undefined && f.limit !== undefined && f.actual > f.limit ? '' : ' or more'}; c8ytoken reads at most ${formatBytes(f.limit ?? 0)} for a ${f.role ?? 'file'}.`,
    hint: f.role === 'token' ? 'Give the token file, not another file.' : 'Check that this is the right file; real ones are far smaller.',
  }),
  NOT_A_CERTIFICATE: (f) =>
    f.reason === 'no CN'
      ? {
          message: `The device certificate in ${shownText(f.path ?? '')} (${shownText(f.subject ?? '')}) has no CN; the platform names devices by it.`,
          hint: 'Renew a certificate whose subject CN is the device id.',
        }
      : notACertificate(f),
  NOT_A_KEY: (f) => ({
    message:
      f.alias !== undefined
        ? `The private key of entry "${shownText(f.alias)}" in ${shownText(f.path ?? '')} cannot be read.`
        : `${capital(file(f))} ${f.reason === 'holds certificates' ? 'holds no private key' : f.nodeCode || !f.reason ? 'cannot be read as a private key' : 'holds no PEM private key'}.`,
    hint:
      f.reason === 'holds certificates'
        ? 'It holds certificates: the key is a separate file (BEGIN PRIVATE KEY / RSA PRIVATE KEY / EC PRIVATE KEY).'
        : f.alias !== undefined
          ? 'Check the key type is RSA or EC; `openssl pkcs12 -info -in FILE` or `keytool -list -v -keystore FILE` shows the file.'
          : 'Give a PEM key: PKCS#1, SEC1, PKCS#8 or encrypted PKCS#8; `openssl pkey -in KEY -noout` tells whether OpenSSL can read it.',
  }),
  WRONG_PASSWORD: (f) => {
    if (f.role === 'PKCS#11 key')
      return {
        message: `The token refused the PIN for ${shownText(f.path ?? '')} (module ${shownText(f.module ?? '')}).`,
        hint: `Give the right PIN with ${howToGivePassword('key')} or pin-source=file:FILE in the URI. Tokens count wrong PINs and lock after a few: check it before trying again.`,
      };
    const what =
      f.password === 'key'
        ? f.alias !== undefined
          ? `The key password of entry "${shownText(f.alias)}" in ${shownText(f.path ?? '')}`
          : `The password for ${file(f)}`
        : `The ${f.password ?? f.role} password for ${shownText(f.path ?? '')}`;
    const why = f.reason === 'integrity check' ? ' (the integrity check failed)' : f.reason ? ` (${f.reason})` : '';
    const hint = `Give the right one with ${howToGivePassword(f.password ?? 'keystore')}${f.password === 'key' && f.format ? ' (a keystore entry uses the store password unless it has its own)' : ''}.`;
    return { message: `${what} is wrong${why}.`, hint };
  },
  KEY_MISMATCH: (f) =>
    f.role === 'PKCS#11 key'
      ? {
          message: `The key ${shownText(f.path ?? '')} in the token does not belong to the certificate ${shownText(f.otherPath ?? '')}${(f.actual ?? 0) > 1 ? ' (nor to any certificate in it)' : ''}: its signature does not verify with the certificate's public key.`,
          hint: 'Name the key the certificate was issued for (`pkcs11-tool --list-objects` shows the objects; compare `pkcs11-tool --read-object --type pubkey` with `openssl x509 -noout -pubkey -in CERT`).',
        }
      : f.role === 'keystore'
        ? {
            message: `In ${shownText(f.path ?? '')}${entry(f)} the private key does not belong to the certificate ${shownText(f.subject ?? '')}.`,
            hint: 'Rebuild the keystore from the matching key and certificate.',
          }
        : {
            message: `The private key ${shownText(f.path ?? '')} does not belong to the certificate ${shownText(f.otherPath ?? f.path ?? '')}${(f.actual ?? 0) > 1 ? ' (nor to any certificate in it)' : ''}.`,
            hint: 'Pair the certificate with the key it was issued for; compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`.',
          },
  KEYSTORE_CORRUPT: (f) => {
    if (f.reason === 'PEM text')
      return {
        message: `${capital(file(f))} is PEM text, not a PKCS#12 or JKS keystore.`,
        hint: `Use --cert/--key for PEM files${f.role === 'truststore' ? ' (or give it as a PEM --truststore)' : ''}.`,
      };
    if (f.reason === 'neither PKCS#12 nor JKS')
      return {
        message: `${capital(file(f))} is neither a PKCS#12 nor a JKS keystore.`,
        hint: 'Check the file; `openssl pkcs12 -info -in FILE` or `keytool -list -keystore FILE` tells what it holds.',
      };
    return {
      message: `${capital(file(f))} is not a readable ${f.format ?? ''} keystore${reason(f)}.`.replace('  ', ' '),
      hint: f.reason?.includes('twice')
        ? 'Rebuild the keystore with keytool so each alias is unique.'
        : 'Check that the file was copied completely and in binary mode; `openssl pkcs12 -info -in FILE` or `keytool -list -keystore FILE` shows what it holds.',
    };
  },
  KEYSTORE_UNSUPPORTED: (f) => {
    if (f.format === 'JCEKS')
      return {
        message: `${capital(file(f))} is a JCEKS keystore, which c8ytoken does not read.`,
        hint: `Convert it: keytool -importkeystore -srckeystore ${shownText(f.path ?? 'FILE')} -srcstoretype JCEKS -destkeystore device.p12 -deststoretype PKCS12`,
      };
    if (f.reason === 'public-key protection')
      return { message: `${capital(file(f))} is a public-key-protected PKCS#12 file; only password-protected ones are supported.`, hint: 'Re-export the keystore with a password.' };
    return {
      message: `${capital(file(f))}${entry(f)} uses an algorithm c8ytoken cannot read${reason(f)}.`,
      hint: 'Re-export it with OpenSSL 3 defaults (`openssl pkcs12 -export ...`, PBES2/AES-256), or convert it with keytool -importkeystore -deststoretype PKCS12.',
    };
  },
  KEYSTORE_NO_KEY: (f) =>
    f.reason === 'no certificate'
      ? { message: `The key entry "${shownText(f.alias ?? '')}" in ${shownText(f.path ?? '')} has no certificate.`, hint: 'Import the device certificate for that key into the keystore.' }
      : {
          message: `${capital(file(f))} holds no private key${f.actual ? ` (only ${f.actual} trusted certificate(s))` : ''}.`,
          hint: 'Use the keystore that holds the device key; a truststore goes to --truststore.',
        },
  KEYSTORE_ALIAS_NOT_FOUND: (f) => ({
    message: `${capital(file(f))} has no key entry "${shownText(f.alias ?? '')}".`,
    hint: `Key entries in it: ${(f.aliases ?? []).map((n) => `"${shownText(n, 60)}"`).join(', ')}.`,
  }),
  KEYSTORE_ALIAS_AMBIGUOUS: (f) => ({
    message: `${capital(file(f))} holds ${f.aliases?.length ?? 'several'} key entries; say which with --alias.`,
    hint: `Key entries in it: ${(f.aliases ?? []).map((n) => `"${shownText(n, 60)}"`).join(', ')}.`,
  }),
  TRUSTSTORE_EMPTY: (f) => ({
    message: `The truststore ${shownText(f.path ?? '')} holds no certificates.`,
    hint: 'Import the CA that signs the platform certificate: keytool -importcert -file ca.pem -keystore truststore.jks',
  }),
  TOKEN_MALFORMED: (f) => tokenWords(f),
  INPUT_LIMIT: (f) => {
    if (f.unit === 'signature checks') {
      return {
        message: `Ordering the ${f.actual ?? 'many'} certificates of ${file(f)} needs more than ${f.limit} signature checks (many share one name); c8ytoken stops there, as Go's crypto/x509 does.`,
        hint: 'Keep only the device certificate and its intermediates in the file; `c8ytoken verify-chain` shows which are not on the path.',
      };
    }
    return {
      message: `${capital(file(f))}${entry(f)} ${f.unit === 'iterations' ? `asks for ${(f.actual ?? 0).toLocaleString('en')} key-derivation iterations for ${f.what}; c8ytoken stops at ${(f.limit ?? 0).toLocaleString('en')}, as OpenJDK and .NET do` : `holds more ${f.what ?? 'items'} than c8ytoken handles (${f.limit}${f.actual !== undefined ? `; it declares ${f.actual}` : ''})`}.`,
      hint: 'A real file of this kind stays far below that: the file is damaged or was made to exhaust the machine. Re-create it with standard tools (openssl, keytool).',
    };
  },
  WEAK_CREDENTIALS: (f) => ({
    message: `The device credentials from ${shownText(f.path ?? '')} are too weak to send${reason(f)}.`,
    hint: 'Use an RSA key of 2048 bits or more (or EC P-256/P-384) and certificates signed with SHA-256; run `c8ytoken verify-chain` to see which certificate is weak.',
  }),
  DNS_FAILED: (f) => ({
    message: `The host ${shownText(f.host ?? '')} cannot be resolved${f.nodeCode ? ` (${f.nodeCode})` : ''}.`,
    hint: 'Check the tenant URL for typos, and the DNS settings of this machine.',
  }),
  CONNECTION_REFUSED: (f) => ({
    message: `${where(f)} refused the connection.`,
    hint: f.operation
      ? `Nothing listens on port ${portOf(f)} there. Certificate requests go to the tenant's port 443 (not the token endpoint's 8443) unless the URL names a port.`
      : `Nothing listens on port ${portOf(f)} there. Check the URL's port (the token endpoint is on 8443 unless the URL names another) and any firewall.`,
  }),
  CONNECTION_RESET: (f) => ({
    message: `${where(f)} reset the connection${f.stage === 'handshake' ? ' during the TLS handshake' : ''}.`,
    hint: 'Retry later; if it persists, a proxy or firewall may be cutting TLS on that port.',
  }),
  TIMEOUT: (f) =>
    f.stage === 'proxy'
      ? {
          message: `${capital(proxyNamed(f))} did not answer ${connectLine(f)}${f.timeoutMs !== undefined ? ` within ${formatDuration(f.timeoutMs)}` : ''}.`,
          hint: `Check that the proxy is reachable and can reach the platform; raise --timeout; or ${bypass(f)}.`,
        }
      : timeoutWords(f),
  NETWORK_FAILED: (f) => ({ message: `The request to ${where(f)} failed${reason(f)}.`, hint: 'Check the network connection and any proxy or firewall; retry later.' }),
  PROXY_DNS_FAILED: (f) => ({
    message: `The proxy host ${shownText(f.proxyHost ?? '')} cannot be resolved${f.nodeCode ? ` (${f.nodeCode})` : ''}; the proxy is ${shownText(f.proxy ?? '')}, from ${shownText(f.proxySource ?? '')}.`,
    hint: `Check the proxy setting for typos and this machine's DNS; or ${bypass(f)}.`,
  }),
  PROXY_UNREACHABLE: (f) => {
    switch (f.problem) {
      case 'refused':
        return { message: `${capital(proxyNamed(f))} refused the connection: nothing listens there.`, hint: `Check the proxy's host and port and that it runs; or ${bypass(f)}.` };
      case 'closed':
        return {
          message: `${capital(proxyNamed(f))} closed the connection without answering ${connectLine(f)}.`,
          hint: `Check that this is an HTTP proxy${f.proxyTls ? '' : ' (an https:// proxy needs https:// in its URL)'}; retry later; or ${bypass(f)}.`,
        };
      case 'not-http':
        return { message: `${capital(proxyNamed(f))} did not answer CONNECT with HTTP: it does not look like an HTTP proxy.`, hint: `Check the proxy's host and port; or ${bypass(f)}.` };
      default:
        return { message: `Cannot reach ${proxyNamed(f)}${f.nodeCode ? ` (${f.nodeCode})` : reason(f)}.`, hint: `Check the network path to the proxy; retry later; or ${bypass(f)}.` };
    }
  },
  PROXY_REFUSED: (f) => {
    if (f.problem === 'forbidden')
      return {
        message: `${capital(proxyNamed(f))} refused to open a tunnel to ${shownText(f.target ?? '')}: it answered ${connectLine(f)} with ${proxyAnswer(f)}.`,
        hint: `Proxies often allow CONNECT only to port 443, and the device token endpoint is on port ${shownText(f.target?.split(':').pop() ?? '8443')}: ask the proxy's administrators to allow CONNECT to ${shownText(f.target ?? '')}, or ${bypass(f)}.`,
      };
    return {
      message: `${capital(proxyNamed(f))} did not open a tunnel to ${shownText(f.target ?? '')}: it answered ${connectLine(f)} with ${proxyAnswer(f)}.`,
      hint:
        f.problem === 'upstream'
          ? `The proxy could not reach the platform: check the tenant URL and port; retry later; or ${bypass(f)}.`
          : `Ask the proxy's administrators why it refuses CONNECT to ${shownText(f.target ?? '')}, or ${bypass(f)}.`,
    };
  },
  PROXY_UNTRUSTED: (f) => ({
    message: `The TLS certificate of ${proxyNamed(f)} is not trusted by ${shownText(f.proxyTrust ?? "the system's root CAs")}${f.nodeCode ? ` (${f.nodeCode})` : ''}.`,
    hint: "Give the proxy's CA with --proxy-ca FILE. (--truststore is for the platform only and does not apply to the proxy.)",
  }),
  PROXY_TLS_FAILED: (f) => ({
    message: `The TLS handshake with ${proxyNamed(f)} failed${f.reason ? `: ${shownText(f.reason)}` : ''}${f.nodeCode ? ` (${f.nodeCode})` : ''}.`,
    hint: 'A proxy that speaks plain HTTP on that port is written http://, not https://.',
  }),
  PROXY_TLS_INTERCEPTED: (f) => ({
    message: `${capital(proxyNamed(f))} intercepts TLS: the server that answered for ${shownText(f.target ?? '')} through it did not ask for the device certificate, as the platform always does${f.serverIssuer ? `, and its certificate is issued by ${shownText(f.serverIssuer)}` : ''}${f.reason ? ` (${shownText(f.reason)})` : ''}. Mutual TLS cannot pass a TLS-terminating proxy: the device certificate must reach the platform itself.`,
    hint: `Exempt the platform host from the proxy: NO_PROXY=${targetHost(f)} (or --proxy none where a direct connection is allowed), or ask the proxy's administrators to pass ${shownText(f.target ?? '')} through without TLS inspection.`,
  }),
  SERVER_UNTRUSTED: (f) => ({
    message: `The server certificate of ${where(f)} is not trusted by ${shownText(f.trust ?? 'the trust in use')}${f.nodeCode ? ` (${f.nodeCode})` : ''}.`,
    hint: f.customTrust
      ? `Add the CA that signs the platform's certificate to ${shownText(f.trust ?? 'the truststore')}, or use the right --truststore.`
      : 'For a platform with a private CA, give its CA with --truststore FILE (PEM, PKCS#12 or JKS).',
  }),
  HOSTNAME_MISMATCH: (f) => ({
    message: `The server certificate of ${where(f)} is not valid for the name ${shownText(f.host ?? '')}${f.reason ? `: ${shownText(f.reason)}` : ''}.`,
    hint: 'Use the host name the platform certificate is issued for (the tenant domain), not an IP address or alias.',
  }),
  CLIENT_CERT_REJECTED: (f) => {
    const what = `${where(f)} ${f.stage === 'after-handshake' ? 'closed the connection right after the TLS handshake' : 'ended the TLS handshake'} once it had the device certificate`;
    return withLocalCause(f, what, 'the server did not accept the device certificate', `${CLIENT_CERT_CAUSES} ${VERIFY_CHAIN}`);
  },
  TLS_FAILED: (f) => ({
    message: `The TLS handshake with ${where(f)} failed${f.reason ? `: ${shownText(f.reason)}` : ''}.`,
    hint: `Check that port ${portOf(f)} of ${where(f)} is the tenant's ${f.operation ? 'EST port (443 unless the URL names one)' : 'mTLS token endpoint (8443 unless the URL names one)'} and that a proxy does not intercept TLS.`,
  }),
  PLATFORM_BAD_REQUEST: (f) => platform(f, 'the platform could not parse the certificate chain', 'Check the certificate files; try --chain-header none or full, and run `c8ytoken verify-chain`.'),
  PLATFORM_UNAUTHORIZED: (f) =>
    platform(
      f,
      'a certificate is revoked or the chain is not valid for this tenant',
      'Check that the device CA (or an intermediate of the chain) is uploaded to the tenant and trusted; run `c8ytoken verify-chain --device-ca CA.pem`.',
    ),
  PLATFORM_FORBIDDEN: (f) =>
    platform(f, 'the device is not authorized', 'Check the device is registered for certificate authentication (auto-registration on the CA, or bulk registration with AUTH_TYPE=CERTIFICATES).'),
  PLATFORM_FEATURE_DISABLED: (f) =>
    platform(
      f,
      'the device access token feature is not available on this platform (or the URL is not a Cumulocity tenant)',
      'Ask the platform administrator to enable device access tokens; check the URL.',
    ),
  PLATFORM_UNPROCESSABLE: (f) =>
    platform(f, 'certificate verification or auto-registration failed', 'Check the CA uploaded to the tenant has auto-registration enabled, and that the certificate CN is a valid device name.'),
  PLATFORM_REFUSED: (f) =>
    f.reason === 'redirect'
      ? {
          message: `${where(f)} answered HTTP ${f.status}, a redirect${f.location ? ` to ${f.location}` : ''}; c8ytoken does not follow redirects with device credentials.`,
          hint: 'Use the tenant URL the platform redirects to, with its port.',
        }
      : platform(f, 'the request was refused', 'Check the URL points at the Cumulocity tenant token endpoint.'),
  PLATFORM_ERROR: (f) => platform(f, 'the platform failed', `${retryAfter(f) ?? 'Retry later'}; a platform error is usually temporary.`),
  PLATFORM_BUSY: (f) => platform(f, 'too many requests', `${retryAfter(f) ?? 'Wait and retry'}; a token stays valid for its lifetime, so fetch it once and reuse it (fetch -o FILE).`),
  BAD_RESPONSE: (f) => ({
    message: `${where(f)} answered ${f.status === 200 ? '200 but the body is not JSON' : `HTTP ${f.status}`}.${said(f)}`,
    hint: 'Check the URL points at the Cumulocity tenant and no proxy rewrites the answer; retry later.',
  }),
  NO_TOKEN: (f) => ({
    message: `${where(f)} answered ${f.status ?? 200} without a usable token${reason(f)}.`,
    hint: /clock/.test(f.reason ?? '') ? "Check this device's clock (NTP) and the platform's." : 'Retry later; if it persists, report it to the platform operator.',
  }),
  RESPONSE_TOO_LARGE: (f) => ({
    message: `${where(f)} answered HTTP ${f.status} with a body over ${formatBytes(f.limit ?? 0)}; ${f.operation ? 'an EST' : 'a token'} answer is a few KiB.`,
    hint: 'Check the URL points at the Cumulocity tenant, not a proxy or another service.',
  }),
  RESPONSE_TRUNCATED: (f) => ({
    message: `The answer from ${where(f)}${f.status ? ` (HTTP ${f.status})` : ''} was cut off before its end.`,
    hint: 'Retry; a connection cut mid-answer is a network or platform hiccup.',
  }),
  OUTPUT_UNWRITABLE: (f) => outputWords(f),
  PKCS11_UNAVAILABLE: (f) => pkcs11Unavailable(f),
  PKCS11_NOT_FOUND: (f) => ({
    message: `The module ${shownText(f.module ?? '')} shows no token and private key matching ${shownText(f.path ?? '')}.`,
    hint: "Check the token is present and the URI's token= and object= (or id=): `pkcs11-tool --module MODULE --list-token-slots` and `--list-objects --type privkey` show them; --pkcs11-module names another module.",
  }),
  PKCS11_LOCKED: (f) => ({
    message: `The PIN of the token holding ${shownText(f.path ?? '')} is locked (too many wrong PINs).`,
    hint: "Unlock it with the token's SO PIN or PUK (e.g. `pkcs11-tool --login --login-type so --init-pin`, or the vendor's tool), then give the right PIN. A TPM (tpm2-pkcs11) is in its dictionary-attack lockout: it unlocks itself after its recovery time, or at once with `tpm2_dictionarylockout --clear-lockout`.",
  }),
  PKCS11_NO_ANSWER: (f) => ({
    message: `The token holding ${shownText(f.path ?? '')} (module ${shownText(f.module ?? '')}) did not answer within ${formatDuration(f.timeoutMs ?? 0)}.`,
    hint: 'Check the token is plugged in and its service runs (pcscd for smartcards, tpm2-abrmd for a TPM); raise --timeout for a slow token.',
  }),
  PKCS11_FAILED: (f) => ({
    message: `The token holding ${shownText(f.path ?? '')} (module ${shownText(f.module ?? '')}) failed${reason(f)}.`,
    hint: 'Run `c8ytoken doctor` to see each step, and `pkcs11-tool --module MODULE --list-objects --login` to check the token.',
  }),
  KEY_UNSUPPORTED: (f) =>
    f.bits !== undefined
      ? {
          message: `The device key is ${f.keyType ?? 'RSA'} with ${f.bits} bits; certificates for keys under ${f.limit ?? 2048} bits are unsafe, and c8ytoken does not request them.`,
          hint: 'Renew with a new key (--new-key), which is RSA 2048 or more.',
        }
      : {
          message: `The device key is ${shownText(f.keyType ?? 'of an unknown type', 60)}; certificate requests are made for RSA and EC P-256/P-384/P-521 keys only.`,
          hint: 'Renew with a new key (--new-key), which is EC P-256.',
        },
  EST_UNAUTHORIZED: (f) =>
    f.operation === 'simpleenroll'
      ? est(
          f,
          'the device id and one-time password were not accepted (the device is not registered yet, or the password is wrong or used up)',
          'Register the device in the tenant with this one-time password (Device management, Registration, Cumulocity CA), then run again; enroll waits for the registration with --max-wait.',
        )
      : est(
          f,
          'the device token was not accepted for the renewal',
          "Run again (a new token is fetched); if it persists, check the device is still registered and its certificate comes from the tenant's certificate authority.",
        ),
  EST_FORBIDDEN: (f) =>
    f.operation === 'simpleenroll'
      ? est(f, 'the enrollment is not allowed', 'Check the device id is the one registered with this one-time password.')
      : est(
          f,
          "the renewal is not allowed (the request's CN must be the device's own, device_<CN>)",
          "Renew the configured device's own certificate; check the certificate was issued by the tenant's certificate authority.",
        ),
  EST_CSR_REJECTED: (f) => est(f, 'the certificate request was refused', 'The platform refuses requests for another CN, for CA:TRUE, or for keys it does not accept.'),
  EST_REFUSED: (f) =>
    f.reason === 'redirect'
      ? {
          message: `${where(f)} answered HTTP ${f.status}, a redirect${f.location ? ` to ${f.location}` : ''}; c8ytoken does not follow redirects with device credentials.`,
          hint: 'Use the tenant URL itself (its https:// address, without a path).',
        }
      : f.status === 404
        ? est(
            f,
            `there is no ${f.operation ?? 'EST'} endpoint`,
            `The Cumulocity certificate authority may be off on this tenant, or the URL is not the tenant's EST: EST is on port 443${f.port && f.port !== '443' ? ` (not ${f.port})` : ''}, or at --est-url. Check the URL and ask the platform administrator.`,
          )
        : est(f, `the ${f.operation ?? 'EST'} request was refused`, "Check the tenant URL and the device's registration."),
  EST_NOT_REGISTERED: (f) => ({
    message: `The device ${shownText(f.deviceId ?? '')} is still not accepted by ${where(f)} after ${f.attempts ?? 1} attempt(s) in ${formatDuration(f.elapsedMs ?? 0)} (HTTP ${f.status}).${said(f)}`,
    hint: 'Register the device with this one-time password in the tenant (Device management, Registration, Cumulocity CA) and run again, or wait longer with --max-wait. Check the device id and the password.',
  }),
  EST_PENDING: (f) => ({
    message:
      `${where(f)} answered HTTP 202 to ${f.operation ?? 'the EST request'}: the request is pending and there is no certificate yet` +
      `${f.retryAfterSeconds !== undefined ? ` (Retry-After: ${formatDuration(f.retryAfterSeconds * 1000)})` : ''}${(f.attempts ?? 1) > 1 ? `, after ${f.attempts} attempts in ${formatDuration(f.elapsedMs ?? 0)}` : ''}.`,
    hint: f.retryAt
      ? `Run again after ${isoSeconds(f.retryAt)}, as the server asked${f.waitOption ? `, or raise ${f.waitOption} to wait that long` : ''}.`
      : 'Run again later (the server did not say when: no Retry-After).',
  }),
  LISTEN_FAILED: (f) => ({
    message: `c8ytoken cannot listen on ${shownText(f.value ?? '')}${reason(f)}.`,
    hint:
      f.nodeCode === 'EADDRINUSE'
        ? "Something else listens there (another c8ytoken proxy, thin-edge's tedge-mapper on 8001?): stop it or give another --listen."
        : f.nodeCode === 'EACCES' || f.nodeCode === 'EPERM'
          ? 'This user may not use that address (a port under 1024, or a folder it cannot write): give another --listen.'
          : f.value === 'systemd'
            ? '--listen systemd is for the socket unit (systemctl start c8ytoken-proxy@DEVICE.socket); started otherwise, give HOST:PORT on loopback or unix:PATH.'
            : 'Give another --listen: HOST:PORT on loopback, or unix:PATH in a folder this user can write.',
  }),
  STATUS_UNREACHABLE: (f) => ({
    message: `No c8ytoken answers at ${shownText(f.value ?? '')}${reason(f)}.`,
    hint: 'Is the proxy running (systemctl status c8ytoken-proxy@DEVICE)? Give its --listen address, or --meta FILE for a watch.',
  }),
  EST_CLIENT_CERT_REQUIRED: (f) => ({
    message: `${where(f)} demands a client certificate for ${f.operation ?? 'the EST request'}, and a first enrollment has none: this URL is not an EST endpoint that takes the one-time password (the token endpoint, port 8443, is such a port).`,
    hint: `EST is on the tenant's port 443: give --url https://${shownText(f.host ?? 'TENANT')} without a port (the token requests add 8443 themselves), or --est-url for an EST server of its own.`,
  }),
  EST_SERVER_ERROR: (f) => est(f, f.status === 429 ? 'too many requests' : 'the platform failed', 'Retry later; a platform error is usually temporary.'),
  EST_BAD_RESPONSE: (f) => ({
    message: `${where(f)} answered HTTP ${f.status}${f.contentType ? ` (${f.contentType})` : ''} to ${f.operation ?? 'the EST request'} without a readable certificate${reason(f)}.${f.excerpt ? ` The answer began: "${f.excerpt}".` : ''}`,
    hint: 'Check the URL is the tenant (not a proxy or login page); retry later.',
  }),
  EST_WRONG_CERTIFICATE: (f) => ({
    message:
      f.problem === 'other-key'
        ? `${where(f)} answered with ${(f.subjects?.length ?? 1) === 1 ? 'a certificate' : `${f.subjects!.length} certificates`} for another key (${shownText(f.subjects?.[0] ?? '')}), not for the key of the request.`
        : f.problem === 'other-cn'
          ? `${where(f)} issued a certificate for ${shownText(f.subject ?? '(no CN)')}, but the request was for CN=${shownText(f.commonName ?? '')}.`
          : `${where(f)} issued a certificate valid from ${isoSeconds(f.validFrom ?? '?')} to ${isoSeconds(f.validTo ?? '?')}, which is not valid now.`,
    hint: `Retry later; if it persists, report it to the platform operator with the --verbose output.${f.problem === 'not valid now' ? " Check this device's clock too." : ''}`,
  }),
  EST_UNUSABLE_CERTIFICATE: (f) => ({
    message: `${where(f)} issued a certificate (${shownText(f.subject ?? '')}, valid until ${isoSeconds(f.validTo ?? '?')}) that ${unusableWhy(f)}.`,
    hint:
      f.problem === 'shorter'
        ? 'Renew again later, or ask the platform operator about the certificate validity; to accept a shorter certificate on purpose, give --allow-shorter (config "allowShorter", C8YTOKEN_ALLOW_SHORTER=true).'
        : "Report it to the platform operator with the --verbose output: the tenant's certificate authority settings issue certificates a device cannot authenticate with.",
  }),
  INTERRUPTED: () => ({ message: 'Interrupted.' }),
  TERMINATED: () => ({ message: 'Terminated.' }),
  INTERNAL: (f) => ({ message: `internal error: ${f.detail ?? 'unexpected state'}` }),
};

/** Why an issued certificate is refused (EST_UNUSABLE_CERTIFICATE). */
function unusableWhy(f: FactsOf<'EST_UNUSABLE_CERTIFICATE'>): string {
  switch (f.problem) {
    case 'ca':
      return 'is a CA certificate (basicConstraints CA:TRUE), not a device certificate';
    case 'no-client-auth':
      return `is not for TLS client authentication (its extended key usages: ${(f.allowed ?? []).join(', ')}; clientAuth is missing)`;
    case 'short-lived':
      return 'is valid for less than a day: the device would lose its identity before the next renewal';
    default:
      return `expires before the current certificate (valid until ${isoSeconds(f.certificateNotAfter ?? '?')}): a renewal never makes it shorter`;
  }
}

function notACertificate(f: FactsOf<'NOT_A_CERTIFICATE'>): Words {
  return {
    message: f.reason?.startsWith('certificate ') ? `${capital(shownText(f.reason))} in ${file(f)}, and cannot be parsed.` : `${capital(file(f))} holds no certificate.`,
    hint:
      f.reason === 'holds a private key'
        ? 'That looks like a private key: give it with --key, and the certificate with --cert.'
        : f.reason?.startsWith('certificate ')
          ? 'Copy the file again; check nothing was cut from the base64 text.'
          : 'Give a PEM file with -----BEGIN CERTIFICATE----- blocks (or a DER certificate).',
  };
}

function timeoutWords(f: Endpoint & { stage: string; timeoutMs?: number }): Words {
  return {
    message: `No answer from ${where(f)}${f.timeoutMs !== undefined ? ` within ${formatDuration(f.timeoutMs)}` : ''}${f.stage === 'handshake' ? ' (the TLS handshake did not finish)' : f.stage === 'connect' ? ' (no connection)' : ''}.`,
    hint: `Check the network path to port ${portOf(f)}${portOf(f) === '8443' ? ' (firewalls often block 8443)' : ''}, or raise --timeout.`,
  };
}

/**
 * A failure past the proxy (the platform's TLS, a reset, an answer) says that the connection went through
 * it; an untrusted server certificate may be the proxy's own, forged by a TLS-inspecting proxy.
 */
function throughProxy(code: ErrorCode, f: Partial<ProxyVia>, words: Words): Words {
  const message = `${words.message} The connection went through ${proxyNamed(f)}.`;
  if (code !== 'SERVER_UNTRUSTED' && code !== 'HOSTNAME_MISMATCH') return { ...words, message };
  const issuer = f.serverIssuer ? ` The certificate seen through the proxy is issued by ${shownText(f.serverIssuer)}.` : '';
  return {
    message,
    hint: `${words.hint ?? ''}${issuer} If that is the proxy's CA, the proxy intercepts TLS and mutual TLS cannot pass it: exempt the platform with NO_PROXY=${targetHost(f)}.`.trim(),
  };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** An EST answer: the URL with its path (renewal and enrollment are different requests), status, meaning. */
function est(f: EstRefusal, meaning: string, hint: string): Words {
  return { message: `${shownText(f.url ?? where(f))} answered HTTP ${f.status}: ${meaning}.${said(f)}`, hint };
}

/** "Retry in 2 min, as the platform asked (Retry-After)", when it said when. */
function retryAfter(f: { retryAfterSeconds?: number }): string | undefined {
  return f.retryAfterSeconds === undefined ? undefined : `Retry in ${formatDuration(f.retryAfterSeconds * 1000)}, as the platform asked (Retry-After)`;
}

/**
 * An HTTP refusal: a cause the identity sent shows by itself comes first (expired, not yet valid, issuer
 * missing); then what a TLS front such as nginx said about the certificate; then the status's meaning.
 */
function platform(f: PlatformAnswer, meaning: string, hint: string): Words {
  let [what, why] = [meaning, hint];
  if (f.refusal === 'refused') [what, why] = ['the server (or a TLS front such as nginx) refused the device certificate', `${CLIENT_CERT_CAUSES} ${VERIFY_CHAIN}`];
  if (f.refusal === 'missing')
    [what, why] = [
      'the server requires a device certificate and did not receive one',
      'Check that the certificate and key are configured (--cert/--key or --keystore) and that nothing between this device and the platform terminates TLS.',
    ];
  const words = withLocalCause(f, `${where(f)} answered HTTP ${f.status}`, what, why);
  return { ...words, message: `${words.message}${said(f)}` };
}

/**
 * "WHAT: the local cause; that is the likely reason." for an expired or not yet valid certificate; a
 * missing issuer is only possibly the reason (a certificate from the tenant's own CA comes alone), so
 * the server's meaning follows it. Without a local cause: "WHAT: meaning."
 */
function withLocalCause(f: Partial<LocalCause>, what: string, meaning: string, hint: string): Words {
  const local = localCause(f);
  if (!local) return { message: `${what}: ${meaning}.`, hint };
  if (local.likely) return { message: `${what}: ${local.cause}; that is the likely reason.`, hint: local.hint };
  return { message: `${what}: ${local.cause}. Otherwise: ${meaning}.`, hint: `${local.hint} ${hint}` };
}

/** The cause of a refusal that the device's own certificate shows (see platform/token-response.ts), worded, with its fix. */
function localCause(f: Partial<LocalCause>): { cause: string; hint: string; likely: boolean } | undefined {
  const path = shownText(f.path ?? 'the certificate file');
  switch (f.localCause) {
    case 'expired':
      return {
        likely: true,
        cause: `the device certificate (${path}) expired on ${isoSeconds(f.certificateNotAfter ?? '?')}, ${f.expiredDays ?? '?'} day(s) ago`,
        hint: 'Renew the device certificate (`c8ytoken cert renew` while it is valid; an expired one needs a new registration and `c8ytoken cert enroll`).',
      };
    case 'not-yet-valid':
      return {
        likely: true,
        cause: `the device certificate (${path}) is not valid before ${isoSeconds(f.certificateNotBefore ?? '?')}`,
        hint: "Check this device's clock (NTP: timedatectl set-ntp true); if it is right, the certificate was issued with a start in the future.",
      };
    case 'issuer-missing':
      return {
        likely: false,
        cause: `${path} holds the device certificate alone, and its issuer (${shownText(f.missingIssuer ?? '?')}) is not in it: if the server does not trust that issuer itself, an intermediate is missing`,
        hint: 'If the issuer is an intermediate, append it (and any above it) to the certificate file after the device certificate.',
      };
    default:
      return undefined;
  }
}

const TOKEN_PROBLEMS: Record<string, string> = {
  empty: 'it is empty',
  parts: 'it does not have three dot-separated parts (header.payload.signature)',
  base64url: 'a part is not base64url text',
  json: 'a part does not decode to JSON',
  'not-object': 'the header or payload is JSON but not an object',
  'too-large': 'it is far longer than any token',
  'too-deep': 'its JSON is nested deeper than any token',
  'not-found': 'neither a readable file nor a JWT',
  header: 'it is empty or holds characters an HTTP header cannot carry',
};

function tokenWords(f: FactsOf<'TOKEN_MALFORMED'>): Words {
  if (f.problem === 'not-found') return { message: `"${shownText(f.value ?? '', 60)}" is neither a readable file nor a JWT.`, hint: FILE_HINTS.token! };
  if (f.problem === 'stdin-too-large') return { message: `The input on stdin is over ${formatBytes(f.limit ?? 0)}: not a token.`, hint: 'Pipe only the token.' };
  const at = f.where ? ` ${shownText(f.where)}` : '';
  return {
    message: `The token${at} is not a JWT: ${TOKEN_PROBLEMS[f.problem ?? ''] ?? 'malformed'}${f.reason ? ` (${shownText(f.reason)})` : ''}.`,
    hint: 'A token is three base64url parts joined by dots, starting "eyJ". Check that nothing was cut or added.',
  };
}

function outputWords(f: FactsOf<'OUTPUT_UNWRITABLE'>): Words {
  const path = shownText(f.path ?? '');
  const dir = shownText(f.otherPath ?? '');
  switch (f.reason) {
    case 'no such folder':
      return { message: `Cannot write ${path}: the folder ${dir} does not exist.`, hint: `Create it first: mkdir -p ${dir}` };
    case 'not in a folder':
      return { message: `Cannot write ${path}: ${dir} is not a folder.`, hint: 'Give a path inside an existing folder.' };
    case 'folder not writable':
      return { message: `Cannot write ${path}: the folder ${dir} is not writable.`, hint: 'Run as a user that may write there, or choose another path.' };
    case 'a folder':
      return { message: `Cannot write ${path}: it is a folder.`, hint: 'Name a file inside the folder.' };
    case 'a link owned by another user':
      return {
        message: `Cannot write ${path}: ${f.otherPath && f.otherPath !== f.path ? `the way to it leads through ${dir}, a symbolic link` : 'it is a symbolic link'} that belongs to another user.`,
        hint: 'c8ytoken follows a link only when you or root own it (a link planted in a shared folder could point anywhere). Remove it or choose another path.',
      };
    case 'too many links':
      return { message: `Cannot write ${path}: following it takes more than 40 symbolic links (at ${dir}), the most the system follows.`, hint: 'Remove the loop of links or give the real path.' };
    case 'exists':
      return {
        message: `Cannot write ${path}: it exists already, and enroll does not replace a device's certificate or key.`,
        hint: 'Give other paths, or move the old files away first (to renew an existing certificate, use `c8ytoken cert renew`).',
      };
    case 'restore failed':
      return {
        message: `Replacing the files failed half-way, and putting back the previous content of ${path} failed too: ${path} holds the NEW ${f.role ?? 'file'}, the other files are as before.`,
        hint: `Restore by hand: ${shownText(f.restore ?? '')}`,
      };
    case 'renewal running':
      return {
        message: `Cannot renew ${path} now: another renewal${f.pid !== undefined ? ` (PID ${f.pid})` : ''} is running (its lock file is ${dir}); nothing was started.`,
        hint: `Let it finish (the timer and watch --renew-before may meet); if no c8ytoken process runs, remove ${dir}.`,
      };
    case 'file read-only':
      return { message: `Cannot replace ${path}: the file is read-only, so the renewal was not started.`, hint: `Make it writable (chmod u+w ${path}) if it should be renewed in place.` };
    case 'file group not ours':
      return {
        message: `Cannot replace ${path}: its group is not one of this user's, so a replacement could not keep it; the renewal was not started.`,
        hint: "Run the renewal as root, or as a member of the file's group.",
      };
    case 'keystore with other keys':
      return {
        message: `Cannot renew ${path} in place: the PKCS#12 file holds other key entries (${shownText((f.aliases ?? []).join(', '))}) that c8ytoken would have to drop; the renewal was not started.`,
        hint: 'Keep one key entry per PKCS#12 file for the device (or use a JKS, whose other entries are kept as they are).',
      };
    case 'a FIFO':
    case 'a socket':
    case 'a device':
      return { message: `Cannot write ${path}: it is ${f.reason}, not a regular file.`, hint: 'Write to a regular file; `-o -` writes to stdout.' };
    default:
      return { message: `Cannot write ${path}${f.reason ? `: ${shownText(f.reason)}` : ''}.`, hint: f.reason === 'ENOSPC' ? 'Free some disk space.' : 'Check the folder permissions and free space.' };
  }
}

/** The message and hint of an error. */
export function describeError(err: C8yError): Words {
  return describeFacts(problemOf(err));
}

/** The message and hint of an error code with its facts (a problem reported rather than thrown, e.g. by verify-chain). */
export function describeFacts({ code, facts }: Problem): Words {
  // Each code's words read only its own facts (WORDS' type); the pair was tied by FactsOf where it was
  // made, and the facts any error gains on the way up (TravelFacts, a proxy's) are read below.
  const words = (WORDS[code] as (f: AnyFacts) => Words)(facts);
  const pastProxy = facts.proxy !== undefined && !code.startsWith('PROXY_') && !('stage' in facts && facts.stage === 'proxy') && code !== 'PROXY_INVALID';
  const said = pastProxy ? throughProxy(code, facts, words) : words;
  // A renewal's failures: the proof's own words, marked as such; and which files were left as they were.
  if (facts.unproven?.length) {
    // Installed although the proof failed for now: no "nothing changed", no "register again" (the files are the device's).
    const files = facts.unproven.map((p) => shownText(p)).join(' and ');
    return {
      message: `Issued but not yet proven: the new certificate and key were written to ${files}, but fetching a token with them failed for now: ${said.message}`,
      hint: `Do not enroll again (the one-time password is used up). Retry later: a token request (c8ytoken fetch) with these files proves them.${said.hint ? ` ${said.hint}` : ''}`,
    };
  }
  const during = facts.during === 'prove' ? `The ${facts.notWritten ? 'enrolled' : 'renewed'} certificate did not work for a token: ` : '';
  const unchanged = facts.unchanged?.length ? ` Nothing was changed: ${facts.unchanged.map((p) => shownText(p)).join(' and ')} ${facts.unchanged.length === 1 ? 'is' : 'are'} as before.` : '';
  const notWritten = facts.notWritten?.length
    ? ` Nothing was written: ${facts.notWritten.map((p) => shownText(p)).join(' and ')} do not exist. The one-time password may be used up: register the device again before the next attempt.`
    : '';
  return during || unchanged || notWritten ? { ...said, message: `${during}${said.message}${unchanged}${notWritten}` } : said;
}
