// Every fixture of test/fixtures/invalid is refused by the real API server (OpenAPI schema, CEL rules, strict field
// validation) with the message of its `# apiserver:` header. The offline plan judges the same fixtures (test/unit).
import { beforeAll, describe, expect, it } from 'vitest';
import { type KubeObject, RESOURCES } from '../../src/kube/client.js';
import { applyCrds, captureApiError, kubeClient, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';
import { loadInvalidFixtures } from '../support/fixtures.js';

const fixtures = loadInvalidFixtures();

describe('invalid LfmDeployments', () => {
  const ns = useNamespace('invalid');
  beforeAll(async () => { await applyCrds(); });

  it('has fixtures, each with an apiserver expectation', () => {
    expect(fixtures.length).toBeGreaterThan(0);
    for (const f of fixtures) expect(f.apiserver, f.file).not.toBe('');
  });

  for (const fixture of fixtures) {
    it(`refuses ${fixture.file} (${fixture.field})`, async () => {
      const body = fixture.body as KubeObject;
      const refusal = await captureApiError(kubeClient().create(RESOURCES.lfmDeployment, { ...body, metadata: { ...body.metadata, namespace: ns.name } }, {
        fieldManager: TEST_FIELD_MANAGER, fieldValidation: 'Strict',
      }));
      expect(refusal?.status).toBeOneOf([400, 422]);
      expect(refusal?.message).toContain(fixture.apiserver);
    });
  }
});
