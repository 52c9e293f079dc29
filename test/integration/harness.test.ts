// The dev control plane's own contract: restricted identities through the TokenRequest API and RBAC, the audit log
// of writes, and fake nodes added and removed by a test.
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GPU_LABELS, GPU_RESOURCE, GPU_TOLERATION } from '../../src/catalog/gpus.js';
import { coreApi, devCluster, eventually, kubeConfig, useNamespace } from '../support/cluster.js';

describe('dev control plane', () => {
  const ns = useNamespace('harness');

  it('mints ServiceAccount identities that RBAC restricts, and the audit log names them', async () => {
    const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns.name, body: {
      metadata: { name: 'configmaps' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list'] }],
    } });
    await rbac.createNamespacedRoleBinding({ namespace: ns.name, body: {
      metadata: { name: 'operator-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmaps' },
      subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: ns.name }],
    } });

    const restricted = new KubeConfig();
    restricted.loadFromFile(await devCluster().mintToken(ns.name, 'operator'));
    const asOperator = restricted.makeApiClient(CoreV1Api);
    await asOperator.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'written-by-operator' } } });
    await expect(asOperator.listNamespacedPod({ namespace: ns.name })).rejects.toMatchObject({ code: 403 });
    await expect(asOperator.listNamespacedConfigMap({ namespace: 'default' })).rejects.toMatchObject({ code: 403 });

    const user = `system:serviceaccount:${ns.name}:operator`;
    const writes = await eventually(() => {
      const events = devCluster().readAudit().filter((e) => e.user === user);
      expect(events).toHaveLength(1);
      return events;
    });
    expect(writes[0]).toMatchObject({ verb: 'create', apiGroup: '', resource: 'configmaps', namespace: ns.name, name: 'written-by-operator', code: 201 });
  });

  it('adds a GPU node that takes pods and removes it with its pods', async () => {
    const core = coreApi();
    const name = `gpu-a100-${ns.name}`;
    const product = 'NVIDIA-A100-SXM4-80GB';
    const node = await devCluster().addGpuNode({ name, product, memoryMiB: 81920, count: 4, computeMajor: 8, computeMinor: 0 });
    try {
      expect(node.metadata?.labels).toMatchObject({ [GPU_LABELS.product]: product, [GPU_LABELS.count]: '4', [GPU_LABELS.family]: 'ampere' });
      expect(node.status?.allocatable?.[GPU_RESOURCE]).toBe('4');
      const pod: V1Pod = {
        metadata: { name: 'on-a100' },
        spec: {
          containers: [{ name: 'engine', image: 'engine:test', resources: { limits: { [GPU_RESOURCE]: '4' } } }],
          tolerations: [{ ...GPU_TOLERATION }],
          nodeSelector: { [GPU_LABELS.product]: product },
        },
      };
      await core.createNamespacedPod({ namespace: ns.name, body: pod });
      await eventually(async () => {
        const p = await core.readNamespacedPod({ name: 'on-a100', namespace: ns.name });
        expect(p.spec?.nodeName).toBe(name);
        expect(p.status?.phase).toBe('Running');
      });
    } finally {
      await devCluster().removeNode(name);
    }
    await expect(core.readNode({ name })).rejects.toMatchObject({ code: 404 });
    await eventually(async () => {
      const pods = await core.listNamespacedPod({ namespace: ns.name });
      expect(pods.items).toHaveLength(0);
    });
  });
});
