import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isSubset, ownsField } from '../../src/controller/compare.js';
import { parseLfmDeployment } from '../../src/api/parse.js';
import { parseOperatorConfig } from '../../src/controller/config.js';
import { LLAMACPP_DEFAULT_GPU_IMAGE, LLAMACPP_DEFAULT_IMAGE } from '../../src/engines/llamacpp.js';
import { buildPlannedMessage } from '../../src/controller/reconcile.js';
import { buildPlanReport, buildPlanStatus } from '../../src/render/plan-report.js';
import { buildCrdMissingMessage, buildInvalidMessage, computeConditions, computeInvalidStatus, computePoolRoutingCondition, computeStatus, isStatusCurrent, type RoutingObservation } from '../../src/status/compute.js';
import { llamaCppCpuDeployment, lfmDeployment } from '../support/builders.js';

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
    // A new spec not yet seen by the Deployment controller: its counts are the old template's, so not Ready yet.
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

describe('RoutingReady (spec.routing.inferencePool.enabled only; Ready never reads it)', () => {
  const routed = () => lfmDeployment().replicas(2).routing({ inferencePool: { enabled: true }, objectives: [{ name: 'premium', priority: 1 }] });
  const converged = deployment({ replicas: 2, ready: 2, updated: 2 });
  type Parent = NonNullable<NonNullable<NonNullable<RoutingObservation['pool']>['status']>['parents']>[number];
  const parent = (name: string, accepted?: { status: string; reason: string; message: string }): Parent => ({
    parentRef: { kind: 'Gateway', namespace: 'gw', name }, controllerName: 'example.com/gateway',
    ...(accepted ? { conditions: [{ type: 'Accepted', ...accepted }] } : { conditions: [] }),
  });
  const observe = (missingKinds: RoutingObservation['missingKinds'], parents?: Parent[]) => ({ routing: { missingKinds, ...(parents ? { pool: { status: { parents } } } : {}) } });
  const refused = { status: 'False', reason: 'NotSupportedByParent', message: 'no InferencePool support' };

  it.each([
    ['routing off: no condition', lfmDeployment().replicas(2), converged, {}, { Ready: 'True/Ready', RoutingReady: undefined }],
    ['a used kind is missing: CRDMissing, serving Ready', routed(), converged, observe(['inferenceObjective']), { Ready: 'True/Ready', RoutingReady: 'False/CRDMissing' }],
    ['a blocker of the resource: its reason', routed().gpu('l4-24gb').tensor(1), undefined, {}, { Ready: 'False/DoesNotFit', RoutingReady: 'False/DoesNotFit' }],
    ['NAME-epp held by another object', routed(), converged, { nameConflict: { kind: 'ConfigMap', name: 'lfm2-24b-epp' }, ...observe([]) }, { Ready: 'False/NameConflict', RoutingReady: 'False/NameConflict' }],
    ['CRDMissing before a blocker (what to install comes first)', routed(), converged, { applyError: 'forbidden', ...observe(['httpRoute']) }, { Ready: 'False/ApplyFailed', RoutingReady: 'False/CRDMissing' }],
    ['the pool not observed yet', routed(), converged, observe([]), { Ready: 'True/Ready', RoutingReady: 'False/NoParent' }],
    ['no gateway looked at the pool', routed(), converged, observe([], []), { Ready: 'True/Ready', RoutingReady: 'False/NoParent' }],
    ['a gateway lists it without deciding', routed(), converged, observe([], [parent('a')]), { Ready: 'True/Ready', RoutingReady: 'False/Pending' }],
    ['a gateway refused it: its reason', routed(), converged, observe([], [parent('a', refused)]), { Ready: 'True/Ready', RoutingReady: 'False/NotSupportedByParent' }],
    ['one of two gateways accepted it', routed(), converged, observe([], [parent('a', refused), parent('b', { status: 'True', reason: 'Accepted', message: '' })]), { Ready: 'True/Ready', RoutingReady: 'True/Accepted' }],
    ['refused without a reason', routed(), converged, observe([], [parent('a', { status: 'False', reason: '', message: 'no' })]), { Ready: 'True/Ready', RoutingReady: 'False/NotAccepted' }],
  ] as const)('%s', (_name, b, d, extra, expected) => {
    const c = conditions(b, d, [], extra);
    expect({ Ready: c['Ready'], RoutingReady: c['RoutingReady'] }).toEqual(expected);
  });

  it('CRDMissing names each missing CRD and the field that uses it', () => {
    const message = buildCrdMissingMessage(['inferencePool', 'httpRoute']);
    expect(message).toContain('spec.routing.inferencePool.enabled needs the InferencePool CRD (inferencepools.inference.networking.k8s.io, v1) of the Gateway API Inference Extension');
    expect(message).toContain('spec.routing.httpRoute needs the HTTPRoute CRD (httproutes.gateway.networking.k8s.io, v1) of the Gateway API standard channel');
    expect(message).not.toContain('InferenceObjective');
  });

  it("passes the gateway's message on, naming the gateway", () => {
    const c = computePoolRoutingCondition('chat', { status: { parents: [{ parentRef: { name: 'edge', namespace: 'gw' }, conditions: [{ type: 'Accepted', status: 'False', reason: 'NotSupportedByParent', message: 'no InferencePool support' }] }] } });
    expect(c).toEqual({ status: 'False', reason: 'NotSupportedByParent', message: 'InferencePool chat is not accepted by Gateway gw/edge: no InferencePool support' });
  });

  it('is written to status after the other conditions and keeps its transition time', () => {
    const lfmd = routed().build();
    const o = { lfmd, report: buildPlanReport(lfmd), pods: [], deployment: converged, ...observe([], []) };
    const first = computeStatus(o, '2026-01-01T00:00:00Z');
    expect(first.conditions!.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['Ready=True/Ready', 'Reconciling=False/Reconciled', 'Stalled=False/Progressing', 'Scheduled=True/Scheduled', 'RoutingReady=False/NoParent']);
    lfmd.status = first;
    expect(isStatusCurrent(first, computeStatus(o, '2026-01-01T01:00:00Z'))).toBe(true);
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

// A document edited into shapes the schema refuses.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

/** The field problems of a stored object this operator's schema refuses, as the reconciler describes them. */
function problemsOf(edit: (doc: Doc) => void) {
  const doc = lfmDeployment().input() as Doc;
  edit(doc);
  const r = parseLfmDeployment(doc);
  if (r.ok) throw new Error('the edited fixture parses');
  return r.problems;
}

describe('buildInvalidMessage (Stalled=Invalid)', () => {
  it.each([
    ['a bound', (d: Doc) => { d['spec'].autoscaling = { enabled: true, maxReplicas: 5000 }; }, /^spec\.autoscaling\.maxReplicas: .*1000/],
    ['an unknown field', (d: Doc) => { d['spec'].gpus = 2; }, /^spec\.gpus: unknown field spec\.gpus: remove it or check the spelling/],
    ['a missing field', (d: Doc) => { delete d['spec'].gpu; }, /^spec\.gpu: spec\.gpu is required/],
    ['an enum', (d: Doc) => { d['spec'].quantization = 'INT3'; }, /^spec\.quantization: must be one of .*FP8/],
    ['an array element', (d: Doc) => { d['spec'].engine = { extraArgs: ['--ok', ''] }; }, /^spec\.engine\.extraArgs\[1\]: /],
  ])('names the field path and the fix: %s', (_name, edit, expected) => {
    const message = buildInvalidMessage(problemsOf(edit));
    expect(message).toMatch(expected);
    expect(message).toContain('install the CRD of this operator version');
  });

  it('never carries the values, which may be secrets pasted in the wrong field', () => {
    const secret = 'hf_sEcReTtOkEn0123456789';
    const message = buildInvalidMessage(problemsOf((d) => {
      d['spec'].model.credentials = { secretName: 4242421, key: secret.repeat(20) };
      d['spec'].engine = { env: [{ name: 'HF_TOKEN', value: secret.repeat(300) }, { name: secret, value: 7 }] };
      d['spec'].model.servedName = `${secret} with spaces`;
    }));
    expect(message).toContain('spec.model.credentials.secretName: must be string, not number');
    expect(message).toContain('spec.engine.env[0].value');
    expect(message).toContain('spec.model.servedName');
    expect(message).not.toContain('hf_');
    expect(message).not.toContain('4242421');
  });

  it('shows ten problems and counts the rest', () => {
    const problems = Array.from({ length: 13 }, (_, i) => ({ field: `spec.f${i}`, message: 'bad' }));
    const message = buildInvalidMessage(problems);
    expect(message).toContain('spec.f9: bad; and 3 more');
    expect(message).not.toContain('spec.f10');
  });

  it('still says what to do without problems', () => {
    expect(buildInvalidMessage([])).toBe("the resource does not match this operator's schema (the installed CRD admitted it: fix the resource, or install the CRD of this operator version)");
  });
});

describe('computeInvalidStatus', () => {
  const problems = [{ field: 'spec.autoscaling.maxReplicas', message: 'Too big: expected number to be <=1000' }];

  it('reports Stalled=Invalid, keeps the replicas and endpoint, drops the plan and converges', () => {
    const valid = lfmDeployment().build();
    const before = computeStatus({ lfmd: valid, report: buildPlanReport(valid), pods: [], deployment: deployment({ replicas: 2, ready: 2, updated: 2 }) }, '2026-01-01T00:00:00Z');
    const o = { name: 'lfm2-24b', generation: 3, problems, previous: before, deployment: deployment({ replicas: 2, ready: 1, updated: 2 }) };
    const first = computeInvalidStatus(o, '2026-01-01T01:00:00Z');
    expect(first).toEqual({
      observedGeneration: 3,
      conditions: [
        { type: 'Ready', status: 'False', reason: 'Invalid', message: buildInvalidMessage(problems), observedGeneration: 3, lastTransitionTime: '2026-01-01T01:00:00Z' },
        { type: 'Reconciling', status: 'False', reason: 'Invalid', message: 'blocked; see Stalled', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z' },
        { type: 'Stalled', status: 'True', reason: 'Invalid', message: buildInvalidMessage(problems), observedGeneration: 3, lastTransitionTime: '2026-01-01T01:00:00Z' },
      ],
      replicas: 2, readyReplicas: 1, updatedReplicas: 2,
      selector: 'serving.lfm-operator.io/deployment=lfm2-24b',
      endpoint: 'http://lfm2-24b.default.svc:8000/v1',
    });
    expect(isStatusCurrent(before, first)).toBe(false);
    expect(isStatusCurrent(first, computeInvalidStatus({ ...o, previous: first }, '2026-01-01T02:00:00Z'))).toBe(true);
  });

  it('without a previous status or a Deployment: no endpoint, zero replicas', () => {
    const s = computeInvalidStatus({ name: 'x', generation: 1, problems }, '2026-01-01T00:00:00Z');
    expect(s).toMatchObject({ replicas: 0, readyReplicas: 0, updatedReplicas: 0, selector: 'serving.lfm-operator.io/deployment=x' });
    expect(s).not.toHaveProperty('endpoint');
    expect(s.conditions!.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['Ready=False/Invalid', 'Reconciling=False/Invalid', 'Stalled=True/Invalid']);
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
  it('defaults the llama.cpp images to its CPU and CUDA builds; environment, then flags, override each', () => {
    expect(parseOperatorConfig({ ...base, flags: {} })).toMatchObject({ ok: true, config: { llamacppImage: LLAMACPP_DEFAULT_IMAGE, llamacppGpuImage: LLAMACPP_DEFAULT_GPU_IMAGE } });
    const env = { LFM_OPERATOR_LLAMACPP_IMAGE: 'registry.example/llama.cpp:cpu', LFM_OPERATOR_LLAMACPP_GPU_IMAGE: 'registry.example/llama.cpp:cuda' };
    expect(parseOperatorConfig({ ...base, env, flags: {} })).toMatchObject({ ok: true, config: { llamacppImage: 'registry.example/llama.cpp:cpu', llamacppGpuImage: 'registry.example/llama.cpp:cuda' } });
    expect(parseOperatorConfig({ ...base, env, flags: { llamacppGpuImage: 'other/llama.cpp:cuda' } })).toMatchObject({ ok: true, config: { llamacppImage: 'registry.example/llama.cpp:cpu', llamacppGpuImage: 'other/llama.cpp:cuda' } });
    const empty = parseOperatorConfig({ ...base, env: {}, flags: { llamacppGpuImage: '' } });
    expect(!empty.ok && empty.message).toContain('--llamacpp-gpu-image');
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
  it.each([
    ['true', true], ['TRUE', true], ['1', true], ['false', false], ['False', false], ['0', false],
  ])('reads %s as %s in LFM_OPERATOR_LEADER_ELECT and LFM_OPERATOR_AUTOSCALER', (value, expected) => {
    const r = parseOperatorConfig({ ...base, env: { LFM_OPERATOR_LEADER_ELECT: value, LFM_OPERATOR_AUTOSCALER: value }, flags: {} });
    expect(r.ok && r.config).toMatchObject({ leaderElect: expected, autoscaler: expected });
  });
  it.each([
    ['LFM_OPERATOR_LEADER_ELECT', 'yes'], ['LFM_OPERATOR_LEADER_ELECT', 'no'], ['LFM_OPERATOR_LEADER_ELECT', ''],
    ['LFM_OPERATOR_LEADER_ELECT', ' true'], ['LFM_OPERATOR_LEADER_ELECT', 'constructor'], ['LFM_OPERATOR_AUTOSCALER', 'off'],
  ])('refuses %s=%j, naming the variable and the accepted values', (name, value) => {
    const r = parseOperatorConfig({ ...base, env: { [name]: value }, flags: {} });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toBe(`${name}: must be true, false, 1 or 0 (case-insensitive), got ${JSON.stringify(value)}`);
  });
  it('reports a bad boolean variable beside the other invalid values', () => {
    const r = parseOperatorConfig({ ...base, env: { LFM_OPERATOR_AUTOSCALER: 'yes' }, flags: { metricsBindAddress: 'nonsense' } });
    expect(!r.ok && r.message).toMatch(/^LFM_OPERATOR_AUTOSCALER: .*; --metrics-bind-address: /);
  });
});

describe('the Planned event', () => {
  const planned = (lfmd: ReturnType<typeof lfmDeployment>) => {
    const plan = buildPlanStatus(buildPlanReport(lfmd.build()));
    return { plan, message: buildPlannedMessage(plan) };
  };
  const serving = { maxModelLen: 32768, maxConcurrentSequences: 4 };

  it('speaks of GPUs, weights and KV cache per GPU for the GPU engines', () => {
    const { plan, message } = planned(lfmDeployment());
    expect(message).toBe(`fits: 1 GPU(s) per replica, ${plan.weightsGiBPerGpu} GiB weights and ${plan.kvCacheGiBPerGpu} GiB KV cache per GPU, ${plan.maxSequencesAtMaxLen} sequences of 32768 tokens`);
  });

  it('speaks of the memory a CPU replica requests, its slots and prompt cache, and of no GPU', () => {
    const { plan, message } = planned(llamaCppCpuDeployment().serving(serving));
    expect(plan).toMatchObject({ fits: true, gpusPerReplica: 0, slots: 4, contextTokens: 131072 });
    expect(message).toMatch(/^fits: CPU replica, /);
    expect(message).toContain(`${plan.memoryGiBPerReplica} GiB memory per replica (request and limit), 4 slot(s) of 32768 tokens (-c 131072), ${plan.cacheRamMiB} MiB prompt cache`);
    expect(message).not.toMatch(/GPU/);
  });

  it('on a small GPU, says how much of the experts stays in host RAM', () => {
    const { plan, message } = planned(llamaCppCpuDeployment().gpu('t4-16gb').serving(serving));
    expect(plan.cpuMoeLayers).toBeGreaterThan(0);
    expect(message).toMatch(/^fits: 1 GPU per replica, /);
    expect(message).toContain(`${plan.expertsOnHostGiB} GiB of experts in host RAM (--n-cpu-moe ${plan.cpuMoeLayers}), ${plan.memoryGiBPerReplica} GiB host memory, 4 slot(s)`);
    const l4 = planned(llamaCppCpuDeployment().gpu('l4-24gb').serving(serving));
    expect(l4.plan.cpuMoeLayers).toBe(0);
    expect(l4.message).not.toContain('experts');
  });
});


describe('Ready at a scale by the autoscaler', () => {
  type Status = 'True' | 'False';
  const settledAt = (generation: number, ready: Status = 'True', reconciling: Status = 'False') => {
    const lfmd = lfmDeployment().autoscaling({ enabled: true, minReplicas: 1, maxReplicas: 4 }).build();
    (lfmd.metadata as { generation?: number }).generation = generation;
    const c = (type: string, status: Status) => ({ type, status, reason: 'x', message: 'x', observedGeneration: generation, lastTransitionTime: '2026-01-01T00:00:00Z' });
    lfmd.status = { observedGeneration: generation, conditions: [c('Ready', ready), c('Reconciling', reconciling)] };
    return lfmd;
  };
  const ready = (lfmd: ReturnType<typeof settledAt>, d: V1Deployment) => computeConditions({ lfmd, report: buildPlanReport(lfmd), pods: [], deployment: d }).Ready?.status;
  // spec.replicas 1 -> 2 by the autoscaler: the child's generation moves, the resource's own does not.
  const scaled = deployment({ replicas: 2, ready: 1, updated: 1, gen: 5, observed: 4 });

  it('stays True while the Deployment controller has not yet seen a scale of a settled resource', () => {
    expect(ready(settledAt(3), scaled)).toBe('True');
  });

  it('waits for the child to be observed after a new spec of the resource, or while it was still reconciling', () => {
    const newSpec = settledAt(3);
    (newSpec.metadata as { generation?: number }).generation = 4;
    expect(ready(newSpec, scaled)).toBe('False');
    expect(ready(settledAt(3, 'True', 'True'), scaled)).toBe('False');
    expect(ready(settledAt(3, 'False'), scaled)).toBe('False');
  });
});
