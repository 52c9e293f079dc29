import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isSubset, ownsField } from '../../src/controller/compare.js';
import { parseOperatorConfig } from '../../src/controller/config.js';
import { buildPlanReport } from '../../src/render/plan-report.js';
import { computeConditions, computeStatus, isStatusCurrent } from '../../src/status/compute.js';
import { lfmDeployment } from '../support/builders.js';

const deployment = (o: { replicas: number; ready: number; updated: number; gen?: number; observed?: number; deadline?: boolean }): V1Deployment => ({
  metadata: { generation: o.gen ?? 2 },
  spec: { replicas: o.replicas, selector: {}, template: {} },
  status: {
    observedGeneration: o.observed ?? o.gen ?? 2, replicas: o.replicas, readyReplicas: o.ready, updatedReplicas: o.updated,
    ...(o.deadline ? { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } : {}),
  },
});
const pending = (message: string): V1Pod => ({ metadata: { name: 'p' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] } });

function conditions(b: ReturnType<typeof lfmDeployment>, d?: V1Deployment, pods: V1Pod[] = [], extra = {}) {
  const lfmd = b.build();
  const c = computeConditions({ lfmd, report: buildPlanReport(lfmd), pods, ...(d ? { deployment: d } : {}), ...extra });
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v).map(([k, v]) => [k, `${v!.status}/${v!.reason}`]));
}

describe('computeConditions (kstatus)', () => {
  it.each([
    ['converged', lfmDeployment().replicas(2), deployment({ replicas: 2, ready: 2, updated: 2 }), [], {}, { Ready: 'True/Ready', Reconciling: 'False/Reconciled', Stalled: 'False/Progressing', Scheduled: 'True/Scheduled' }],
    ['no Deployment yet', lfmDeployment(), undefined, [], {}, { Ready: 'False/Creating', Reconciling: 'True/Applying', Stalled: 'False/Progressing' }],
    ['child spec not yet observed', lfmDeployment(), deployment({ replicas: 1, ready: 1, updated: 1, gen: 3, observed: 2 }), [], {}, { Ready: 'False/ReplicasNotReady', Reconciling: 'True/Applying', Stalled: 'False/Progressing', Scheduled: 'True/Scheduled' }],
    ['rolling out', lfmDeployment().replicas(2), deployment({ replicas: 2, ready: 1, updated: 1 }), [], {}, { Ready: 'False/ReplicasNotReady', Reconciling: 'True/RollingOut', Stalled: 'False/Progressing', Scheduled: 'True/Scheduled' }],
    ['does not fit', lfmDeployment().gpu('l4-24gb').tensor(1), undefined, [], {}, { Ready: 'False/DoesNotFit', Reconciling: 'False/DoesNotFit', Stalled: 'True/DoesNotFit' }],
    ['name conflict', lfmDeployment(), undefined, [], { nameConflict: { kind: 'Service', name: 'lfm2-24b' } }, { Ready: 'False/NameConflict', Reconciling: 'False/NameConflict', Stalled: 'True/NameConflict' }],
    ['rollout past its deadline', lfmDeployment(), deployment({ replicas: 1, ready: 0, updated: 1, deadline: true }), [pending('0/5 nodes are available: 4 Insufficient nvidia.com/gpu.')], {}, { Ready: 'False/RolloutStalled', Reconciling: 'False/RolloutStalled', Stalled: 'True/RolloutStalled' }],
    ['waiting for GPUs', lfmDeployment().replicas(2), deployment({ replicas: 2, ready: 1, updated: 2 }), [pending('0/5 nodes are available: 2 Insufficient nvidia.com/gpu.')], {}, { Ready: 'False/ReplicasNotReady', Reconciling: 'True/WaitingForReady', Stalled: 'False/Progressing', Scheduled: 'False/InsufficientGPU' }],
    ['autoscaled up beyond minReplicas: neither Ready nor Reconciling flips while new replicas load', lfmDeployment().autoscaling({ enabled: true, minReplicas: 1, maxReplicas: 8 }), deployment({ replicas: 4, ready: 2, updated: 4 }), [], {}, { Ready: 'True/Ready', Reconciling: 'False/Reconciled', Stalled: 'False/Progressing', Scheduled: 'True/Scheduled' }],
  ] as const)('%s', (_name, b, d, pods, extra, expected) => {
    expect(conditions(b, d, [...pods], extra)).toEqual(expected);
  });
});

describe('computeStatus', () => {
  it('keeps lastTransitionTime while a condition holds, and reports the plan, selector and endpoint', () => {
    const lfmd = lfmDeployment().namespace('inference').build();
    (lfmd.metadata as Record<string, unknown>)['generation'] = 4;
    const o = { lfmd, report: buildPlanReport(lfmd), pods: [], deployment: deployment({ replicas: 1, ready: 1, updated: 1 }) };
    const first = computeStatus(o, '2026-01-01T00:00:00Z');
    lfmd.status = first;
    const second = computeStatus(o, '2026-01-01T01:00:00Z');
    expect(second.conditions).toEqual(first.conditions);
    expect(isStatusCurrent({ ...first, autoscaling: { desiredReplicas: 3 } }, second)).toBe(true);
    expect(second.observedGeneration).toBe(4);
    expect(second.selector).toBe('serving.lfm-operator.io/deployment=lfm2-24b');
    expect(second.endpoint).toBe('http://lfm2-24b.inference.svc:8000/v1');
    expect(second.plan!.fits).toBe(true);
    const changed = computeStatus({ ...o, deployment: deployment({ replicas: 1, ready: 0, updated: 1 }) }, '2026-01-01T02:00:00Z');
    expect(isStatusCurrent(first, changed)).toBe(false);
    expect(changed.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime).toBe('2026-01-01T02:00:00Z');
  });
});

describe('isSubset and ownsField', () => {
  it.each([
    ['equal scalars', { a: 1 }, { a: 1 }, true],
    ['server defaults ignored', { a: 1 }, { a: 1, b: 2 }, true],
    ['changed value', { a: 1 }, { a: 2 }, false],
    ['missing field', { a: { b: 1 } }, { a: {} }, false],
    ['list length differs', { a: [1, 2] }, { a: [1] }, false],
    ['list elements with defaults', { a: [{ x: 1 }] }, { a: [{ x: 1, y: 2 }] }, true],
    ['number rendered as string by the server', { port: 8000 }, { port: '8000' }, true],
  ])('%s', (_n, d, o, expected) => {
    expect(isSubset(d, o)).toBe(expected);
  });

  it('reads field ownership from managedFields', () => {
    const obj = { metadata: { managedFields: [
      { manager: 'lfm-autoscaler', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
      { manager: 'lfm-operator', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:template': {} } } },
    ] } };
    expect(ownsField(obj, 'lfm-autoscaler', ['spec', 'replicas'])).toBe(true);
    expect(ownsField(obj, 'lfm-operator', ['spec', 'replicas'])).toBe(false);
  });
});

describe('parseOperatorConfig', () => {
  const base = { env: {}, randomSuffix: 'abcd' };
  it('applies defaults', () => {
    const r = parseOperatorConfig({ ...base, flags: {} });
    expect(r.ok && r.config).toMatchObject({ leaderElect: true, leaderElectionNamespace: 'default', namespaces: [], metricsBindAddress: ':8080', healthProbeBindAddress: ':8081', concurrency: 4, vllmImage: 'vllm/vllm-openai:v0.11.2', identity: 'lfm-operator_abcd' });
  });
  it('takes the pod namespace for the lease, flags over environment', () => {
    const r = parseOperatorConfig({ ...base, podNamespace: 'ops', env: { LFM_OPERATOR_CONCURRENCY: '8', LFM_OPERATOR_NAMESPACES: 'a,b' }, flags: { concurrency: '2' } });
    expect(r.ok && r.config).toMatchObject({ leaderElectionNamespace: 'ops', concurrency: 2, namespaces: ['a', 'b'] });
  });
  it('names the flag of an invalid value', () => {
    const r = parseOperatorConfig({ ...base, flags: { metricsBindAddress: 'nonsense' } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('--metrics-bind-address');
  });
});
