// Pure. Evaluates the CRD's own CEL rules (x-kubernetes-validations) against a defaulted object, so the offline
// `plan` refuses exactly what the API server refuses. Integers become CEL ints, as the API server types them.
import { run, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { JsonSchema } from './crd.js';
import type { CelRule } from './v1alpha1.js';

export interface CelViolation { field: string; message: string }

function toCel(value: unknown, schema: JsonSchema | undefined): unknown {
  if (value === null || value === undefined || !schema) return value;
  if (schema.type === 'integer' && typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema.items));
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      const child = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      return [k, toCel(v, child)];
    }));
  }
  return value;
}

function evaluate(rule: string, self: unknown): boolean | Error {
  try {
    const result = run(rule, { self: self as CelInput }, { funcs: strings });
    return result === true;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * The refusal of a failed rule. As the API server does, messageExpression wins unless it fails to evaluate or gives
 * something other than a non-blank one-line string; then message stands.
 */
function computeMessage(r: CelRule, self: unknown): string {
  if (!r.messageExpression) return r.message;
  try {
    const text = run(r.messageExpression, { self: self as CelInput }, { funcs: strings });
    return typeof text === 'string' && text.trim() !== '' && !/[\r\n]/.test(text) ? text : r.message;
  } catch {
    return r.message;
  }
}

/** Walks schema and value together, evaluating every rule on every present node. */
export function evaluateCelRules(schema: JsonSchema, value: unknown, path: string): CelViolation[] {
  if (value === undefined || value === null) return [];
  const violations: CelViolation[] = [];
  for (const r of schema['x-kubernetes-validations'] ?? []) {
    const self = toCel(value, schema);
    const ok = evaluate(r.rule, self);
    if (ok !== true) {
      const field = r.fieldPath ? `${path}${r.fieldPath}` : path;
      violations.push({ field, message: ok instanceof Error ? `rule ${r.rule} could not be evaluated: ${ok.message}` : computeMessage(r, self) });
    }
  }
  if (schema.properties && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(schema.properties)) {
      violations.push(...evaluateCelRules(child, (value as Record<string, unknown>)[key], `${path}.${key}`));
    }
  }
  if (schema.items && Array.isArray(value)) {
    value.forEach((item, i) => violations.push(...evaluateCelRules(schema.items as JsonSchema, item, `${path}[${i}]`)));
  }
  return violations;
}
