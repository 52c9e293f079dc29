// Pure. Builds the LfmDeployment CustomResourceDefinition from the zod schema: a structural OpenAPI v3 schema (no
// $ref, no additionalProperties beside properties), defaults, descriptions, CEL rules, subresources and columns.
import { z } from 'zod';
import { DNS1035_LABEL, GROUP, KIND, ROOT_CEL_RULES, LfmDeploymentSpec, LfmDeploymentStatus, PLURAL, SHORT_NAME, VERSION, type CelRule } from './v1alpha1.js';

export type JsonSchema = {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  'x-kubernetes-validations'?: CelRule[];
  [key: string]: unknown;
};

const SAFE = Number.MAX_SAFE_INTEGER;

/** Whether a key of zod's output has no place in a structural schema (or only restates a default). */
function isDropped(node: JsonSchema, key: string, value: unknown): boolean {
  const preserveUnknown = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (key === '$schema' || key === 'id') return true;
  if (key === 'additionalProperties') return value === false || preserveUnknown;
  if (key === 'maximum' || key === 'minimum') return value === (key === 'maximum' ? SAFE : -SAFE);
  return key === 'properties' && preserveUnknown && Object.keys(value as object).length === 0;
}

/** Rewrites zod's OpenAPI 3.0 output into what a structural CRD schema accepts. */
function toStructural(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (isDropped(node, key, value)) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toStructural(v)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = toStructural(value as JsonSchema);
    } else {
      out[key] = value;
    }
  }
  if (out.type === 'integer' && out.format === undefined && (out.maximum === undefined || (out.maximum as number) > 2 ** 31)) {
    out.format = 'int64';
  }
  return out;
}

export function buildOpenApiSchema(schema: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }) as JsonSchema);
}

export function buildCrd(): Record<string, unknown> {
  const spec = buildOpenApiSchema(LfmDeploymentSpec);
  const status = buildOpenApiSchema(LfmDeploymentStatus);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'lfm-operator', 'app.kubernetes.io/part-of': 'lfm-operator' },
    },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: KIND.toLowerCase(), shortNames: [SHORT_NAME], categories: ['lfm', 'all'] },
      scope: 'Namespaced',
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        subresources: {
          status: {},
          scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
        },
        additionalPrinterColumns: [
          { name: 'Model', type: 'string', jsonPath: '.spec.model.source', description: 'Where the weights come from' },
          { name: 'Engine', type: 'string', jsonPath: '.spec.engine.name', description: 'Inference engine' },
          { name: 'Quant', type: 'string', jsonPath: '.spec.quantization', description: 'Weight format served' },
          { name: 'GPUs', type: 'integer', jsonPath: '.status.plan.gpusPerReplica', description: 'GPUs per replica' },
          { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Ready replicas' },
          { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas', description: 'Replicas (desired pods)' },
          { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'The Ready condition' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: 'LfmDeployment serves one sparse Mixture-of-Experts model on vLLM or SGLang (GPUs), or on llama.cpp (a GGUF file on CPU nodes or one GPU): the operator plans whether it fits its GPUs or memory, renders the engine pods, keeps them reconciled and autoscales them.',
            properties: {
              apiVersion: { type: 'string', description: 'apiVersion: serving.lfm-operator.io/v1alpha1.' },
              kind: { type: 'string', description: 'kind: LfmDeployment.' },
              metadata: { type: 'object' },
              spec,
              status,
            },
            required: ['spec'],
            'x-kubernetes-validations': [{
              rule: `self.metadata.name.matches('${DNS1035_LABEL}') && size(self.metadata.name) <= 63`,
              message: 'metadata.name must be a DNS-1035 label (lowercase letters, digits and "-", starting with a letter, at most 63 characters), because the Service and other children carry it: rename the resource',
            }, ...ROOT_CEL_RULES],
          },
        },
      }],
    },
  };
}
