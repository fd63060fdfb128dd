/**
 * RFC 7512 `pkcs11:` URIs naming a private key in a token (TPM, smartcard, HSM): read, checked and
 * rewritten for the OpenSSL engine (libp11). The PIN is a password like the others: a `pin-value` is taken
 * from the environment or a config file only (never from argv), a `pin-source=file:` is a password file,
 * and neither is ever part of the URI that is shown or handed to the engine.
 */

/** A parsed key URI. `shown` and `engine` never hold a PIN. */
export interface Pkcs11Uri {
  /** The path attributes as written (percent-encoded), in order: what identifies token and key. */
  attributes: [name: string, value: string][];
  /** Decoded values of the attributes that messages and doctor name. */
  token?: string | undefined;
  object?: string | undefined;
  id?: string | undefined;
  /** query attribute pin-value (decoded): only honoured when the URI came from the environment or a config file. */
  pinValue?: string | undefined;
  /** query attribute pin-source: a file holding the PIN. */
  pinSource?: string | undefined;
  /** query attribute module-path: the PKCS#11 module (the engine does not read it from the URI; c8ytoken hands it over). */
  modulePath?: string | undefined;
  /** For messages: pkcs11:token=...;object=... (path attributes only). */
  shown: string;
}

/** True when a --key value is a PKCS#11 URI rather than a file. */
export function isPkcs11Uri(value: string): boolean {
  return /^pkcs11:/i.test(value.trim());
}

/**
 * The path attributes libp11's engine (0.4.x) understands; the other RFC 7512 ones (slot-*, library-*)
 * it rejects as "not a valid PKCS#11 URI", so they are refused here with a clearer reason.
 */
const ENGINE_ATTRIBUTES = new Set(['token', 'manufacturer', 'serial', 'model', 'object', 'id', 'type']);
const OTHER_RFC_ATTRIBUTES = new Set(['library-manufacturer', 'library-description', 'library-version', 'slot-description', 'slot-manufacturer', 'slot-id']);
const QUERY_ATTRIBUTES = new Set(['pin-value', 'pin-source', 'module-path', 'module-name']);

/** Decodes one attribute value (RFC 3986 percent-encoding); undefined when it is not valid. */
function decode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * Reads a `pkcs11:` URI. Returns the problem in words (never quoting a PIN) when it cannot name one
 * private key: unknown or repeated attributes, bad percent-encoding, a type other than private, neither
 * object nor id.
 */
export function parsePkcs11Uri(text: string): Pkcs11Uri | { problem: string } {
  const trimmed = text.trim();
  if (!isPkcs11Uri(trimmed)) return { problem: 'is not a pkcs11: URI' };
  const body = trimmed.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const pathPart = q < 0 ? body : body.slice(0, q);
  const queryPart = q < 0 ? '' : body.slice(q + 1);
  const uri: Pkcs11Uri = { attributes: [], shown: '' };
  const seen = new Set<string>();
  const parts = [...pathPart.split(';').map((p) => ({ p, query: false })), ...queryPart.split('&').map((p) => ({ p, query: true }))].filter((x) => x.p !== '');
  for (const { p, query } of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) return { problem: `has an attribute without a value ("${p.slice(0, 20).replace(/pin-value.*/i, 'pin-value')}")` };
    const name = p.slice(0, eq).toLowerCase();
    const raw = p.slice(eq + 1);
    // pin-value may sit in the path part too (libp11 accepts it there): it is a query attribute wherever written.
    const isQuery = query || QUERY_ATTRIBUTES.has(name);
    if (seen.has(name)) return { problem: `names ${name} twice` };
    seen.add(name);
    const value = decode(raw);
    if (value === undefined) return { problem: `has a ${name} that is not valid percent-encoding (write % as %25)` };
    if (isQuery) {
      if (name === 'pin-value') uri.pinValue = value;
      else if (name === 'pin-source') {
        if (!/^file:/i.test(value) && !value.startsWith('/')) return { problem: 'has a pin-source that is not a file (pin-source=file:/path/to/pin)' };
        uri.pinSource = value.replace(/^file:(\/\/(?=\/))?/i, '');
      } else if (name === 'module-path') uri.modulePath = value;
      else if (name === 'module-name') return { problem: 'names a module by module-name, which c8ytoken cannot look up: give module-path=/path/to/module.so, or --pkcs11-module' };
      else return { problem: `has the query attribute ${name}, which is not one of pin-source, pin-value, module-path` };
      continue;
    }
    if (OTHER_RFC_ATTRIBUTES.has(name)) return { problem: `names the key by ${name}, which the OpenSSL PKCS#11 engine does not read: use token=, object= or id=` };
    if (!ENGINE_ATTRIBUTES.has(name)) return { problem: `has the attribute ${name}, which RFC 7512 does not define` };
    if (name === 'type') {
      if (value !== 'private') return { problem: `names an object of type ${value}: the device key is type=private` };
      continue; // added back for the engine in any case
    }
    if (name === 'token') uri.token = value;
    if (name === 'object') uri.object = value;
    if (name === 'id') uri.id = value;
    uri.attributes.push([name, raw]);
  }
  if (uri.object === undefined && uri.id === undefined) return { problem: 'names no key: add object=LABEL or id=%01 (pkcs11-tool --list-objects shows them)' };
  uri.shown = `pkcs11:${uri.attributes.map(([n, v]) => `${n}=${v}`).join(';')}`;
  return uri;
}

/** The URI handed to the engine: the key's attributes, type=private, and the PIN's file (never the PIN). */
export function engineUri(uri: Pkcs11Uri, pinFile: string | undefined): string {
  const parts = [...uri.attributes.map(([n, v]) => `${n}=${v}`), 'type=private'];
  // libp11 reads pin-source as a plain path after file: (no percent-decoding).
  if (pinFile !== undefined) parts.push(`pin-source=file:${pinFile}`);
  return `pkcs11:${parts.join(';')}`;
}
