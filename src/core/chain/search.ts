/**
 * Path building: from the device certificate through the pool to a device CA (or a self-signed root
 * when none is given), whatever the file order, with decoys and cycles, by depth-first search with
 * backtracking, bounded in depth, in steps and (through the candidates' budget) in signature checks.
 * Names are compared as RFC 5280 section 7.1 says (x509/names.ts nameKey), not byte for byte.
 */
import { isSelfIssued, type CertDetails } from '../x509/certificate.js';
import { cn, dedupe, verifies, type Candidate } from './candidate.js';

export const MAX_CHAIN = 10; // the platform's default limit (cumulocity.md)
const MAX_SEARCH_STEPS = 256; // bounds path building on pathological pools

export interface SearchResult {
  /** A path that ends at an anchor (or a root) and fails no path check. */
  valid?: Candidate[];
  anchored: Candidate[][];
  incomplete: Candidate[][];
  signatureMismatches: string[];
}

/** Searches the paths; `acceptable` says whether a complete path passes the path checks. */
export function buildPaths(leaf: Candidate, pool: Candidate[], anchors: Candidate[], acceptable: (path: Candidate[]) => boolean): SearchResult {
  const result: SearchResult = { anchored: [], incomplete: [], signatureMismatches: [] };
  const candidates = dedupe([...anchors, ...pool]);
  let steps = 0;
  const visit = (path: Candidate[]): boolean => {
    const current = path[path.length - 1]!;
    if (current.anchor || (anchors.length === 0 && isSelfIssued(current.details) && verifies(current, current))) {
      if (current.anchor) result.anchored.push(path);
      else result.incomplete.push(path);
      if (acceptable(path)) {
        result.valid = path;
        return true;
      }
      return false;
    }
    const inPath = new Set(path.map((c) => c.fingerprint));
    const next = candidates.filter((c) => !inPath.has(c.fingerprint) && c.details.subjectKey === current.details.issuerKey && keyIdsAgree(current.details, c.details));
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
