// The generated CRD (crds/) against the real API server: it installs, becomes Established and is served.
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/kube/client.js';
import { applyCrds, eventually, kubeClient } from '../support/cluster.js';

const LFM_API = RESOURCES.lfmDeployment;

describe('the generated CRD', () => {
  it('installs and becomes Established', async () => {
    const [crd] = await applyCrds();
    expect(crd?.status?.conditions?.find((c) => c.type === 'NamesAccepted')?.status).toBe('True');
    expect(crd?.status?.acceptedNames).toMatchObject({ kind: 'LfmDeployment', plural: LFM_API.plural, shortNames: ['lfmd'] });
  });

  it('is served with the status and scale subresources', async () => {
    await applyCrds();
    const resources = await eventually(async () => {
      const list = await kubeClient().request<{ resources: { name: string; namespaced: boolean }[] }>('GET', `/apis/${LFM_API.group}/${LFM_API.version}`);
      return list.resources;
    });
    expect(resources.map((r) => r.name).sort()).toEqual([LFM_API.plural, `${LFM_API.plural}/scale`, `${LFM_API.plural}/status`]);
    expect(resources.find((r) => r.name === LFM_API.plural)?.namespaced).toBe(true);
  });
});
