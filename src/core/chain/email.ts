/** RFC 5280 4.2.1.10 rfc822Name constraints, applied to the device certificate's email addresses. */
import type { CertDetails } from '../x509/certificate.js';
import { cn } from './candidate.js';

/** Adds a problem for each email SAN of `leaf` outside what `ca` permits or inside what it excludes. */
export function checkEmailConstraints(ca: CertDetails, leaf: CertDetails, problems: string[]): void {
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

/** True for an address RFC 5280 accepts in an rfc822Name (a dot-atom local part and a host name). */
export function validMailbox(email: string): boolean {
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return false;
  const local = email.slice(0, at);
  const host = email.slice(at + 1);
  return /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(local) && !local.startsWith('.') && !local.endsWith('.') && !local.includes('..') && /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(host);
}
