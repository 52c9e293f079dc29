// Pure. Parses LfmDeployment objects the way the API server admits them: schema types, bounds and unknown fields
// (zod), defaults, then the CRD's CEL rules. Every problem names its field path and the fix.
import { z } from 'zod';
import { evaluateCelRules } from './cel.js';
import { buildCrd, type JsonSchema } from './crd.js';
import { API_VERSION, KIND, LfmDeployment } from './v1alpha1.js';

export interface FieldProblem { field: string; message: string }

export type ParseResult =
  | { ok: true; value: LfmDeployment }
  | { ok: false; name: string; problems: FieldProblem[] };

let rootSchema: JsonSchema | undefined;
export function buildRootSchema(): JsonSchema {
  if (!rootSchema) {
    const crd = buildCrd() as { spec: { versions: { schema: { openAPIV3Schema: JsonSchema } }[] } };
    rootSchema = crd.spec.versions[0]!.schema.openAPIV3Schema;
  }
  return rootSchema;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

function describeIssue(issue: z.core.$ZodIssue): FieldProblem[] {
  const field = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => {
        const path = field ? `${field}.${k}` : k;
        return { field: path, message: `unknown field ${path}: remove it or check the spelling (kubectl explain lfmdeployment.${field || 'spec'})` };
      });
    case 'invalid_value':
      return [{ field, message: `must be one of ${issue.values.map(String).join(', ')}` }];
    case 'invalid_type': {
      const input = issue.input;
      const got = input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input;
      return [{ field, message: input === undefined ? `${field} is required` : `must be ${issue.expected}, not ${got}` }];
    }
    default:
      return [{ field, message: issue.message }];
  }
}

/** Parses one object. The problems mirror what the API server would answer (OpenAPI first, then CEL). */
export function parseLfmDeployment(input: unknown): ParseResult {
  const meta = (input as { metadata?: { name?: unknown } } | null)?.metadata;
  const name = typeof meta?.name === 'string' ? meta.name : '<unnamed>';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, name, problems: [{ field: '', message: 'expected a YAML/JSON object (an LfmDeployment)' }] };
  }
  const kind = (input as { kind?: unknown }).kind;
  const apiVersion = (input as { apiVersion?: unknown }).apiVersion;
  if (kind !== KIND || apiVersion !== API_VERSION) {
    return { ok: false, name, problems: [{ field: 'kind', message: `expected apiVersion ${API_VERSION} and kind ${KIND}, got ${String(apiVersion)} ${String(kind)}` }] };
  }
  const parsed = LfmDeployment.safeParse(input, { reportInput: true });
  if (!parsed.success) return { ok: false, name, problems: parsed.error.issues.flatMap(describeIssue) };
  const violations = evaluateCelRules(buildRootSchema(), parsed.data, '');
  if (violations.length > 0) {
    return { ok: false, name, problems: violations.map((v) => ({ field: v.field.replace(/^\./, '') || 'metadata.name', message: v.message })) };
  }
  return { ok: true, value: parsed.data };
}
