/**
 * A JSON schema validator for the subset docs/c8ytokenrc.schema.json uses (type, enum, pattern,
 * exclusiveMinimum, maximum, properties, additionalProperties, anyOf, local $ref), so that the tests can hold the
 * schema to the config reader without a validator package. A keyword outside the subset throws: the
 * generator must not start emitting one that nothing here checks.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set(['$schema', '$comment', '$defs', 'title', 'description', 'type', 'enum', 'pattern', 'exclusiveMinimum', 'maximum', 'properties', 'additionalProperties', 'anyOf', '$ref']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** The problems of value against schema, each with its path ('' when there are none). */
export function validate(root: Schema, value: unknown): string[] {
  const problems: string[] = [];
  const check = (schema: Schema, v: unknown, path: string, out = problems): void => {
    for (const key of Object.keys(schema)) if (!KNOWN.has(key)) throw new Error(`json-schema helper: keyword ${key} at ${path || '(top)'} is not supported`);
    if (typeof schema.$ref === 'string') {
      const target = schema.$ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), root);
      if (!isObject(target)) throw new Error(`json-schema helper: $ref ${schema.$ref} not found`);
      check(target, v, path, out);
    }
    if (schema.type !== undefined && schema.type !== typeOf(v)) out.push(`${path}: must be ${JSON.stringify(schema.type)}, not ${typeOf(v)}`);
    if (Array.isArray(schema.enum) && !schema.enum.includes(v)) out.push(`${path}: must be one of ${schema.enum.join(', ')}`);
    if (typeof schema.pattern === 'string' && typeof v === 'string' && !new RegExp(schema.pattern, 'u').test(v)) out.push(`${path}: does not match ${schema.pattern}`);
    if (typeof schema.exclusiveMinimum === 'number' && typeof v === 'number' && !(v > schema.exclusiveMinimum)) out.push(`${path}: must be over ${schema.exclusiveMinimum}`);
    if (typeof schema.maximum === 'number' && typeof v === 'number' && v > schema.maximum) out.push(`${path}: must be at most ${schema.maximum}`);
    if (Array.isArray(schema.anyOf)) {
      const each = (schema.anyOf as Schema[]).map((form) => {
        const found: string[] = [];
        check(form, v, path, found);
        return found;
      });
      if (!each.some((p) => p.length === 0)) out.push(`${path}: matches none of ${each.length} forms (${each.flat().join('; ')})`);
    }
    if (isObject(v)) {
      const properties = isObject(schema.properties) ? schema.properties : {};
      for (const [key, sub] of Object.entries(v)) {
        const at = path ? `${path}.${key}` : key;
        if (Object.hasOwn(properties, key)) check(properties[key] as Schema, sub, at, out);
        else if (schema.additionalProperties === false) out.push(`${at}: is not a known key`);
        else if (isObject(schema.additionalProperties)) check(schema.additionalProperties, sub, at, out);
      }
    }
  };
  check(root, value, '');
  return problems;
}
