import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildCrd, type JsonSchema } from '../../src/api/crd.js';

const committed = readFileSync(new URL('../../crds/serving.lfm-operator.io_lfmdeployments.yaml', import.meta.url), 'utf8');
const crd = buildCrd() as { spec: { versions: { schema: { openAPIV3Schema: JsonSchema }; subresources: unknown; additionalPrinterColumns: { name: string }[] }[]; names: { shortNames: string[] } } };
const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
const spec = root.properties!['spec']!;

function walk(node: JsonSchema, path: string, visit: (n: JsonSchema, p: string) => void): void {
  visit(node, path);
  for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, `${path}.${k}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{}`, visit);
}

describe('the generated CRD', () => {
  it('is what make generate writes (crds/ is not stale)', () => {
    expect(committed).toBe(stringify(buildCrd(), { lineWidth: 0 }));
  });

  it('is structural: no $ref, anyOf, oneOf, nullable, or additionalProperties beside properties', () => {
    walk(root, '', (n, p) => {
      for (const k of ['$ref', 'anyOf', 'oneOf', 'allOf', 'nullable', 'not']) expect(n[k], `${p} has ${k}`).toBeUndefined();
      if (n.properties) expect(n.additionalProperties, `${p}`).toBeUndefined();
      if (!n['x-kubernetes-preserve-unknown-fields'] && p !== '.metadata') expect(n.type, `${p} has a type`).toBeDefined();
    });
  });

  it('describes every spec field starting with its name', () => {
    walk(spec, 'spec', (n, p) => {
      const name = p.split('.').pop()!;
      if (name.endsWith('[]') || name.endsWith('{}')) return;
      expect(n.description, `${p} has a description`).toBeDefined();
      expect(n.description!.startsWith(`${name}:`), `${p}: "${n.description}"`).toBe(true);
    });
  });

  it('has no default on spec.replicas or parallelism.tensor, and autoscaling.enabled defaults to false', () => {
    expect(spec.properties!['replicas']!['default']).toBeUndefined();
    expect(spec.properties!['parallelism']!.properties!['tensor']!['default']).toBeUndefined();
    expect(spec.properties!['autoscaling']!.properties!['enabled']!['default']).toBe(false);
    expect((spec.properties!['autoscaling']!['default'] as { enabled: boolean }).enabled).toBe(false);
  });

  it('bounds every list and string a CEL rule iterates', () => {
    const extra = spec.properties!['engine']!.properties!['extraArgs']!;
    expect(extra['maxItems']).toBe(64);
    expect(extra.items!['maxLength']).toBe(256);
  });

  it('has the status and scale subresources, printer columns and short name', () => {
    const v = crd.spec.versions[0]!;
    expect(v.subresources).toEqual({ status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } });
    expect(v.additionalPrinterColumns.map((c) => c.name)).toEqual(['Model', 'Engine', 'Quant', 'GPUs', 'Ready', 'Replicas', 'Status', 'Age']);
    expect(crd.spec.names.shortNames).toEqual(['lfmd']);
  });
});
