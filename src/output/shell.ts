/** Exporting variables in the forms each shell evaluates (go-c8y-cli's session export forms). */

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

/** True when a value can be put into any shell's quotes as it is: no control characters (NUL, line breaks, escapes). */
export function exportable(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value);
}

/** One `NAME=value` assignment, quoted so that no value can break out of its string (values must be exportable). */
export function exportLine(shell: Shell, name: string, value: string): string {
  switch (shell) {
    case 'bash':
    case 'zsh':
      return `export ${name}='${value.replace(/'/g, `'\\''`)}'`;
    case 'fish':
      return `set -gx ${name} '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    case 'powershell':
      // PowerShell ends a single-quoted string at any of ' ‘ ’ ‚ ‛ (U+2018-U+201B) and doubles each to
      // escape it, as its own CodeGeneration.EscapeSingleQuotedStringContent does.
      return `$env:${name} = '${value.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
  }
}
