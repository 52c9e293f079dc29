// The fake GPU pool with the real scheduler: GPU pods land only on nodes with free GPUs of the requested type, and a
// pod no node can hold stays Pending with the scheduler's reason.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GPU_LABELS, GPU_RESOURCE, GPU_TOLERATION } from '../../src/catalog/gpus.js';
import { coreApi, eventually, useNamespace } from '../support/cluster.js';

const L4 = 'NVIDIA-L4';
const H100 = 'NVIDIA-H100-80GB-HBM3';

function renderGpuPod(name: string, product: string, gpus: number): V1Pod {
  return {
    metadata: { name },
    spec: {
      containers: [{ name: 'engine', image: 'engine:test', resources: { limits: { [GPU_RESOURCE]: String(gpus) } } }],
      tolerations: [{ ...GPU_TOLERATION }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: GPU_LABELS.product, operator: 'In', values: [product] }] }],
          },
        },
      },
    },
  };
}

function unschedulableMessage(pod: V1Pod): string | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.status === 'False' && c.reason === 'Unschedulable' ? c.message : undefined;
}

const isRunningAndReady = (pod: V1Pod) =>
  pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

describe('scheduling on the fake GPU pool', () => {
  const ns = useNamespace('sched');

  it('places GPU pods only on nodes with free GPUs of the requested type', async () => {
    const core = coreApi();
    const nodes = (await core.listNode()).items;
    const nodesWith = (product: string) => nodes.filter((n) => n.metadata?.labels?.[GPU_LABELS.product] === product).map((n) => n.metadata!.name!);
    expect(nodesWith(L4)).toHaveLength(2);

    // Two L4 nodes with one GPU each: two of three one-GPU pods run, on different nodes; the third waits.
    for (const name of ['l4-a', 'l4-b', 'l4-c']) await core.createNamespacedPod({ namespace: ns.name, body: renderGpuPod(name, L4, 1) });
    await core.createNamespacedPod({ namespace: ns.name, body: renderGpuPod('h100-full', H100, 8) });

    await eventually(async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns.name })).items;
      const l4Pods = pods.filter((p) => p.metadata!.name!.startsWith('l4-'));
      const running = l4Pods.filter(isRunningAndReady);
      expect(running).toHaveLength(2);
      expect(new Set(running.map((p) => p.spec?.nodeName))).toEqual(new Set(nodesWith(L4)));
      const waiting = l4Pods.filter((p) => !p.spec?.nodeName);
      expect(waiting).toHaveLength(1);
      expect(waiting[0]?.status?.phase).toBe('Pending');
      expect(unschedulableMessage(waiting[0]!)).toContain(`Insufficient ${GPU_RESOURCE}`);

      const h100 = pods.find((p) => p.metadata!.name === 'h100-full')!;
      expect(isRunningAndReady(h100)).toBe(true);
      expect(nodesWith(H100)).toContain(h100.spec?.nodeName);
    });
  });

  it('leaves a pod asking for more GPUs than any node has Pending with the reason', async () => {
    const core = coreApi();
    await core.createNamespacedPod({ namespace: ns.name, body: renderGpuPod('too-big', H100, 9) });
    const pod = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'too-big', namespace: ns.name });
      expect(unschedulableMessage(p)).toContain(`Insufficient ${GPU_RESOURCE}`);
      return p;
    });
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.spec?.nodeName).toBeUndefined();
  });

  it('keeps ordinary pods off the tainted GPU nodes', async () => {
    const core = coreApi();
    await core.createNamespacedPod({ namespace: ns.name, body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'web:test' }] } } });
    const pod = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'web', namespace: ns.name });
      expect(isRunningAndReady(p)).toBe(true);
      return p;
    });
    const node = await core.readNode({ name: pod.spec!.nodeName! });
    expect(node.metadata?.labels?.[GPU_LABELS.product]).toBeUndefined();
    expect(node.spec?.taints ?? []).toEqual([]);
  });
});
