/**
 * Device chain verification: builds the path from the device certificate to the device CA (whatever
 * the file order, with decoys and cycles in the pool, within a bounded search), then checks it against
 * RFC 5280 and what Cumulocity requires (cumulocity.md). The time is a parameter. Each check carries a
 * verdict and, when it fails, the reason and the fix.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { keyMatchesCertificate, SignatureBudget } from '../x509/path.js';
import { LIMITS } from '../limits.js';
import { certDetails, describePublicKey, isSelfIssued, OID, UNDERSTOOD_EXTENSIONS, type CertDetails } from '../x509/certificate.js';
import { chainHeaderCertificates } from '../platform/chain-header.js';
import { commonName, dnOneLine } from '../x509/names.js';
import type { ChainHeaderMode } from '../platform/chain-header.js';

export type Verdict = 'pass' | 'fail' | 'warn' | 'skip' | 'info';

export interface Check {
  id: string;
  verdict: Verdict;
  title: string;
  /** Why it failed or warns, one line each, naming the certificate. */
  problems: string[];
  fix?: string;
}

export interface CertSummary {
  role: 'device' | 'intermediate' | 'device CA' | 'root' | 'extra';
  subject: string;
  issuer: string;
  serial: string;
  sha256: string;
  notBefore: string;
  notAfter: string;
  /** Days from `at` to notAfter (negative when expired). */
  daysLeft: number;
  key: string;
  keyUsage: string[];
  extendedKeyUsage: string[];
  ca: boolean;
  pathLen?: number;
  selfSigned: boolean;
}

export interface ChainReport {
  at: string;
  anchorGiven: boolean;
  /** The path leaf → ... → anchor as built, and certificates given but not on it. */
  certificates: CertSummary[];
  checks: Check[];
  deviceUser?: string;
  chainHeader: string[];
  ok: boolean;
}

export interface VerifyInput {
  leaf: X509Certificate;
  /** Everything else the chain file or keystore held, in any order. */
  others: X509Certificate[];
  /** The certificates in the order the file listed them, to report a wrong order. */
  fileOrder?: X509Certificate[] | undefined;
  key?: KeyObject | undefined;
  /** The device CA(s) uploaded to the tenant; without them the path ends at its last certificate. */
  anchors?: X509Certificate[] | undefined;
  /** The moment to check validity at, in ms since the epoch. */
  at: number;
  chainHeader?: ChainHeaderMode;
  /** What the device certificate must be good for: TLS client auth (the platform's need), server, or anything. */
  purpose?: Purpose;
}

export type Purpose = 'client' | 'server' | 'any';

const MAX_CHAIN = 10; // the platform's default limit (cumulocity.md)
const MAX_SEARCH_STEPS = 256; // bounds path building on pathological pools
const MAX_NAME_CONSTRAINT_WORK = 1 << 20;
const EXPIRY_WARNING_DAYS = 30;
const DAY = 86_400_000;

interface Candidate {
  details: CertDetails;
  /** Signature checks left for this report's path building (shared by every candidate). */
  budget: SignatureBudget;
  fingerprint: string;
  anchor: boolean;
  /** Signature checks already done, by issuer fingerprint: path building asks the same ones often. */
  verified?: Map<string, boolean>;
  key?: ReturnType<typeof describePublicKey>;
}

/** Verifies the device chain and returns the full report (no exceptions for bad chains). */
export function verifyChain(input: VerifyInput): ChainReport {
  const budget = new SignatureBudget();
  const wrap = (cert: X509Certificate, anchor: boolean): Candidate | undefined => {
    try {
      return { details: certDetails(cert), fingerprint: cert.fingerprint256, anchor, budget };
    } catch {
      return undefined;
    }
  };
  const leaf = wrap(input.leaf, false);
  const anchors = (input.anchors ?? []).map((c) => wrap(c, true)).filter((c): c is Candidate => !!c);
  const pool = dedupe(input.others.map((c) => wrap(c, false)).filter((c): c is Candidate => !!c)).filter((c) => c.fingerprint !== leaf?.fingerprint);
  // RFC 5280 times have second granularity: compare at the granularity of the encoding (floor).
  const at = Math.floor(input.at / 1000) * 1000;
  const purpose = input.purpose ?? 'client';
  const checks: Check[] = [];
  if (!leaf) {
    checks.push({ id: 'parse', verdict: 'fail', title: 'Device certificate readable', problems: ['the device certificate cannot be parsed as X.509'], fix: 'Re-export the certificate as PEM.' });
    return { at: new Date(at).toISOString(), anchorGiven: anchors.length > 0, certificates: [], checks, chainHeader: [], ok: false };
  }
  const anchorSet = new Set(anchors.map((a) => a.fingerprint));
  const leafIsAnchor = anchorSet.has(leaf.fingerprint);
  const search = buildPaths({ ...leaf, anchor: leafIsAnchor }, pool, anchors, at, purpose);
  const best = search.valid ?? search.anchored[0] ?? search.incomplete.sort((a, b) => b.length - a.length)[0] ?? [leaf];
  const path = best;
  const onPath = new Set(path.map((c) => c.fingerprint));
  const extras = pool.filter((c) => !onPath.has(c.fingerprint));

  // 1. key
  if (!input.key) {
    checks.push({ id: 'key-match', verdict: 'skip', title: 'Private key matches the device certificate', problems: ['no key given (--key or a keystore): not checked'] });
  } else {
    const match = keyMatchesCertificate(input.key, input.leaf);
    checks.push({
      id: 'key-match',
      verdict: match ? 'pass' : 'fail',
      title: 'Private key matches the device certificate',
      problems: match ? [] : ['the private key belongs to another certificate'],
      ...(match ? {} : { fix: 'Pair the certificate with the key it was issued for.' }),
    });
  }

  // 2. path
  const top = path[path.length - 1]!;
  const anchored = top.anchor;
  const pathProblems: string[] = [];
  let pathVerdict: Verdict = 'pass';
  if (budget.exhausted) {
    pathVerdict = 'fail';
    pathProblems.push(
      `path building stopped after ${LIMITS.signatureChecks} signature checks: the files hold ${pool.length + anchors.length + 1} certificates, many with the same names; the path may exist but was not searched further`,
    );
  } else if (anchors.length > 0 && !anchored) {
    pathVerdict = 'fail';
    pathProblems.push(`no path from ${cn(path[path.length - 1]!.details)} to the device CA (${anchors.map((a) => cn(a.details)).join(', ')})`);
    for (const miss of search.signatureMismatches) pathProblems.push(miss);
  } else if (anchors.length === 0) {
    pathVerdict = 'warn';
    pathProblems.push(`no device CA given (--device-ca): checked up to ${cn(top.details)}${isSelfIssued(top.details) ? ', a self-signed root' : ', which is not a root: the chain may be incomplete'}`);
  }
  if (extras.length) {
    if (pathVerdict === 'pass') pathVerdict = 'warn';
    const shown = extras.slice(0, 5).map((e) => cn(e.details));
    pathProblems.push(`not on the path: ${shown.join(', ')}${extras.length > shown.length ? ` and ${extras.length - shown.length} more` : ''}`);
  }
  const givenOrder = (input.fileOrder ?? [input.leaf, ...input.others]).map((c) => c.fingerprint256);
  const pathOrder = path.map((c) => c.fingerprint).filter((f) => givenOrder.includes(f));
  if (pathOrder.some((f, i) => givenOrder.filter((g) => pathOrder.includes(g))[i] !== f)) {
    if (pathVerdict === 'pass') pathVerdict = 'warn';
    pathProblems.push('the file lists the certificates out of order (the path was built anyway)');
  }
  checks.push({
    id: 'path',
    verdict: pathVerdict,
    title: anchors.length ? 'Chain complete up to the device CA' : 'Chain complete and in order',
    problems: pathProblems,
    ...(pathVerdict === 'fail'
      ? { fix: 'Add the missing intermediate certificate(s) after the device certificate, or upload the CA that actually issued them to the tenant.' }
      : pathVerdict === 'warn' && anchors.length === 0
        ? { fix: 'Give the CA uploaded to the tenant with --device-ca to check the chain against it.' }
        : {}),
  });

  checks.push(...pathChecks(path, at, purpose));

  const summaries: CertSummary[] = [...path.map((c, i) => summarize(c, i, path.length, at)), ...extras.map((c) => ({ ...summarize(c, -1, 0, at), role: 'extra' as const }))];
  const deviceUser = leafCn(leaf.details);
  // What fetch would send: the certificates of the source in path order, never the device CA file's.
  const given = new Set(givenOrder);
  const headerCerts = chainHeaderCertificates(
    [
      input.leaf,
      ...path
        .slice(1)
        .filter((c) => given.has(c.fingerprint))
        .map((c) => c.details.cert),
    ],
    input.chainHeader ?? 'auto',
  );
  const ok = checks.every((c) => c.verdict !== 'fail');
  const report: ChainReport = {
    at: new Date(at).toISOString(),
    anchorGiven: anchors.length > 0,
    certificates: summaries,
    checks,
    chainHeader: headerCerts.map((c) => dnOneLine(c.subject)),
    ok,
  };
  if (deviceUser !== undefined) report.deviceUser = `device_${deviceUser}`;
  return report;
}

function dedupe(list: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(c.fingerprint) && seen.add(c.fingerprint));
}

interface SearchResult {
  valid?: Candidate[];
  anchored: Candidate[][];
  incomplete: Candidate[][];
  signatureMismatches: string[];
}

/** Depth-first path building with backtracking, bounded in depth and in steps. */
function buildPaths(leaf: Candidate, pool: Candidate[], anchors: Candidate[], at: number, purpose: Purpose): SearchResult {
  const result: SearchResult = { anchored: [], incomplete: [], signatureMismatches: [] };
  const candidates = dedupe([...anchors, ...pool]);
  let steps = 0;
  const visit = (path: Candidate[]): boolean => {
    const current = path[path.length - 1]!;
    if (current.anchor || (anchors.length === 0 && isSelfIssued(current.details) && verifies(current, current))) {
      if (current.anchor) result.anchored.push(path);
      else result.incomplete.push(path);
      if ((current.anchor || anchors.length === 0) && pathChecks(path, at, purpose).every((c) => c.verdict !== 'fail')) {
        result.valid = path;
        return true;
      }
      return false;
    }
    const inPath = new Set(path.map((c) => c.fingerprint));
    const next = candidates.filter((c) => !inPath.has(c.fingerprint) && c.details.subjectDer.equals(current.details.issuerDer) && keyIdsAgree(current.details, c.details));
    let extended = false;
    for (const c of next) {
      if (++steps > MAX_SEARCH_STEPS || path.length > MAX_CHAIN + 1) break;
      if (!verifies(current, c)) {
        const note = `${cn(c.details)} has the right name to have issued ${cn(current.details)}, but the signature does not verify with its key`;
        if (!result.signatureMismatches.includes(note)) result.signatureMismatches.push(note);
        continue;
      }
      extended = true;
      if (visit([...path, c])) return true;
    }
    if (!extended) result.incomplete.push(path);
    return false;
  };
  visit([leaf]);
  return result;
}

/**
 * False only when both key identifiers are present and differ: then the issuer's key cannot have made
 * the signature, and no costly check is needed (many same-named CAs in a pool otherwise mean
 * name-matches × signature checks).
 */
function keyIdsAgree(cert: CertDetails, issuer: CertDetails): boolean {
  const aki = cert.authorityKeyId?.keyId;
  return !aki || !issuer.subjectKeyId || aki.equals(issuer.subjectKeyId);
}

function verifies(cert: Candidate, issuer: Candidate): boolean {
  cert.verified ??= new Map();
  let ok = cert.verified.get(issuer.fingerprint);
  if (ok === undefined) {
    // Out of budget: not verified, and not remembered (the report says the search stopped).
    if (!cert.budget.take()) return false;
    try {
      ok = cert.details.cert.verify(issuer.details.cert.publicKey);
    } catch {
      ok = false; // an issuer key Node cannot read verifies nothing
    }
    cert.verified.set(issuer.fingerprint, ok);
  }
  return ok;
}

function publicKeyOf(c: Candidate): ReturnType<typeof describePublicKey> {
  c.key ??= describePublicKey(c.details.cert);
  return c.key;
}

/** The checks that depend only on the path (used to choose among paths, and for the report). */
function pathChecks(path: Candidate[], at: number, purpose: Purpose): Check[] {
  const leaf = path[0]!.details;
  const validity: string[] = [];
  const ca: string[] = [];
  const pathLen: string[] = [];
  const leafProblems: string[] = [];
  const leafWarnings: string[] = [];
  const profile: string[] = [];
  const keys: string[] = [];
  const keyWarnings: string[] = [];
  const names: string[] = [];

  path.forEach((c, i) => {
    const d = c.details;
    const name = cn(d);
    const isLeaf = i === 0;
    const issuer = path[i + 1];
    // validity (inclusive bounds, RFC 5280 4.1.2.5)
    if (d.validityProblems.length) validity.push(...d.validityProblems.map((p) => `${name}: ${p}`));
    else if (at < d.notBefore) validity.push(`${name} is not valid before ${new Date(d.notBefore).toISOString()}`);
    else if (at > d.notAfter) validity.push(`${name} expired on ${new Date(d.notAfter).toISOString()}`);
    // profile
    if (d.version !== 3) profile.push(`${name} is X.509 v${d.version}; the platform needs v3`);
    if (d.serial.length > 20) profile.push(`${name} has a serial number longer than 20 octets`);
    if ((d.serial[0] ?? 0) & 0x80) profile.push(`${name} has a negative serial number`);
    if (d.serial.every((b) => b === 0)) profile.push(`${name} has serial number zero`);
    if (!d.tbsSignatureAlgorithm.equals(d.signatureAlgorithm)) profile.push(`${name}: the signature algorithm inside the certificate differs from the one outside`);
    if (d.issuerEmpty) profile.push(`${name} has an empty issuer name`);
    for (const p of d.extensionProblems) profile.push(`${name}: ${p}`);
    for (const ext of d.extensions) {
      if (ext.critical && !UNDERSTOOD_EXTENSIONS.has(ext.oid)) profile.push(`${name} has an unknown critical extension ${ext.oid}`);
      if (ext.critical && (ext.oid === OID.authorityKeyId || ext.oid === OID.subjectKeyId || ext.oid === OID.authorityInfoAccess)) {
        profile.push(
          `${name} marks ${ext.oid === OID.authorityKeyId ? 'authorityKeyIdentifier' : ext.oid === OID.subjectKeyId ? 'subjectKeyIdentifier' : 'authorityInfoAccess'} critical, which RFC 5280 forbids`,
        );
      }
    }
    // Every certificate but a self-signed one names its issuer's key (RFC 5280 4.2.1.1).
    // A trust anchor is where the path ends: its own issuer does not matter here.
    const selfSigned = isSelfIssued(d) && verifies(c, c);
    if (!d.authorityKeyId && !selfSigned && !c.anchor) profile.push(`${name} has no authorityKeyIdentifier`);
    if (d.authorityKeyId && !d.authorityKeyId.keyId) profile.push(`${name}: its authorityKeyIdentifier has no keyIdentifier`);
    const issuerDetails = issuer?.details ?? (isSelfIssued(d) ? d : undefined);
    if (d.authorityKeyId?.keyId && issuerDetails?.subjectKeyId && !d.authorityKeyId.keyId.equals(issuerDetails.subjectKeyId)) {
      profile.push(`${name}: its authorityKeyIdentifier does not match the issuer's subjectKeyIdentifier`);
    }
    if (d.keyUsage?.has('keyCertSign') && !d.basicConstraints?.ca) {
      (isLeaf ? leafProblems : ca).push(`${name} may sign certificates (keyCertSign) but is not a CA (CA:TRUE missing)`);
    }
    // signer requirements
    if (!isLeaf) {
      if (!d.basicConstraints) ca.push(`${name} signs certificates but has no basicConstraints extension`);
      else if (!d.basicConstraints.ca) ca.push(`${name} signs certificates but is not a CA (CA:FALSE)`);
      else if (!d.basicConstraints.critical) ca.push(`${name}: basicConstraints must be critical in a CA certificate`);
      if (d.keyUsage && !d.keyUsage.has('keyCertSign')) ca.push(`${name} signs certificates but its keyUsage lacks keyCertSign`);
      if (!d.subjectKeyId) profile.push(`${name} is a CA without subjectKeyIdentifier`);
      if (d.subjectEmpty) profile.push(`${name} is a CA with an empty subject name`);
      // pathLen: non-self-issued intermediates below this CA, not counting the leaf (RFC 5280 4.2.1.9)
      const pl = d.basicConstraints?.pathLen;
      if (pl !== undefined) {
        const below = path.slice(1, i).filter((x) => !isSelfIssued(x.details)).length;
        if (below > pl) pathLen.push(`${name} allows ${pl} intermediate CA(s) below it (pathLen ${pl}) but has ${below}`);
      }
      // Names × constraints grows quadratically; refuse what no real device CA needs (x509-limbo nc-dos).
      const work = d.nameConstraintCount * (leaf.sanCount + leaf.subjectAttributeCount);
      if (work > MAX_NAME_CONSTRAINT_WORK)
        names.push(`${name} has ${d.nameConstraintCount} name constraints for ${leaf.sanCount + leaf.subjectAttributeCount} names: too many to check (a denial-of-service guard)`);
      else if (d.emailConstraints) checkEmailConstraints(d, leaf, names);
    }
    // keys
    const key = publicKeyOf(c);
    if (key.type === 'unreadable') keys.push(`${name} has a public key that cannot be read`);
    if ((key.type === 'rsa' || key.type === 'rsa-pss') && (key.bits ?? 0) < 2048) keys.push(`${name} has an RSA key of ${key.bits} bits; at least 2048 are needed`);
    if (/^1\.2\.840\.113549\.1\.1\.(4|5)$|^1\.2\.840\.10045\.4\.1$/.test(d.signatureAlgorithmOid) && !(isSelfIssued(d) && i === path.length - 1)) {
      keyWarnings.push(`${name} is signed with ${d.signatureAlgorithmOid.endsWith('.4') ? 'MD5' : 'SHA-1'}, which is weak`);
    }
  });

  // the device certificate as a TLS client certificate
  if (leaf.basicConstraints?.ca) {
    leafWarnings.push(
      isSelfIssued(leaf)
        ? `${cn(leaf)} is a self-signed CA certificate (as thin-edge.io makes): fine when it is itself uploaded as the device CA`
        : `${cn(leaf)} is a CA certificate used as a device certificate`,
    );
  }
  if (purpose !== 'any' && leaf.keyUsage && !leaf.keyUsage.has('digitalSignature')) leafProblems.push(`${cn(leaf)}: keyUsage lacks digitalSignature, which TLS authentication needs`);
  if (leaf.extKeyUsage) {
    const wanted = purpose === 'server' ? OID.serverAuth : OID.clientAuth;
    if (leaf.extKeyUsage.length === 0) leafProblems.push(`${cn(leaf)} has an empty extendedKeyUsage`);
    else if (purpose !== 'any' && !leaf.extKeyUsage.includes(wanted) && !leaf.extKeyUsage.includes(OID.anyExtendedKeyUsage)) {
      leafProblems.push(`${cn(leaf)}: extendedKeyUsage does not include ${purpose === 'server' ? 'serverAuth' : 'clientAuth'}`);
    }
  }
  for (const email of leaf.emailSans) if (!validMailbox(email)) names.push(`${cn(leaf)} has an invalid email address "${email}" in subjectAltName`);

  const expiryWarnings: string[] = [];
  const daysLeft = Math.floor((leaf.notAfter - at) / DAY);
  if (!validity.length && daysLeft < EXPIRY_WARNING_DAYS) expiryWarnings.push(`${cn(leaf)} expires in ${daysLeft} day(s), on ${new Date(leaf.notAfter).toISOString()}`);

  const lengthProblems = path.length > MAX_CHAIN ? [`the path has ${path.length} certificates; the platform accepts at most ${MAX_CHAIN}`] : [];
  const check = (id: string, title: string, problems: string[], fix: string, warnings: string[] = []): Check => ({
    id,
    verdict: problems.length ? 'fail' : warnings.length ? 'warn' : 'pass',
    title,
    problems: [...problems, ...warnings],
    ...(problems.length || warnings.length ? { fix } : {}),
  });
  return [
    check('validity', `Every certificate valid at ${new Date(at).toISOString()}`, validity, 'Renew the expired certificate(s); check the device clock and --at.'),
    validity.length
      ? { id: 'leaf-expiry', verdict: 'skip', title: `Device certificate valid for at least ${EXPIRY_WARNING_DAYS} more days`, problems: ['not judged: a certificate is outside its validity (above)'] }
      : check(
          'leaf-expiry',
          `Device certificate valid for at least ${EXPIRY_WARNING_DAYS} more days`,
          [],
          'Renew the device certificate before it expires (`c8ytoken cert renew`, or a new one from your CA).',
          expiryWarnings,
        ),
    check(
      'signers',
      'Every signer is a CA (CA:TRUE, keyCertSign) and pathLen is respected',
      [...ca, ...pathLen],
      'Issue the intermediate CA with basicConstraints critical CA:TRUE, keyUsage keyCertSign, and a pathLen that allows the chain.',
    ),
    check(
      'device-cert',
      `Device certificate usable for ${purpose === 'server' ? 'TLS server' : purpose === 'any' ? 'its purpose' : 'TLS client'} authentication`,
      leafProblems,
      'Issue the device certificate with keyUsage digitalSignature and extendedKeyUsage clientAuth (or no extendedKeyUsage).',
      leafWarnings,
    ),
    check('names', 'Names and name constraints', names, 'Fix the subjectAltName email address(es) or the CA name constraints.'),
    check(
      'profile',
      'X.509 v3 certificates following RFC 5280',
      profile,
      'Re-issue the certificate(s) with a standard tool (OpenSSL 3 or your CA), which adds key identifiers and valid serial numbers.',
    ),
    check('keys', 'Key sizes and signature algorithms', keys, 'Use RSA keys of 2048 bits or more, or EC P-256/P-384, and SHA-256 signatures.', keyWarnings),
    check('length', `Chain length at most ${MAX_CHAIN}`, lengthProblems, 'Shorten the chain: the platform accepts at most 10 certificates.'),
  ];
}

/** RFC 5280 4.2.1.10 rfc822Name constraints, applied to the device certificate's email SANs. */
function checkEmailConstraints(ca: CertDetails, leaf: CertDetails, problems: string[]): void {
  const { permitted, excluded } = ca.emailConstraints!;
  for (const email of leaf.emailSans) {
    if (!validMailbox(email)) continue; // reported separately
    const inTree = (c: string): boolean => emailMatches(email, c);
    if (permitted.length && !permitted.some(inTree)) problems.push(`${cn(leaf)}: email ${email} is outside the names ${cn(ca)} permits`);
    if (excluded.some(inTree)) problems.push(`${cn(leaf)}: email ${email} is in a name ${cn(ca)} excludes`);
  }
}

function emailMatches(email: string, constraint: string): boolean {
  const at = email.lastIndexOf('@');
  const host = email.slice(at + 1).toLowerCase();
  if (constraint.includes('@')) {
    // A whole mailbox: local part exactly (case-sensitive), host case-insensitively.
    const cat = constraint.lastIndexOf('@');
    return email.slice(0, at) === constraint.slice(0, cat) && host === constraint.slice(cat + 1).toLowerCase();
  }
  const c = constraint.toLowerCase();
  return c.startsWith('.') ? host.endsWith(c) : host === c;
}

function validMailbox(email: string): boolean {
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return false;
  const local = email.slice(0, at);
  const host = email.slice(at + 1);
  return /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(local) && !local.startsWith('.') && !local.endsWith('.') && !local.includes('..') && /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(host);
}

function summarize(c: Candidate, index: number, length: number, at: number): CertSummary {
  const d = c.details;
  const role: CertSummary['role'] = index === 0 ? 'device' : c.anchor ? 'device CA' : index === length - 1 && isSelfIssued(d) ? 'root' : 'intermediate';
  const s: CertSummary = {
    role,
    subject: dnOneLine(d.cert.subject),
    issuer: dnOneLine(d.cert.issuer),
    serial: d.cert.serialNumber,
    sha256: d.cert.fingerprint256,
    notBefore: Number.isNaN(d.notBefore) ? d.cert.validFrom : new Date(d.notBefore).toISOString(),
    notAfter: Number.isNaN(d.notAfter) ? d.cert.validTo : new Date(d.notAfter).toISOString(),
    daysLeft: Math.floor((d.notAfter - at) / DAY),
    key: publicKeyOf(c).text,
    keyUsage: [...(d.keyUsage ?? [])],
    extendedKeyUsage: (d.extKeyUsage ?? []).map((o) => EKU_NAMES[o] ?? o),
    ca: d.basicConstraints?.ca === true,
    selfSigned: isSelfIssued(d),
  };
  if (d.basicConstraints?.pathLen !== undefined) s.pathLen = d.basicConstraints.pathLen;
  return s;
}

const EKU_NAMES: Record<string, string> = {
  [OID.clientAuth]: 'clientAuth',
  [OID.serverAuth]: 'serverAuth',
  [OID.anyExtendedKeyUsage]: 'anyExtendedKeyUsage',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
};

function leafCn(d: CertDetails): string | undefined {
  return commonName(d.cert.subject);
}

function cn(d: CertDetails): string {
  const value = leafCn(d);
  return value !== undefined ? `"${value}"` : `"${dnOneLine(d.cert.subject) || '(empty subject)'}"`;
}
