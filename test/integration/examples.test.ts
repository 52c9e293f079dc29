// Every examples/*.yaml, and a minimal autoscaled resource, is accepted by the real API server (server-side apply
// with fieldValidation=Strict) and reads back as written.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type KubeObject, RESOURCES } from '../../src/kube/client.js';
import { lfmDeployment } from '../support/builders.js';
import { applyCrds, kubeClient, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';

const EXAMPLE_DIR = new URL('../../examples/', import.meta.url).pathname;
const examples = readdirSync(EXAMPLE_DIR).filter((f) => f.endsWith('.yaml')).sort();

interface Resource extends KubeObject { metadata: { name: string; namespace?: string }; spec: Record<string, unknown> }

/** Server-side apply into namespace, with fieldValidation=Strict: unknown fields would be refused. */
function applyInto(namespace: string, doc: Resource): Promise<Resource> {
  return kubeClient().apply<Resource>(RESOURCES.lfmDeployment, { ...doc, metadata: { ...doc.metadata, namespace } }, TEST_FIELD_MANAGER);
}

describe('examples', () => {
  const ns = useNamespace('examples');
  beforeAll(async () => { await applyCrds(); });

  it('has examples to check', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  for (const file of examples) {
    it(`accepts ${file}`, async () => {
      const docs = parseAllDocuments(readFileSync(join(EXAMPLE_DIR, file), 'utf8')).map((d) => d.toJS() as Resource | null)
        .filter((d): d is Resource => d !== null && (d as { kind?: string }).kind === 'LfmDeployment');
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        const live = await applyInto(ns.name, doc);
        expect(live.spec).toMatchObject(doc.spec);
      }
    });
  }

  it('accepts a minimal autoscaled resource', async () => {
    const doc = lfmDeployment('minimal-autoscaled').autoscaling({ enabled: true, minReplicas: 1, maxReplicas: 3 }).input();
    const live = await applyInto(ns.name, doc as unknown as Resource);
    expect(live.spec).toMatchObject({ autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 3 } });
    expect(live.spec['replicas']).toBeUndefined();
  });
});
