/** PEM text: finding the blocks, in one linear pass, and their DER content. */

export interface PemBlock {
  label: string;
  /** The whole block, BEGIN to END, with \n line ends. */
  text: string;
}

// Markers only; the blocks are paired in code, so text with thousands of unmatched BEGIN lines costs
// one pass (a regex matching whole blocks lazily rescans the rest of the text for each BEGIN).
const MARKER = /-----(BEGIN|END) ([A-Z0-9 ]{1,64})-----/g;

/**
 * Every PEM block in text, in order (only those with one of `labels`, when given); text outside blocks
 * (openssl's "Bag Attributes", comments) is ignored, and so is a BEGIN without its END. Stops after `max`
 * blocks: the caller says what more would mean.
 */
export function pemBlocks(text: string, options: { labels?: readonly string[]; max?: number } = {}): PemBlock[] {
  const max = options.max ?? Infinity;
  const normalised = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  const blocks: PemBlock[] = [];
  let open: { label: string; start: number } | undefined;
  for (const m of normalised.matchAll(MARKER)) {
    const [whole, kind, label] = m as unknown as [string, 'BEGIN' | 'END', string];
    if (kind === 'BEGIN') {
      open = { label, start: m.index };
    } else if (open && open.label === label) {
      if (!options.labels || options.labels.includes(label)) blocks.push({ label, text: normalised.slice(open.start, m.index + whole.length) });
      open = undefined;
      if (blocks.length >= max) break;
    } else {
      open = undefined;
    }
  }
  return blocks;
}

/** True when a PEM block's label is one of the private key forms Node reads. */
export function isPrivateKeyLabel(label: string): boolean {
  return /^(RSA |EC |DSA |ENCRYPTED |)PRIVATE KEY$/.test(label);
}

/** The DER bytes of a block (its base64 body; headers such as Proc-Type are not base64 and are dropped). */
export function pemBody(block: PemBlock): Buffer {
  const body = block.text
    .split('\n')
    .slice(1, -1)
    .filter((line) => !line.includes(':'))
    .join('');
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}
