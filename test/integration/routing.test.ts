// The request path against the real control plane (issue 12): the operator process as its least-privilege identity
// (config/rbac/role.yaml, so RBAC escalation prevention judges the endpoint picker's Role), the upstream CRDs
// (InferencePool, InferenceObjective, the Gateway API standard channel) judging every child with their schemas and
// CEL, and a test playing the gateway controller. CRDs are cluster-scoped: the test without them runs first, and the
// file removes what it installed.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LfmDeployment, LfmDeploymentInput } from '../../src/api/v1alpha1.js';
import { readGroupVersionWith, RoutingDiscovery } from '../../src/controller/discovery.js';
import { RESOURCES, type KubeObject, type ResourceType } from '../../src/kube/client.js';
import { ENDPOINT_PICKER_KINDS, LABEL_ENDPOINT_PICKER, ROUTING_KINDS } from '../../src/render/routing.js';
import { lfmDeployment } from '../support/builders.js';
import { applyCrds, captureApiError, devCluster, eventually, kubeClient, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';
import { createOperatorIdentity, startOperator, stopAllOperators, type OperatorProcess } from '../support/operator.js';
import { installCrds, loadGatewayApiCrds, loadInferenceCrds, uninstallCrds } from '../support/routing-crds.js';

const ns = useNamespace('route');
const client = () => kubeClient();

type Lfmd = LfmDeployment & KubeObject & { metadata: { generation: number; uid: string } };
type Routing = LfmDeploymentInput['spec']['routing'];

const GATEWAY = 'inference-gateway';
const ROUTING: Routing = {
  // Two picker replicas: leader election, so the picker's Role grants leases, which the operator must hold itself.
  inferencePool: { enabled: true, endpointPicker: { replicas: 2 } },
  objectives: [{ name: 'premium', priority: 10 }, { name: 'batch', priority: -1 }],
  httpRoute: { parentRefs: [{ name: GATEWAY }] },
};
const routed = (name: string, routing: Routing = ROUTING) => lfmDeployment(name).quantization('FP8').replicas(2).routing(routing).namespace(ns.name);

const applyLfmd = (b: ReturnType<typeof routed>) => client().apply(RESOURCES.lfmDeployment, b.input() as unknown as KubeObject, TEST_FIELD_MANAGER);
const getLfmd = (name: string) => client().get<Lfmd>(RESOURCES.lfmDeployment, ns.name, name);
const condition = (l: Lfmd, type: string) => l.status?.conditions?.find((c) => c.type === type);
const get = (type: ResourceType, name: string) => client().get<KubeObject>(type, ns.name, name);
const isGone = async (type: ResourceType, name: string) => (await captureApiError(get(type, name)))?.status === 404;

/** Waits until the resource's status is current and `type` has `status` (and `reason`, when given). */
async function waitForCondition(name: string, type: string, status: string, reason?: string, timeoutMs = 60_000): Promise<Lfmd> {
  return eventually(async () => {
    const l = await getLfmd(name);
    const c = condition(l, type);
    expect(l.status?.observedGeneration, `${name} observedGeneration`).toBe(l.metadata.generation);
    expect(`${c?.status}/${c?.reason}`, `${name} ${type}: ${c?.message}`).toBe(`${status}/${reason ?? c?.reason}`);
    return l;
  }, { timeoutMs, intervalMs: 250 });
}

/** Every routing child of resource `name` with the objectives and route of ROUTING: kind and name. */
function routingChildren(name: string): { type: ResourceType; name: string }[] {
  const epp = `${name}-epp`;
  return [
    ...Object.values(ENDPOINT_PICKER_KINDS).map((type) => ({ type, name: epp })),
    { type: ROUTING_KINDS.inferencePool, name },
    { type: ROUTING_KINDS.inferenceObjective, name: 'premium' },
    { type: ROUTING_KINDS.inferenceObjective, name: 'batch' },
    { type: ROUTING_KINDS.httpRoute, name },
  ];
}

/** Writes the pool's status.parents as a gateway controller would (status subresource, its own field manager). */
async function writePoolParents(name: string, accepted: { status: 'True' | 'False'; reason: string; message: string }): Promise<void> {
  const pool = ROUTING_KINDS.inferencePool;
  await client().apply(pool, {
    apiVersion: `${pool.group}/${pool.version}`, kind: pool.kind, metadata: { name, namespace: ns.name },
    status: {
      parents: [{
        parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: ns.name, name: GATEWAY },
        controllerName: 'example.com/gateway-controller',
        conditions: [{ type: 'Accepted', ...accepted, observedGeneration: 1, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') }],
      }],
    },
  }, 'example-gateway-controller', { force: true, subresource: 'status' });
}

const routingCrds = () => [...loadInferenceCrds(), ...loadGatewayApiCrds()];
let operator: OperatorProcess;

beforeEach(async () => {
  await applyCrds();
  const identity = await createOperatorIdentity(ns.name);
  operator = startOperator({ kubeconfig: identity.kubeconfig, namespace: ns.name });
  await operator.waitForLog('became leader');
});
afterEach(async () => {
  await stopAllOperators();
});

describe('without the routing CRDs', () => {
  beforeAll(async () => {
    await uninstallCrds(routingCrds());
  });

  it('serves all the same: Ready, RoutingReady=False CRDMissing naming what to install, no routing child', async () => {
    expect(await new RoutingDiscovery(readGroupVersionWith(client())).refresh()).toEqual({ inferencePool: false, inferenceObjective: false, httpRoute: false });
    await applyLfmd(routed('bare'));
    const l = await waitForCondition('bare', 'RoutingReady', 'False', 'CRDMissing');
    const ready = await waitForCondition('bare', 'Ready', 'True');
    const message = condition(ready, 'RoutingReady')!.message;
    for (const crd of ['inferencepools.inference.networking.k8s.io', 'inferenceobjectives.llm-d.ai', 'httproutes.gateway.networking.k8s.io']) expect(message).toContain(crd);
    expect(condition(l, 'Stalled')?.status).toBe('False');
    // Every child of the request path needs the pool's kind: none was applied, not even the endpoint picker.
    for (const type of Object.values(ENDPOINT_PICKER_KINDS)) expect(await isGone(type, 'bare-epp'), `${type.kind} bare-epp`).toBe(true);
    expect((await client().get<V1Deployment & KubeObject>(RESOURCES.deployment, ns.name, 'bare')).status?.readyReplicas).toBe(2);
  });
});

describe('with the upstream CRDs', () => {
  let crds: KubeObject[];
  beforeAll(async () => {
    crds = routingCrds();
    await installCrds(crds);
  });
  afterAll(async () => {
    await uninstallCrds(crds);
  });

  it('applies every child, accepted under the real schemas and CEL; the pool selects exactly the engine pods; a resync writes nothing', async () => {
    expect(await new RoutingDiscovery(readGroupVersionWith(client())).refresh()).toEqual({ inferencePool: true, inferenceObjective: true, httpRoute: true });
    await applyLfmd(routed('chat'));
    const l = await waitForCondition('chat', 'Ready', 'True');
    const noParent = await waitForCondition('chat', 'RoutingReady', 'False', 'NoParent');
    expect(condition(noParent, 'Stalled')?.status).toBe('False');
    for (const child of routingChildren('chat')) {
      const obj = await get(child.type, child.name);
      expect(obj.metadata?.ownerReferences, `${child.type.kind} ${child.name}`).toEqual([expect.objectContaining({ kind: 'LfmDeployment', name: 'chat', uid: l.metadata.uid, controller: true })]);
    }
    const pool = await get(ROUTING_KINDS.inferencePool, 'chat') as KubeObject & { spec: { selector: { matchLabels: Record<string, string> }; targetPorts: { number: number }[]; endpointPickerRef: { name: string; port: { number: number } } } };
    expect(pool.spec.targetPorts).toEqual([{ number: 8000 }]);
    expect(pool.spec.endpointPickerRef).toMatchObject({ name: 'chat-epp', port: { number: 9002 } });
    const route = await get(ROUTING_KINDS.httpRoute, 'chat') as KubeObject & { spec: { rules: { backendRefs: { group: string; kind: string; name: string }[] }[] } };
    expect(route.spec.rules[0]!.backendRefs[0]).toMatchObject({ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'chat' });

    // The pool's selector, as the API server evaluates it, against the pods of the two Deployments.
    const selector = Object.entries(pool.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
    const selected = (await client().list<V1Pod & KubeObject>(RESOURCES.pod, { namespace: ns.name, labelSelector: selector })).items;
    const all = (await client().list<V1Pod & KubeObject>(RESOURCES.pod, { namespace: ns.name })).items;
    const pickers = all.filter((p) => p.metadata?.labels?.[LABEL_ENDPOINT_PICKER] === 'chat');
    const engines = all.filter((p) => p.metadata?.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name.startsWith('chat-') && !o.name.startsWith('chat-epp-')));
    expect(pickers.length).toBeGreaterThan(0);
    expect(engines).toHaveLength(2);
    expect(selected.map((p) => p.metadata!.name).sort()).toEqual(engines.map((p) => p.metadata!.name).sort());

    // A fresh operator reconciles the converged resource: no routing child differs, so nothing is written.
    await operator.stop();
    const identity = await createOperatorIdentity(ns.name);
    const since = devCluster().readAudit().length;
    const again = startOperator({ kubeconfig: identity.kubeconfig, namespace: ns.name });
    await again.waitForLog('became leader');
    await eventually(async () => expect(await again.reconcileCount()).toBeGreaterThanOrEqual(1), { intervalMs: 100 });
    const writes = devCluster().readAudit().slice(since).filter((e) => e.user === identity.user && e.namespace === ns.name && e.resource !== 'leases' && e.resource !== 'events');
    expect(writes.map((e) => `${e.verb} ${e.resource}/${e.name ?? ''}`)).toEqual([]);
  });

  it('RoutingReady follows the pool status.parents a gateway controller writes; Ready does not', async () => {
    await applyLfmd(routed('gw'));
    await waitForCondition('gw', 'Ready', 'True');
    await waitForCondition('gw', 'RoutingReady', 'False', 'NoParent');

    await writePoolParents('gw', { status: 'False', reason: 'NotSupportedByParent', message: 'this gateway cannot route to InferencePools' });
    const refused = await waitForCondition('gw', 'RoutingReady', 'False', 'NotSupportedByParent', 20_000);
    expect(condition(refused, 'RoutingReady')!.message).toContain('this gateway cannot route to InferencePools');
    expect(condition(refused, 'Ready')?.status).toBe('True');

    await writePoolParents('gw', { status: 'True', reason: 'Accepted', message: 'accepted' });
    const accepted = await waitForCondition('gw', 'RoutingReady', 'True', 'Accepted', 20_000);
    expect(condition(accepted, 'RoutingReady')!.message).toContain(`Gateway ${ns.name}/${GATEWAY}`);
    expect(condition(accepted, 'Ready')?.status).toBe('True');
  });

  it('turning routing off removes the pool, the endpoint picker, the objectives and the route, and nothing else', async () => {
    // Bystanders: objects of the same kinds that are not this resource's.
    const foreignPool = { apiVersion: 'inference.networking.k8s.io/v1', kind: 'InferencePool', metadata: { name: 'someone-elses', namespace: ns.name }, spec: { selector: { matchLabels: { app: 'other' } }, targetPorts: [{ number: 8000 }], endpointPickerRef: { name: 'other-epp', port: { number: 9002 } } } };
    const foreignConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns.name }, data: { a: 'b' } };
    await client().create(ROUTING_KINDS.inferencePool, foreignPool);
    await client().create(ENDPOINT_PICKER_KINDS.configMap, foreignConfigMap);
    await applyLfmd(routed('off'));
    const on = await waitForCondition('off', 'RoutingReady', 'False', 'NoParent');
    for (const child of routingChildren('off')) expect(await isGone(child.type, child.name), `${child.type.kind} ${child.name}`).toBe(false);
    const engine = await get(RESOURCES.deployment, 'off');
    const service = await get(RESOURCES.service, 'off');

    await applyLfmd(routed('off').routing(undefined));
    await eventually(async () => {
      for (const child of routingChildren('off')) expect(await isGone(child.type, child.name), `${child.type.kind} ${child.name}`).toBe(true);
    }, { timeoutMs: 30_000 });
    const off = await waitForCondition('off', 'Ready', 'True');
    expect(off.metadata.generation).toBeGreaterThan(on.metadata.generation);
    expect(condition(off, 'RoutingReady')).toBeUndefined();
    expect((await get(RESOURCES.deployment, 'off')).metadata?.uid).toBe(engine.metadata?.uid);
    expect((await get(RESOURCES.service, 'off')).metadata?.uid).toBe(service.metadata?.uid);
    expect(await isGone(ROUTING_KINDS.inferencePool, 'someone-elses')).toBe(false);
    expect(await isGone(ENDPOINT_PICKER_KINDS.configMap, 'settings')).toBe(false);
  });

  it('refuses to adopt an existing NAME-epp object: Stalled=NameConflict, the object untouched, no routing child applied', async () => {
    await client().create(ENDPOINT_PICKER_KINDS.configMap, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'taken-epp', namespace: ns.name }, data: { mine: 'yes' } });
    await applyLfmd(routed('taken'));
    const l = await waitForCondition('taken', 'Stalled', 'True', 'NameConflict');
    expect(condition(l, 'Stalled')!.message).toContain('ConfigMap named taken-epp');
    expect(condition(l, 'RoutingReady')).toMatchObject({ status: 'False', reason: 'NameConflict' });
    const cm = await get(ENDPOINT_PICKER_KINDS.configMap, 'taken-epp');
    expect(cm.metadata?.ownerReferences).toBeUndefined();
    expect(cm['data']).toEqual({ mine: 'yes' });
    expect(await isGone(ROUTING_KINDS.inferencePool, 'taken')).toBe(true);
    expect(await isGone(ENDPOINT_PICKER_KINDS.deployment, 'taken-epp')).toBe(true);
  });
});
