/**
 * A SoftHSM2 token made in a temporary folder for the PKCS#11 tests (issue 20): key pairs generated inside
 * it (never extractable), their certificates signed at test time by the fixture EST CA from the public keys
 * pkcs11-tool reads out. `missing` names what is not installed (softhsm2, opensc's pkcs11-tool, libp11's
 * engine, openssl); the tests skip with it. OpenSC's pkcs11-spy (in opensc-pkcs11, which opensc depends
 * on) sits between the engine and SoftHSM2 where a test counts the token's calls.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findEngine } from '../../src/core/credentials/pkcs11.js';
import { pki } from './paths.js';

const multiarch = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
/** SoftHSM2's PKCS#11 module, where Debian, multiarch builds and source installs put it. */
export const softhsmModule = ['/usr/lib/softhsm/libsofthsm2.so', `/usr/lib/${multiarch}/softhsm/libsofthsm2.so`, '/usr/local/lib/softhsm/libsofthsm2.so'].find((m) => existsSync(m));
/** OpenSC's logging module: PKCS11SPY names the real module, PKCS11SPY_OUTPUT the log (each process appends). */
export const spyModule = [`/usr/lib/${multiarch}/pkcs11/pkcs11-spy.so`, `/usr/lib/${multiarch}/pkcs11-spy.so`, '/usr/lib/pkcs11/pkcs11-spy.so'].find((m) => existsSync(m));

export const hasCommand = (cmd: string): boolean => spawnSync(cmd, ['--help'], { stdio: 'ignore' }).error === undefined;
const engine = await findEngine(undefined, process.env, 5000).catch(() => undefined);
/** What the SoftHSM2 tests need and this machine lacks. */
export const softhsmMissing = [
  ...(softhsmModule && hasCommand('softhsm2-util') ? [] : ['softhsm2']),
  ...(hasCommand('pkcs11-tool') ? [] : ['opensc (pkcs11-tool)']),
  ...(engine ? [] : ['libengine-pkcs11-openssl']),
  ...(hasCommand('openssl') ? [] : ['openssl']),
];
export const softhsmSkipReason = softhsmMissing.length ? ` (skipped: ${softhsmMissing.join(', ')} not installed; apt-get install softhsm2 opensc libengine-pkcs11-openssl)` : '';

/** Runs a tool to its end; its stderr in the error when it fails. */
export function runTool(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): string {
  const r = spawnSync(cmd, args, { env, input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A client certificate for a public key (PEM) signed by the fixture EST CA: leaf + CA in one file, written to `out`. */
export function certifyPublicKey(pub: string, cn: string, out: string): string {
  const ext = `${out}.ext.cnf`;
  writeFileSync(ext, '[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const crt = `${out}.crt`;
  runTool('openssl', [
    'x509',
    '-new',
    '-subj',
    `/CN=${cn}`,
    '-force_pubkey',
    pub,
    '-CA',
    pki('est-ca.crt'),
    '-CAkey',
    pki('est-ca.key'),
    '-days',
    '30',
    '-extfile',
    ext,
    '-extensions',
    'ext',
    '-out',
    crt,
  ]);
  writeFileSync(out, readFileSync(crt, 'latin1') + readFileSync(pki('est-ca.crt'), 'latin1'));
  return out;
}

/** A token labelled `label` in `dir` (its softhsm2.conf and tokens folder), logged into with `pin`. */
export class SoftHsmToken {
  readonly conf: string;

  constructor(
    readonly dir: string,
    readonly pin: string,
    readonly label = 'c8y',
  ) {
    this.conf = join(dir, 'softhsm2.conf');
  }

  /** Creates the token (once, before the keys). */
  init(): this {
    mkdirSync(join(this.dir, 'tokens'), { recursive: true });
    writeFileSync(this.conf, `directories.tokendir = ${join(this.dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    runTool('softhsm2-util', ['--init-token', '--free', '--label', this.label, '--pin', this.pin, '--so-pin', '12345678'], this.toolEnv());
    return this;
  }

  private toolEnv(): NodeJS.ProcessEnv {
    return { ...process.env, SOFTHSM2_CONF: this.conf };
  }

  /** The URI of an object of this token. */
  uri(object: string): string {
    return `pkcs11:token=${this.label};object=${object}`;
  }

  /** A key pair made in the token (`type`: EC:prime256v1, rsa:2048), and its public key as PEM. */
  generateKey(object: string, id: string, type: string): string {
    const p11 = ['--module', softhsmModule!, '--token-label', this.label];
    runTool('pkcs11-tool', [...p11, '--login', '--pin', this.pin, '--keypairgen', '--key-type', type, '--label', object, '--id', id], this.toolEnv());
    const der = join(this.dir, `${object}.pub.der`);
    runTool('pkcs11-tool', [...p11, '--read-object', '--type', 'pubkey', '--label', object, '-o', der], this.toolEnv());
    const pub = join(this.dir, `${object}.pub.pem`);
    writeFileSync(pub, createPublicKey({ key: readFileSync(der), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }));
    return pub;
  }

  /** A certificate for the token's key `object` (CN `cn`): leaf + CA in one file, written to `out`. */
  certify(object: string, cn: string, out = join(this.dir, `${object}.chain.pem`)): string {
    return certifyPublicKey(join(this.dir, `${object}.pub.pem`), cn, out);
  }

  /** A key pair made in the token and its certificate chain file. */
  keyWithCertificate(object: string, id: string, type: string, cn: string): string {
    this.generateKey(object, id, type);
    return this.certify(object, cn);
  }
}

/** The calls the token got, by name, from a pkcs11-spy log (every process that used the spy appends to it). */
export function spyCalls(log: string): Map<string, number> {
  const calls = new Map<string, number>();
  const text = existsSync(log) ? readFileSync(log, 'latin1') : '';
  for (const m of text.matchAll(/^\d+: (C_\w+)$/gm)) calls.set(m[1]!, (calls.get(m[1]!) ?? 0) + 1);
  return calls;
}
