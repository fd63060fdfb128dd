/**
 * Colour on a terminal, one way: the few SGR sequences c8ytoken uses, written here (no colour library:
 * the error path and `inspect` would load one for six escape codes). Whether colour is on is decided
 * once (terminal.ts useColor: a TTY, no NO_COLOR, no --no-color); core/text.ts keeps exactly these
 * sequences at the output edge.
 */
const SGR = { green: [32, 39], yellow: [33, 39], red: [31, 39], cyan: [36, 39], dim: [2, 22], bold: [1, 22] } as const;

export type Colour = keyof typeof SGR;

/** Text in a colour (or style), when colour is on. */
export function paintText(colour: Colour, text: string, on = true): string {
  if (!on) return text;
  const [open, close] = SGR[colour];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** A painter per colour, each the identity when colour is off. */
export function painter(on: boolean): Record<Colour, (text: string) => string> {
  const out = {} as Record<Colour, (text: string) => string>;
  for (const colour of Object.keys(SGR) as Colour[]) out[colour] = (text) => paintText(colour, text, on);
  return out;
}
