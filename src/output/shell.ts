/** Exporting variables in the forms each shell evaluates (go-c8y-cli's session export forms). */

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

/** One `NAME=value` assignment, quoted so that no value can break out of its string. */
export function exportLine(shell: Shell, name: string, value: string): string {
  switch (shell) {
    case 'bash':
    case 'zsh':
      return `export ${name}='${value.replace(/'/g, `'\\''`)}'`;
    case 'fish':
      return `set -gx ${name} '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    case 'powershell':
      return `$env:${name} = '${value.replace(/'/g, "''")}'`;
  }
}
