/**
 * The local endpoint's EST side (cumulocity.md, "Certificate renewal and enrollment"): simplereenroll with
 * a Bearer device token this emulator minted, whose subject must be device_<CN of the request>;
 * simpleenroll with HTTP Basic id:one-time-password registered beforehand, answering "not registered"
 * (401) for the first N polls. Certificates are signed with the fixture EST CA (under the device root, so
 * the token endpoint accepts them). The answer form and every failure a client must survive can be
 * chosen: PKCS#7 as base64 DER or base64 BER with indefinite lengths (the real platform's form), bare
 * base64, raw DER, PEM; 202 (pending), 400/401/403/500, a 200 without a certificate, a certificate for another key
 * or CN, no answer at all.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { bitString, boolean, context, contextPrimitive, indefinite, integer, namedBits, octetString, oid, seq, setOf, time, tlv, utf8 } from '../../src/core/est/der-writer.js';
import { signatureAlgorithm, signDer } from '../../src/core/est/csr.js';
import { takeFault } from './faults.js';

/** How a successful answer is encoded. */
export type EstAnswerForm = 'base64' | 'base64-ber' | 'base64-bare' | 'der' | 'pem';
/** Every answer form, for tests that try them all. */
export const EST_ANSWER_FORMS: readonly EstAnswerForm[] = ['base64', 'base64-ber', 'base64-bare', 'der', 'pem'];

/**
 * A failure on request. The last five issue a certificate a device cannot live with: a CA (CA:TRUE),
 * serverAuth only, valid for 3 minutes, signed by a CA the platform does not know, or with a broken
 * signature.
 */
export type EstFault = 'http202' | 'http400' | 'http401' | 'http403' | 'http500' | 'not-cert' | 'other-key' | 'other-cn' | 'hang' | IssueFault;
type IssueFault = 'ca-cert' | 'server-auth' | 'short-lived' | 'unknown-ca' | 'bad-signature';
/** Every fault, for tests and the command line. */
export const EST_FAULTS: readonly EstFault[] = [
  'http202',
  'http400',
  'http401',
  'http403',
  'http500',
  'not-cert',
  'other-key',
  'other-cn',
  'hang',
  'ca-cert',
  'server-auth',
  'short-lived',
  'unknown-ca',
  'bad-signature',
];

/** What the endpoint saw of an EST request (no credentials). */
export interface EstRecordedRequest {
  path: string;
  contentType: string | undefined;
  transferEncoding: string | undefined;
  /** "Bearer" or "Basic" or undefined: never the credentials. */
  authScheme: string | undefined;
  /** CN of the request's subject, when the request was readable. */
  csrCn: string | undefined;
  /** The body exactly as received (a certificate request is public), for oracles that read it with other tools. */
  body: Buffer;
  status: number;
}

interface Registration {
  otp: string;
  pendingPolls: number;
}

/** What the EST side is built from. */
export interface EstServiceOptions {
  caKey: KeyObject;
  caCert: X509Certificate;
  /** Verifies a device token minted by the emulator; returns its claims, or undefined when not valid. */
  verifyToken(token: string): Record<string, unknown> | undefined;
  now: () => number;
  /** Days a certificate is valid (the platform: one year). */
  validityDays?: number;
}

const ERROR_BODIES: Record<string, { status: number; error: string; message: string }> = {
  http400: { status: 400, error: 'certificates/Bad Request', message: 'Certificate signing request is not valid' },
  http401: { status: 401, error: 'security/Unauthorized', message: 'Invalid credentials! : Bad credentials' },
  http403: { status: 403, error: 'security/Forbidden', message: 'Access is denied: common name does not match the device' },
  http500: { status: 500, error: 'general/internalError', message: 'Internal server error' },
};

const BASIC_CONSTRAINTS = '2.5.29.19';

/** EST on the emulator; mounted by Emulator when started with `est`. */
export class EstService {
  readonly requests: EstRecordedRequest[] = [];
  /** How the next successful answers are encoded. */
  answerForm: EstAnswerForm = 'base64-ber';
  /** Put the EST CA certificate into the answer after the device certificate (the platform sends the leaf only). */
  answerChain = false;
  /** The next answers' fault; `faultCount` limits how many requests get it. */
  fault: EstFault | undefined;
  faultCount = Infinity;
  /** Days an issued certificate is valid (the platform: one year); tests shorten it to land inside a renewal window. */
  validityDays: number;
  /** Certificates issued so far. */
  issued: X509Certificate[] = [];
  private readonly registrations = new Map<string, Registration>();
  private readonly options: EstServiceOptions;
  private readonly caAlg;
  private readonly caSubject: Buffer;
  private readonly caKeyId: Buffer;

  constructor(options: EstServiceOptions) {
    this.options = options;
    this.validityDays = options.validityDays ?? 365;
    this.caAlg = signatureAlgorithm(options.caKey);
    // The CA's name as its certificate encodes it (the issuer field must match it byte for byte).
    this.caSubject = Buffer.from(new x509.X509Certificate(options.caCert.raw).subjectName.toArrayBuffer());
    this.caKeyId = keyId(options.caCert.publicKey);
  }

  /** Registers a device for simpleenroll with its one-time password; the first `pendingPolls` attempts still get 401. */
  registerEnrollment(deviceId: string, oneTimePassword: string, options: { pendingPolls?: number } = {}): void {
    this.registrations.set(deviceId, { otp: oneTimePassword, pendingPolls: options.pendingPolls ?? 0 });
  }

  /** Answers one EST request (body already read). */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const path = (req.url ?? '').split('?')[0]!;
    const auth = req.headers.authorization;
    const record: EstRecordedRequest = {
      path,
      contentType: req.headers['content-type'],
      transferEncoding: req.headers['content-transfer-encoding'] as string | undefined,
      authScheme: auth?.split(' ')[0],
      csrCn: undefined,
      body,
      status: 0,
    };
    this.requests.push(record);
    const send = (status: number, headers: Record<string, string>, payload: string | Buffer): void => {
      record.status = status;
      // The Date header from the endpoint's clock, as the token endpoint's.
      res.sendDate = false;
      res.writeHead(status, { ...headers, Date: new Date(this.options.now()).toUTCString() });
      res.end(payload);
    };
    const error = (status: number, errorName: string, message: string): void =>
      send(
        status,
        { 'Content-Type': 'application/vnd.com.nsn.cumulocity.error+json' },
        JSON.stringify({ error: errorName, message, info: 'https://cumulocity.com/docs/device-certificate-authentication/certificate-authority/' }),
      );

    if (req.method !== 'POST' || (path !== '/.well-known/est/simpleenroll' && path !== '/.well-known/est/simplereenroll')) {
      return error(404, 'general/notFound', `Nothing at ${req.method} ${path}`);
    }
    const fault = takeFault(this);
    if (fault === 'hang') return;
    if (fault === 'http202') return send(202, { 'Retry-After': '1' }, '');
    const canned = fault ? ERROR_BODIES[fault] : undefined;
    if (canned) return error(canned.status, canned.error, canned.message);

    const der = readEstBody(body);
    const csr = typeof der === 'string' ? der : await readCsr(der);
    if (typeof csr === 'string') return error(400, 'certificates/Bad Request', csr);
    record.csrCn = csr.cn;
    if (csr.wantsCa) return error(400, 'certificates/Bad Request', 'A device certificate cannot be a CA');

    if (path === '/.well-known/est/simplereenroll') {
      const token = /^Bearer (\S+)$/.exec(auth ?? '')?.[1];
      const claims = token ? this.options.verifyToken(token) : undefined;
      if (!claims) return error(401, 'security/Unauthorized', 'Invalid or expired token');
      if (claims.sub !== `device_${csr.cn}`) return error(403, 'security/Forbidden', `The common name ${csr.cn} does not match the device user ${String(claims.sub)}`);
    } else {
      const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(auth ?? '')?.[1];
      const [id, ...rest] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
      const registration = id === undefined ? undefined : this.registrations.get(id);
      if (!registration || registration.otp !== rest.join(':')) return error(401, 'security/Unauthorized', 'Invalid credentials! : Bad credentials');
      if (registration.pendingPolls > 0) {
        registration.pendingPolls -= 1;
        return error(401, 'security/Unauthorized', `Device ${id} is not registered yet`);
      }
      if (csr.cn !== id) return error(403, 'security/Forbidden', `The common name ${csr.cn} does not match the device id ${id}`);
      // One-time: the password is used up once a certificate was issued.
      this.registrations.delete(id);
    }

    if (fault === 'not-cert') return send(200, { 'Content-Type': 'application/pkcs7-mime; smime-type=certs-only' }, '<html><body>Welcome to the tenant</body></html>');
    const spki = fault === 'other-key' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }) : csr.spki;
    const cert = this.issue(fault === 'other-cn' ? `${csr.cn}-other` : csr.cn, spki, fault);
    this.issued.push(cert);
    const certs = this.answerChain ? [cert.raw, this.options.caCert.raw] : [cert.raw];
    const form = this.answerForm;
    const p7 = form === 'base64-ber' ? certsOnlyBer(certs) : certsOnlyDer(certs);
    const mime = 'application/pkcs7-mime; smime-type=certs-only';
    if (form === 'pem') {
      const pem = [cert, ...(this.answerChain ? [this.options.caCert] : [])].map((c) => c.toString()).join('');
      return send(200, { 'Content-Type': 'application/pkcs10' }, pem);
    }
    if (form === 'der') return send(200, { 'Content-Type': mime }, p7);
    if (form === 'base64-bare') return send(200, { 'Content-Type': mime }, p7.toString('base64'));
    const wrapped = (p7.toString('base64').match(/.{1,64}/g) ?? []).join('\r\n') + '\r\n';
    return send(200, { 'Content-Type': mime, 'Content-Transfer-Encoding': 'base64' }, wrapped);
  }

  /** A device certificate for CN with the given public key, signed by the EST CA, valid for validityDays (or as `fault` spoils it). */
  private issue(cn: string, spkiDer: Buffer, fault?: EstFault): X509Certificate {
    const now = this.options.now();
    const notBefore = new Date(Math.floor(now / 1000) * 1000 - 60_000);
    const notAfter = new Date(fault === 'short-lived' ? notBefore.getTime() + 4 * 60_000 : notBefore.getTime() + this.validityDays * 86_400_000);
    const serial = randomBytes(16);
    serial[0]! &= 0x7f;
    serial[0]! |= 0x01;
    const extensions = [
      seq(oid(BASIC_CONSTRAINTS), boolean(true), octetString(fault === 'ca-cert' ? seq(boolean(true)) : seq())),
      seq(oid('2.5.29.15'), boolean(true), octetString(namedBits(fault === 'ca-cert' ? [0, 5] : [0]))), // digitalSignature (keyCertSign)
      seq(oid('2.5.29.37'), octetString(seq(oid(fault === 'server-auth' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2')))), // clientAuth (serverAuth)
      seq(oid('2.5.29.14'), octetString(octetString(keyId(createPublicKey({ key: spkiDer, format: 'der', type: 'spki' }))))),
      seq(oid('2.5.29.35'), octetString(seq(contextPrimitive(0, this.caKeyId)))),
    ];
    // unknown-ca: another CA's key under the same name, a certificate the platform's trust does not verify.
    const signer = fault === 'unknown-ca' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey : this.options.caKey;
    const alg = fault === 'unknown-ca' ? signatureAlgorithm(signer) : this.caAlg;
    const tbs = seq(
      context(0, integer(2)),
      integer(serial),
      alg.algorithmIdentifier,
      this.caSubject,
      seq(time(notBefore), time(notAfter)),
      seq(setOf(seq(oid('2.5.4.3'), utf8(cn)))),
      spkiDer,
      context(3, seq(...extensions)),
    );
    const signature = signDer(tbs, signer, alg);
    if (fault === 'bad-signature') signature[signature.length - 1]! ^= 0x01;
    const der = seq(tbs, alg.algorithmIdentifier, bitString(signature));
    return new X509Certificate(der);
  }
}

/**
 * SHA-1 of the subjectPublicKey bits: the key identifier method OpenSSL's "hash" uses (RFC 5280 4.2.1.2).
 * The bits come from OpenSSL (Node's KeyObject), never from the client's own DER reader: an RSA key's
 * are its PKCS#1 encoding, an EC key's the uncompressed point.
 */
function keyId(key: KeyObject): Buffer {
  let bits: Buffer;
  if (key.asymmetricKeyType === 'rsa') bits = key.export({ format: 'der', type: 'pkcs1' });
  else {
    const jwk = key.export({ format: 'jwk' });
    bits = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  }
  return createHash('sha1').update(bits).digest();
}

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const DATA = '1.2.840.113549.1.7.1';

/** PKCS#7 certs-only in DER. */
export function certsOnlyDer(certs: readonly Buffer[]): Buffer {
  const signedData = seq(integer(1), setOf(), seq(oid(DATA)), context(0, ...certs), setOf());
  return seq(oid(SIGNED_DATA), context(0, signedData));
}

/** PKCS#7 certs-only in BER as the platform sends it: indefinite lengths on every container, certificates in DER. */
export function certsOnlyBer(certs: readonly Buffer[]): Buffer {
  const signedData = indefinite(0x30, [integer(1), tlv(0x31, Buffer.alloc(0)), seq(oid(DATA)), indefinite(0xa0, [...certs]), tlv(0x31, Buffer.alloc(0))]);
  return indefinite(0x30, [oid(SIGNED_DATA), indefinite(0xa0, [signedData])]);
}

interface ReadCsr {
  cn: string;
  spki: Buffer;
  wantsCa: boolean;
}

/**
 * The DER of an EST request body, read as strictly as libest does (OpenSSL's base64 BIO), or what is
 * wrong with it: base64 only (no PEM armour, no raw DER), in lines of at most 76 characters (RFC 2045
 * 6.8), each ended by LF or CRLF. OpenSSL reads nothing of a body that is one line without its end,
 * which is how libest answers "Invalid or corrupted pkcs10 request" to such a body; it allows longer
 * lines than RFC 2045 does, the endpoint does not.
 */
export function readEstBody(body: Buffer): Buffer | string {
  const text = body.toString('latin1');
  if (!/^[A-Za-z0-9+/=\r\n]*$/.test(text)) return 'The request body is not base64 (RFC 7030 4.2.1: Content-Transfer-Encoding: base64)';
  if (!text.includes('\n')) return 'The request body is one base64 line without a line end: it must be in lines of at most 76 characters, each ended by CRLF (RFC 2045 6.8)';
  const lines = text.split(/\r?\n/);
  if (lines.some((l) => l.length > 76)) return 'A base64 line of the request body is longer than 76 characters (RFC 2045 6.8)';
  if (lines.some((l) => l.includes('\r'))) return 'The request body has a CR that does not end a line';
  const b64 = lines.join('');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return 'The request body is not well-formed base64 (length or padding)';
  return Buffer.from(b64, 'base64');
}

/**
 * Reads and verifies a PKCS#10 request (DER) with @peculiar/x509 (asn1js and WebCrypto), never with the
 * client's own DER code, so the endpoint does not agree with the client's mistakes; a string says what
 * is wrong.
 */
export async function readCsr(der: Buffer): Promise<ReadCsr | string> {
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(der);
  } catch {
    return 'The certificate signing request cannot be parsed';
  }
  // A reader that stops at the end of the first structure would accept trailing bytes; OpenSSL does not.
  if (request.rawData.byteLength !== der.length) return 'The certificate signing request has bytes after its end';
  const cn = request.subjectName.getField('CN');
  if (cn.length !== 1 || !cn[0]) return 'The certificate signing request has no common name (or several)';
  let verified: boolean;
  try {
    verified = await request.verify();
  } catch {
    return 'The key or signature algorithm of the certificate signing request is not supported';
  }
  if (!verified) return 'The certificate signing request signature does not verify';
  const wantsCa = request.extensions.some((e) => e instanceof x509.BasicConstraintsExtension && e.ca);
  return { cn: cn[0], spki: Buffer.from(request.publicKey.rawData), wantsCa };
}
