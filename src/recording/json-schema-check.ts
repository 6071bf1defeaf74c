import type { JsonSchema } from './schemas.js';

/**
 * A validator for the JSON Schema subset that Foxglove's published schemas and ours use: type (incl. integer and
 * null), properties, required, items, minItems/maxItems, minimum/maximum, enum, const, oneOf, contentEncoding
 * (base64). Small enough to read in one sitting, which is why it is here instead of a dependency. Returns the
 * problems found, each with a JSON path; an empty list means valid. Unknown keywords are reported by
 * `unsupportedKeywords` so a schema using more than this subset is noticed instead of passing silently.
 */
export function validate(schema: JsonSchema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  if ('const' in schema && value !== schema.const) errors.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value as never)) errors.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (Array.isArray(schema.oneOf)) {
    const matching = (schema.oneOf as JsonSchema[]).filter((s) => validate(s, value, path).length === 0).length;
    if (matching !== 1) errors.push(`${path}: matches ${matching} of the oneOf alternatives, expected exactly 1`);
  }
  if (typeof schema.type === 'string' && !hasType(schema.type, value)) {
    errors.push(`${path}: expected ${schema.type}, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
    return errors;
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${path}: ${value} < minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${path}: ${value} > maximum ${schema.maximum}`);
  }
  if (typeof value === 'string' && schema.contentEncoding === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    errors.push(`${path}: not base64`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${path}: ${value.length} items < ${schema.minItems}`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errors.push(`${path}: ${value.length} items > ${schema.maxItems}`);
    if (schema.items && typeof schema.items === 'object') value.forEach((v, i) => errors.push(...validate(schema.items as JsonSchema, v, `${path}[${i}]`)));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const k of (schema.required as string[] | undefined) ?? []) if (!(k in obj)) errors.push(`${path}.${k}: required`);
    const props = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
    for (const [k, s] of Object.entries(props)) if (k in obj) errors.push(...validate(s, obj[k], `${path}.${k}`));
  }
  return errors;
}

function hasType(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'null':
      return v === null;
    default:
      return typeof v === type;
  }
}

const KNOWN = new Set(['title', 'description', '$comment', 'type', 'properties', 'required', 'items', 'minItems', 'maxItems', 'minimum', 'maximum', 'enum', 'const', 'oneOf', 'contentEncoding']);

/** Keywords in a schema (anywhere) that `validate` does not check. */
export function unsupportedKeywords(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => unsupportedKeywords(s, out));
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (!KNOWN.has(k)) out.add(k);
      if (k === 'properties') Object.values(v as object).forEach((s) => unsupportedKeywords(s, out));
      else if (k === 'items' || k === 'oneOf') unsupportedKeywords(v, out);
    }
  }
  return out;
}
