/**
 * The checks of verify-chain: one function each, and one table of what each is called and how to fix
 * it. A check looks at the built path (and the key and the pool where it must) and returns the problems
 * that make it fail and the warnings that make it warn, one line each, naming the certificate.
 */
import { isoSeconds } from '../time/iso.js';
import type { KeyObject } from 'node:crypto';
import { LIMITS } from '../limits.js';
import { isSelfIssued, OID, UNDERSTOOD_EXTENSIONS } from '../x509/certificate.js';
import { keyMatchesCertificate } from '../x509/path.js';
import { cn, publicKeyOf, verifies, type Candidate } from './candidate.js';
import { checkEmailConstraints, validMailbox } from './email.js';
import { MAX_CHAIN, type SearchResult } from './search.js';

export type Verdict = 'pass' | 'fail' | 'warn' | 'skip' | 'info';
export type Purpose = 'client' | 'server' | 'any';

export interface Check {
  id: CheckId;
  verdict: Verdict;
  title: string;
  /** Why it failed or warns, one line each, naming the certificate. */
  problems: string[];
  fix?: string;
}

/** What the checks look at. */
export interface ChainContext {
  path: Candidate[];
  /** ms since the epoch, at second granularity. */
  at: number;
  purpose: Purpose;
  key?: KeyObject | undefined;
  anchors: Candidate[];
  /** Certificates given but not on the path. */
  extras: Candidate[];
  search: SearchResult;
  /** The certificates' fingerprints in the order the file listed them. */
  fileOrder: string[];
  budgetExhausted: boolean;
}

/** A check's findings: problems fail it, warnings make it warn; `skipped` says why it was not judged. */
export interface Findings {
  problems: string[];
  warnings: string[];
  skipped?: string;
}

export const EXPIRY_WARNING_DAYS = 30;
const DAY = 86_400_000;
const MAX_NAME_CONSTRAINT_WORK = 1 << 20;

const at = isoSeconds;
const none = (): Findings => ({ problems: [], warnings: [] });

function keyMatch(ctx: ChainContext): Findings {
  if (!ctx.key) return { ...none(), skipped: 'no key given (--key or a keystore): not checked' };
  return keyMatchesCertificate(ctx.key, ctx.path[0]!.details.cert) ? none() : { problems: ['the private key belongs to another certificate'], warnings: [] };
}

function pathComplete(ctx: ChainContext): Findings {
  const f = none();
  const top = ctx.path[ctx.path.length - 1]!;
  if (ctx.budgetExhausted) {
    f.problems.push(
      `path building stopped after ${LIMITS.signatureChecks} signature checks: the files hold ${ctx.path.length + ctx.extras.length + ctx.anchors.length} certificates, many with the same names; the path may exist but was not searched further`,
    );
  } else if (ctx.anchors.length > 0 && !top.anchor) {
    f.problems.push(`no path from ${cn(top.details)} to the device CA (${ctx.anchors.map((a) => cn(a.details)).join(', ')})`, ...ctx.search.signatureMismatches);
  } else if (ctx.anchors.length === 0) {
    f.warnings.push(`no device CA given (--device-ca): checked up to ${cn(top.details)}${isSelfIssued(top.details) ? ', a self-signed root' : ', which is not a root: the chain may be incomplete'}`);
  }
  if (ctx.extras.length) {
    const shown = ctx.extras.slice(0, 5).map((e) => cn(e.details));
    f.warnings.push(`not on the path: ${shown.join(', ')}${ctx.extras.length > shown.length ? ` and ${ctx.extras.length - shown.length} more` : ''}`);
  }
  const pathOrder = ctx.path.map((c) => c.fingerprint).filter((fp) => ctx.fileOrder.includes(fp));
  const listed = ctx.fileOrder.filter((fp) => pathOrder.includes(fp));
  if (pathOrder.some((fp, i) => listed[i] !== fp)) f.warnings.push('the file lists the certificates out of order (the path was built anyway)');
  return f;
}

function validity(ctx: ChainContext): Findings {
  const f = none();
  for (const c of ctx.path) {
    const d = c.details;
    const name = cn(d);
    // Inclusive bounds, RFC 5280 4.1.2.5.
    if (d.validityProblems.length) f.problems.push(...d.validityProblems.map((p) => `${name}: ${p}`));
    else if (ctx.at < d.notBefore) f.problems.push(`${name} is not valid before ${at(d.notBefore)}`);
    else if (ctx.at > d.notAfter) f.problems.push(`${name} expired on ${at(d.notAfter)}`);
  }
  return f;
}

function leafExpiry(ctx: ChainContext): Findings {
  // A certificate outside its validity fails "validity": days left would contradict it.
  if (validity(ctx).problems.length) return { ...none(), skipped: 'not judged: a certificate is outside its validity (above)' };
  const leaf = ctx.path[0]!.details;
  const daysLeft = Math.floor((leaf.notAfter - ctx.at) / DAY);
  return daysLeft < EXPIRY_WARNING_DAYS ? { problems: [], warnings: [`${cn(leaf)} expires in ${daysLeft} day(s), on ${at(leaf.notAfter)}`] } : none();
}

function signers(ctx: ChainContext): Findings {
  const f = none();
  ctx.path.forEach((c, i) => {
    const d = c.details;
    const name = cn(d);
    if (i === 0) return;
    if (d.keyUsage?.has('keyCertSign') && !d.basicConstraints?.ca) f.problems.push(`${name} may sign certificates (keyCertSign) but is not a CA (CA:TRUE missing)`);
    if (!d.basicConstraints) f.problems.push(`${name} signs certificates but has no basicConstraints extension`);
    else if (!d.basicConstraints.ca) f.problems.push(`${name} signs certificates but is not a CA (CA:FALSE)`);
    else if (!d.basicConstraints.critical) f.problems.push(`${name}: basicConstraints must be critical in a CA certificate`);
    if (d.keyUsage && !d.keyUsage.has('keyCertSign')) f.problems.push(`${name} signs certificates but its keyUsage lacks keyCertSign`);
  });
  // pathLen: non-self-issued intermediates below a CA, not counting the leaf (RFC 5280 4.2.1.9).
  ctx.path.forEach((c, i) => {
    const pl = i > 0 ? c.details.basicConstraints?.pathLen : undefined;
    if (pl === undefined) return;
    const below = ctx.path.slice(1, i).filter((x) => !isSelfIssued(x.details)).length;
    if (below > pl) f.problems.push(`${cn(c.details)} allows ${pl} intermediate CA(s) below it (pathLen ${pl}) but has ${below}`);
  });
  return f;
}

function deviceCert(ctx: ChainContext): Findings {
  const f = none();
  const leaf = ctx.path[0]!.details;
  if (leaf.keyUsage?.has('keyCertSign') && !leaf.basicConstraints?.ca) f.problems.push(`${cn(leaf)} may sign certificates (keyCertSign) but is not a CA (CA:TRUE missing)`);
  if (leaf.basicConstraints?.ca) {
    f.warnings.push(
      isSelfIssued(leaf)
        ? `${cn(leaf)} is a self-signed CA certificate (as thin-edge.io makes): fine when it is itself uploaded as the device CA`
        : `${cn(leaf)} is a CA certificate used as a device certificate`,
    );
  }
  if (ctx.purpose !== 'any' && leaf.keyUsage && !leaf.keyUsage.has('digitalSignature')) f.problems.push(`${cn(leaf)}: keyUsage lacks digitalSignature, which TLS authentication needs`);
  if (leaf.extKeyUsage) {
    const wanted = ctx.purpose === 'server' ? OID.serverAuth : OID.clientAuth;
    if (leaf.extKeyUsage.length === 0) f.problems.push(`${cn(leaf)} has an empty extendedKeyUsage`);
    else if (ctx.purpose !== 'any' && !leaf.extKeyUsage.includes(wanted) && !leaf.extKeyUsage.includes(OID.anyExtendedKeyUsage)) {
      f.problems.push(`${cn(leaf)}: extendedKeyUsage does not include ${ctx.purpose === 'server' ? 'serverAuth' : 'clientAuth'}`);
    }
  }
  return f;
}

function names(ctx: ChainContext): Findings {
  const f = none();
  const leaf = ctx.path[0]!.details;
  ctx.path.slice(1).forEach((c) => {
    const d = c.details;
    // Names × constraints grows quadratically; refuse what no real device CA needs (x509-limbo nc-dos).
    const work = d.nameConstraintCount * (leaf.sanCount + leaf.subjectAttributeCount);
    if (work > MAX_NAME_CONSTRAINT_WORK)
      f.problems.push(`${cn(d)} has ${d.nameConstraintCount} name constraints for ${leaf.sanCount + leaf.subjectAttributeCount} names: too many to check (a denial-of-service guard)`);
    else if (d.emailConstraints) checkEmailConstraints(d, leaf, f.problems);
  });
  for (const email of leaf.emailSans) if (!validMailbox(email)) f.problems.push(`${cn(leaf)} has an invalid email address "${email}" in subjectAltName`);
  return f;
}

function profile(ctx: ChainContext): Findings {
  const f = none();
  ctx.path.forEach((c, i) => {
    const d = c.details;
    const name = cn(d);
    const issuer = ctx.path[i + 1];
    if (d.version !== 3) f.problems.push(`${name} is X.509 v${d.version}; the platform needs v3`);
    if (d.serial.length > 20) f.problems.push(`${name} has a serial number longer than 20 octets`);
    if ((d.serial[0] ?? 0) & 0x80) f.problems.push(`${name} has a negative serial number`);
    if (d.serial.every((b) => b === 0)) f.problems.push(`${name} has serial number zero`);
    if (!d.tbsSignatureAlgorithm.equals(d.signatureAlgorithm)) f.problems.push(`${name}: the signature algorithm inside the certificate differs from the one outside`);
    if (d.issuerEmpty) f.problems.push(`${name} has an empty issuer name`);
    for (const p of d.extensionProblems) f.problems.push(`${name}: ${p}`);
    for (const ext of d.extensions) {
      if (ext.critical && !UNDERSTOOD_EXTENSIONS.has(ext.oid)) f.problems.push(`${name} has an unknown critical extension ${ext.oid}`);
      if (ext.critical && (ext.oid === OID.authorityKeyId || ext.oid === OID.subjectKeyId || ext.oid === OID.authorityInfoAccess)) {
        f.problems.push(
          `${name} marks ${ext.oid === OID.authorityKeyId ? 'authorityKeyIdentifier' : ext.oid === OID.subjectKeyId ? 'subjectKeyIdentifier' : 'authorityInfoAccess'} critical, which RFC 5280 forbids`,
        );
      }
    }
    // Every certificate but a self-signed one names its issuer's key (RFC 5280 4.2.1.1).
    // A trust anchor is where the path ends: its own issuer does not matter here.
    const selfSigned = isSelfIssued(d) && verifies(c, c);
    if (!d.authorityKeyId && !selfSigned && !c.anchor) f.problems.push(`${name} has no authorityKeyIdentifier`);
    if (d.authorityKeyId && !d.authorityKeyId.keyId) f.problems.push(`${name}: its authorityKeyIdentifier has no keyIdentifier`);
    const issuerDetails = issuer?.details ?? (isSelfIssued(d) ? d : undefined);
    if (d.authorityKeyId?.keyId && issuerDetails?.subjectKeyId && !d.authorityKeyId.keyId.equals(issuerDetails.subjectKeyId)) {
      f.problems.push(`${name}: its authorityKeyIdentifier does not match the issuer's subjectKeyIdentifier`);
    }
    if (i > 0 && !d.subjectKeyId) f.problems.push(`${name} is a CA without subjectKeyIdentifier`);
    if (i > 0 && d.subjectEmpty) f.problems.push(`${name} is a CA with an empty subject name`);
  });
  return f;
}

function keys(ctx: ChainContext): Findings {
  const f = none();
  ctx.path.forEach((c, i) => {
    const d = c.details;
    const name = cn(d);
    const key = publicKeyOf(c);
    if (key.type === 'unreadable') f.problems.push(`${name} has a public key that cannot be read`);
    if ((key.type === 'rsa' || key.type === 'rsa-pss') && (key.bits ?? 0) < 2048) f.problems.push(`${name} has an RSA key of ${key.bits} bits; at least 2048 are needed`);
    // A root's own signature is not checked by anyone: a weak one there does not matter.
    if (/^1\.2\.840\.113549\.1\.1\.(4|5)$|^1\.2\.840\.10045\.4\.1$/.test(d.signatureAlgorithmOid) && !(isSelfIssued(d) && i === ctx.path.length - 1)) {
      f.warnings.push(`${name} is signed with ${d.signatureAlgorithmOid.endsWith('.4') ? 'MD5' : 'SHA-1'}, which is weak`);
    }
  });
  return f;
}

function length(ctx: ChainContext): Findings {
  return ctx.path.length > MAX_CHAIN ? { problems: [`the path has ${ctx.path.length} certificates; the platform accepts at most ${MAX_CHAIN}`], warnings: [] } : none();
}

export interface CheckSpec {
  id: CheckId;
  title(ctx: ChainContext): string;
  fix(ctx: ChainContext, findings: Findings): string;
  run(ctx: ChainContext): Findings;
  /** Depends only on the path: used to choose among paths while building them. */
  pathOnly: boolean;
}

export type CheckId = 'parse' | 'key-match' | 'path' | 'validity' | 'leaf-expiry' | 'signers' | 'device-cert' | 'names' | 'profile' | 'keys' | 'length';

/** The checks, in report order: id, title, fix, function. */
export const CHECKS: readonly CheckSpec[] = [
  { id: 'key-match', pathOnly: false, run: keyMatch, title: () => 'Private key matches the device certificate', fix: () => 'Pair the certificate with the key it was issued for.' },
  {
    id: 'path',
    pathOnly: false,
    run: pathComplete,
    title: (ctx) => (ctx.anchors.length ? 'Chain complete up to the device CA' : 'Chain complete and in order'),
    fix: (ctx, f) =>
      f.problems.length
        ? 'Add the missing intermediate certificate(s) after the device certificate, or upload the CA that actually issued them to the tenant.'
        : ctx.anchors.length === 0
          ? 'Give the CA uploaded to the tenant with --device-ca to check the chain against it.'
          : 'Keep only the device certificate and its intermediates, in order, in the file.',
  },
  { id: 'validity', pathOnly: true, run: validity, title: (ctx) => `Every certificate valid at ${at(ctx.at)}`, fix: () => 'Renew the expired certificate(s); check the device clock and --at.' },
  {
    id: 'leaf-expiry',
    pathOnly: true,
    run: leafExpiry,
    title: () => `Device certificate valid for at least ${EXPIRY_WARNING_DAYS} more days`,
    fix: () => 'Renew the device certificate before it expires (`c8ytoken cert renew`, or a new one from your CA).',
  },
  {
    id: 'signers',
    pathOnly: true,
    run: signers,
    title: () => 'Every signer is a CA (CA:TRUE, keyCertSign) and pathLen is respected',
    fix: () => 'Issue the intermediate CA with basicConstraints critical CA:TRUE, keyUsage keyCertSign, and a pathLen that allows the chain.',
  },
  {
    id: 'device-cert',
    pathOnly: true,
    run: deviceCert,
    title: (ctx) => `Device certificate usable for ${ctx.purpose === 'server' ? 'TLS server' : ctx.purpose === 'any' ? 'its purpose' : 'TLS client'} authentication`,
    fix: () => 'Issue the device certificate with keyUsage digitalSignature and extendedKeyUsage clientAuth (or no extendedKeyUsage).',
  },
  { id: 'names', pathOnly: true, run: names, title: () => 'Names and name constraints', fix: () => 'Fix the subjectAltName email address(es) or the CA name constraints.' },
  {
    id: 'profile',
    pathOnly: true,
    run: profile,
    title: () => 'X.509 v3 certificates following RFC 5280',
    fix: () => 'Re-issue the certificate(s) with a standard tool (OpenSSL 3 or your CA), which adds key identifiers and valid serial numbers.',
  },
  { id: 'keys', pathOnly: true, run: keys, title: () => 'Key sizes and signature algorithms', fix: () => 'Use RSA keys of 2048 bits or more, or EC P-256/P-384, and SHA-256 signatures.' },
  { id: 'length', pathOnly: true, run: length, title: () => `Chain length at most ${MAX_CHAIN}`, fix: () => 'Shorten the chain: the platform accepts at most 10 certificates.' },
];

/** Runs one check into its report form. */
export function runCheck(spec: CheckSpec, ctx: ChainContext): Check {
  const findings = spec.run(ctx);
  const title = spec.title(ctx);
  if (findings.skipped) return { id: spec.id, verdict: 'skip', title, problems: [findings.skipped] };
  const verdict: Verdict = findings.problems.length ? 'fail' : findings.warnings.length ? 'warn' : 'pass';
  const check: Check = { id: spec.id, verdict, title, problems: [...findings.problems, ...findings.warnings] };
  if (verdict !== 'pass') check.fix = spec.fix(ctx, findings);
  return check;
}

/** True when no path-only check fails for this path (the search's choice among paths). */
export function pathAcceptable(ctx: ChainContext): boolean {
  return CHECKS.filter((c) => c.pathOnly).every((c) => c.run(ctx).problems.length === 0);
}
