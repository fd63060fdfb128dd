/** The `X-Ssl-Cert-Chain` header: which certificates, and the one-line PEM form the platform parses. */
import type { X509Certificate } from 'node:crypto';

export const CHAIN_HEADER = 'X-Ssl-Cert-Chain';

/** What the header carries: auto (the certificates after the leaf), none, full (leaf too). */
export type ChainHeaderMode = 'auto' | 'none' | 'full';

/** The certificates the header carries: auto = everything after the leaf, full = leaf too, none = nothing. */
export function chainHeaderCertificates(chain: readonly X509Certificate[], mode: ChainHeaderMode): X509Certificate[] {
  if (mode === 'none') return [];
  return mode === 'full' ? [...chain] : chain.slice(1);
}

/**
 * The header value: PEM blocks with every newline replaced by one space, joined by one space
 * (cumulocity.md). Undefined when there is nothing to send, as go-c8y sends no header then.
 * A raw newline never goes into a header value.
 */
export function chainHeaderValue(chain: readonly X509Certificate[], mode: ChainHeaderMode): string | undefined {
  const certs = chainHeaderCertificates(chain, mode);
  if (certs.length === 0) return undefined;
  return certs.map((c) => c.toString().trim().replace(/\r?\n/g, ' ')).join(' ');
}
