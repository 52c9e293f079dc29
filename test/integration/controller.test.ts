// The controller against the real control plane: the operator process (built CLI) as a least-privilege
// ServiceAccount, children and status observed through the API server, writes counted from the audit log.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { V1Deployment, V1Pod, V1PodDisruptionBudget, V1Service } from '@kubernetes/client-node';
import type { LfmDeployment } from '../../src/api/v1alpha1.js';
import { RESOURCES, isNotFound, type KubeObject } from '../../src/kube/client.js';
import { lfmDeployment, type LfmDeploymentBuilder } from '../support/builders.js';
import { applyCrds, captureApiError, CRD_RESOURCE, devCluster, eventually, kubeClient, loadCrds, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';
import { countWrites, createOperatorIdentity, recordStatus, startOperator, stopAllOperators, type OperatorProcess } from '../support/operator.js';

const ns = useNamespace('ctrl');
const client = () => kubeClient();
const READY_DELAY = 'devcluster.lfm-operator.io/ready-delay-seconds';

type Lfmd = LfmDeployment & KubeObject & { metadata: { generation: number; uid: string } };

async function applyLfmd(b: LfmDeploymentBuilder): Promise<void> {
  await client().apply(RESOURCES.lfmDeployment, b.namespace(ns.name).input() as unknown as KubeObject, TEST_FIELD_MANAGER);
}
const getLfmd = (name: string) => client().get<Lfmd>(RESOURCES.lfmDeployment, ns.name, name);
const getDeployment = (name: string) => client().get<V1Deployment & KubeObject>(RESOURCES.deployment, ns.name, name);
const condition = (l: Lfmd, type: string) => l.status?.conditions?.find((c) => c.type === type);
const listPods = async (name: string) => (await client().list<V1Pod & KubeObject>(RESOURCES.pod, { namespace: ns.name, labelSelector: `serving.lfm-operator.io/deployment=${name}` })).items;

async function waitForCondition(name: string, type: string, status: string, timeoutMs = 60_000): Promise<Lfmd> {
  return eventually(async () => {
    const l = await getLfmd(name);
    const c = condition(l, type);
    expect(l.status?.observedGeneration, `${name} observedGeneration`).toBe(l.metadata.generation);
    expect(c?.status, `${name} ${type}: ${c?.reason} ${c?.message}`).toBe(status);
    return l;
  }, { timeoutMs, intervalMs: 250 });
}

/** A loopback TCP proxy to the API server that a test can take down (every connection reset) and bring back. */
async function startTcpProxy(targetPort: string): Promise<{ port: number; down(): Promise<void>; up(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const up = () => new Promise<void>((resolve) => {
    server = net.createServer((inbound) => {
      const outbound = net.connect(Number(targetPort), '127.0.0.1');
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as net.AddressInfo).port;
      resolve();
    });
  });
  const down = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server?.close(r));
  };
  await up();
  return { get port() { return port; }, down, up };
}

let identity: { kubeconfig: string; user: string };
let operator: OperatorProcess;

beforeEach(async () => {
  await applyCrds();
  identity = await createOperatorIdentity(ns.name);
  operator = startOperator({ kubeconfig: identity.kubeconfig, namespace: ns.name });
  await operator.waitForLog('became leader');
});
afterEach(async () => {
  await stopAllOperators();
});

describe('reconcile', () => {
  it('creates the Deployment, Service and PodDisruptionBudget, schedules pods on the right GPUs, and reports Ready', async () => {
    await applyLfmd(lfmDeployment('chat').quantization('FP8').replicas(2));
    const ready = await waitForCondition('chat', 'Ready', 'True');
    recordStatus('ready', ready);
    expect(ready.status?.readyReplicas).toBe(2);
    expect(ready.status?.plan?.fits).toBe(true);
    expect(ready.status?.selector).toBe('serving.lfm-operator.io/deployment=chat');
    expect(ready.status?.endpoint).toBe(`http://chat.${ns.name}.svc:8000/v1`);
    expect(condition(ready, 'Reconciling')?.status).toBe('False');
    expect(condition(ready, 'Stalled')?.status).toBe('False');

    const d = await getDeployment('chat');
    expect(d.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'LfmDeployment', name: 'chat', uid: ready.metadata.uid, controller: true });
    expect(d.spec?.template.spec?.containers[0]?.args).toContain('--quantization');
    await client().get<V1Service & KubeObject>(RESOURCES.service, ns.name, 'chat');
    const pdb = await client().get<V1PodDisruptionBudget & KubeObject>(RESOURCES.podDisruptionBudget, ns.name, 'chat');
    expect(pdb.spec?.maxUnavailable).toBe(1);

    const pods = await listPods('chat');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toMatch(/h100/);
      expect(pod.spec?.containers[0]?.resources?.requests?.['nvidia.com/gpu']).toBe('1');
      expect(pod.status?.podIP).toMatch(/^127\./);
    }

    const kubectl = join(devCluster().binDir, 'kubectl');
    const out = execFileSync(kubectl, ['--kubeconfig', devCluster().kubeconfigPath, '-n', ns.name, 'wait', '--for=condition=Ready', 'lfmd/chat', '--timeout=30s'], { encoding: 'utf8' });
    expect(out).toContain('condition met');
  });

  it('reports a stored resource its schema refuses (a CRD older than the operator) as Stalled, reason Invalid, with the field', async () => {
    // Install a looser CRD, as an older release would have: no upper bound on spec.autoscaling.maxReplicas.
    const crd = structuredClone(loadCrds().find((c) => c.metadata?.name === 'lfmdeployments.serving.lfm-operator.io')!) as KubeObject & { spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: { autoscaling: { properties: { maxReplicas: { maximum?: number } } } } } } } } }[] } };
    for (const v of crd.spec.versions) delete v.schema.openAPIV3Schema.properties.spec.properties.autoscaling.properties.maxReplicas.maximum;
    await client().apply(CRD_RESOURCE, crd, TEST_FIELD_MANAGER);
    try {
      await eventually(() => applyLfmd(lfmDeployment('loose').gpu('h100-sxm-80gb').autoscaling({ enabled: true, minReplicas: 1, maxReplicas: 5000 })), { timeoutMs: 20_000 });
      const l = await waitForCondition('loose', 'Stalled', 'True');
      const stalled = condition(l, 'Stalled')!;
      expect(stalled.reason).toBe('Invalid');
      expect(stalled.message).toMatch(/spec\.autoscaling\.maxReplicas/);
      expect(condition(l, 'Ready')?.status).toBe('False');
      expect(await captureApiError(getDeployment('loose'))).toMatchObject({ status: 404 });
      const events = await eventually(async () => {
        const list = (await client().list<KubeObject & { reason?: string; type?: string; involvedObject?: { name?: string } }>(RESOURCES.event, { namespace: ns.name })).items
          .filter((e) => e.involvedObject?.name === 'loose' && e.reason === 'Invalid');
        expect(list.length).toBeGreaterThan(0);
        return list;
      }, { timeoutMs: 20_000 });
      expect(events[0]?.type).toBe('Warning');
    } finally {
      await client().delete(RESOURCES.lfmDeployment, ns.name, 'loose').catch(() => undefined);
      await applyCrds();
    }
  });

  it('refuses a deployment that does not fit: no pods, Stalled with the arithmetic', async () => {
    await applyLfmd(lfmDeployment('too-big').gpu('l4-24gb').tensor(1).replicas(1));
    const l = await waitForCondition('too-big', 'Stalled', 'True');
    recordStatus('stalled-does-not-fit', l);
    const stalled = condition(l, 'Stalled')!;
    expect(stalled.reason).toBe('DoesNotFit');
    expect(stalled.message).toMatch(/19\.79 GiB to use .* BF16 weights take 44\.\d+ GiB/);
    expect(l.status?.plan?.fits).toBe(false);
    expect(condition(l, 'Ready')?.status).toBe('False');
    expect(await captureApiError(getDeployment('too-big'))).toMatchObject({ status: 404 });
    expect(await listPods('too-big')).toHaveLength(0);
  });

  it('rolls out a spec change through Reconciling back to Ready', async () => {
    await applyLfmd(lfmDeployment('roll').quantization('FP8').replicas(1).podAnnotations({ [READY_DELAY]: '3' }));
    const first = await waitForCondition('roll', 'Ready', 'True');
    await applyLfmd(lfmDeployment('roll').quantization('FP8').kvCacheDtype('FP8').replicas(1).podAnnotations({ [READY_DELAY]: '3' }));
    const progressing = await eventually(async () => {
      const l = await getLfmd('roll');
      expect(l.metadata.generation).toBeGreaterThan(first.metadata.generation);
      expect(l.status?.observedGeneration).toBe(l.metadata.generation);
      expect(condition(l, 'Reconciling')?.status).toBe('True');
      return l;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    recordStatus('progressing-rollout', progressing);
    const done = await waitForCondition('roll', 'Ready', 'True');
    expect(condition(done, 'Reconciling')?.status).toBe('False');
    const d = await getDeployment('roll');
    expect(d.spec?.template.spec?.containers[0]?.args?.join(' ')).toContain('--kv-cache-dtype fp8');
  });

  it('leaves observedGeneration behind while the operator is down, and catches up when it returns', async () => {
    await applyLfmd(lfmDeployment('later').quantization('FP8').replicas(1));
    await waitForCondition('later', 'Ready', 'True');
    await operator.stop();
    await applyLfmd(lfmDeployment('later').quantization('FP8').replicas(1).maxModelLen(16384));
    const stale = await getLfmd('later');
    expect(stale.status?.observedGeneration).toBeLessThan(stale.metadata.generation);
    recordStatus('not-observed', stale);
    const back = startOperator({ kubeconfig: identity.kubeconfig, namespace: ns.name });
    await back.waitForLog('became leader', 30_000);
    await waitForCondition('later', 'Ready', 'True');
  });

  it('restores an edited or deleted child, and never adopts an object it does not own', async () => {
    await applyLfmd(lfmDeployment('guard').quantization('FP8').replicas(1));
    await waitForCondition('guard', 'Ready', 'True');
    // Someone else takes over the container args.
    await client().apply(RESOURCES.deployment, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'guard', namespace: ns.name }, spec: { template: { spec: { enableServiceLinks: true } } } }, 'intruder', { force: true });
    await eventually(async () => expect((await getDeployment('guard')).spec?.template.spec?.enableServiceLinks).toBe(false));
    await client().delete(RESOURCES.service, ns.name, 'guard');
    await eventually(async () => expect((await client().get<V1Service & KubeObject>(RESOURCES.service, ns.name, 'guard')).metadata?.ownerReferences?.[0]?.name).toBe('guard'));

    await client().create(RESOURCES.service, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'taken', namespace: ns.name }, spec: { ports: [{ port: 80 }] } });
    await applyLfmd(lfmDeployment('taken').quantization('FP8').replicas(1));
    const l = await waitForCondition('taken', 'Stalled', 'True');
    recordStatus('stalled-name-conflict', l);
    expect(condition(l, 'Stalled')?.reason).toBe('NameConflict');
    const svc = await client().get<V1Service & KubeObject>(RESOURCES.service, ns.name, 'taken');
    expect(svc.metadata?.ownerReferences).toBeUndefined();
  });

  it('completes a rollout on a full GPU pool without a surge pod', async () => {
    // Two L4 nodes with one GPU each: two replicas fill the pool.
    await applyLfmd(lfmDeployment('full').model('hf://LiquidAI/LFM2-8B-A1B').gpu('l4-24gb').quantization('FP8').replicas(2));
    await waitForCondition('full', 'Ready', 'True');
    await applyLfmd(lfmDeployment('full').model('hf://LiquidAI/LFM2-8B-A1B').gpu('l4-24gb').quantization('FP8').maxModelLen(16384).replicas(2));
    const done = await waitForCondition('full', 'Ready', 'True', 90_000);
    const d = await getDeployment('full');
    expect(d.status?.updatedReplicas).toBe(2);
    expect(d.spec?.strategy?.rollingUpdate?.maxSurge).toBe(0);
    expect(done.status?.readyReplicas).toBe(2);
  });

  it('reports a rollout that makes no progress within its deadline as Stalled', async () => {
    // A pod that never finishes loading: the Deployment controller gives up after progressDeadlineSeconds.
    await applyLfmd(lfmDeployment('stuck').quantization('FP8').replicas(1).rollout({ progressDeadlineSeconds: 60 })
      .podAnnotations({ [READY_DELAY]: '3600' }));
    const l = await waitForCondition('stuck', 'Stalled', 'True', 120_000);
    const stalled = condition(l, 'Stalled')!;
    expect(stalled.reason).toBe('RolloutStalled');
    expect(stalled.message).toContain('progressDeadlineSeconds (60 s)');
    expect(condition(l, 'Ready')?.status).toBe('False');
  }, 150_000);

  it('lets the garbage collector remove the children of a deleted resource', async () => {
    await applyLfmd(lfmDeployment('gone').quantization('FP8').replicas(1));
    await waitForCondition('gone', 'Ready', 'True');
    await client().delete(RESOURCES.lfmDeployment, ns.name, 'gone');
    await eventually(async () => {
      expect(await captureApiError(getDeployment('gone'))).toMatchObject({ status: 404 });
      expect(await captureApiError(client().get(RESOURCES.service, ns.name, 'gone'))).toMatchObject({ status: 404 });
    }, { timeoutMs: 60_000 });
  });

  it('with autoscaling on, hands the Deployment replicas to lfm-autoscaler; Ready holds at minReplicas', async () => {
    await applyLfmd(lfmDeployment('auto').quantization('FP8').autoscaling({ enabled: true, minReplicas: 1, maxReplicas: 3, scrapeIntervalSeconds: 1 }));
    const l = await waitForCondition('auto', 'Ready', 'True');
    const d = await getDeployment('auto');
    const owners = (d.metadata?.managedFields ?? []).filter((f) => !f.subresource && JSON.stringify(f.fieldsV1 ?? {}).includes('"f:replicas"')).map((f) => f.manager);
    expect(owners).toEqual(['lfm-autoscaler']);
    expect(l.status?.replicas).toBeGreaterThanOrEqual(1);
  });
});

describe('no drift, no idle writes', () => {
  it('a forced resync of converged resources writes nothing (audit log, by the operator identity)', async () => {
    for (const name of ['idle-a', 'idle-b', 'idle-c']) await applyLfmd(lfmDeployment(name).quantization('FP8').replicas(1));
    await applyLfmd(lfmDeployment('idle-nofit').gpu('l4-24gb').tensor(1));
    for (const name of ['idle-a', 'idle-b', 'idle-c']) await waitForCondition(name, 'Ready', 'True');
    await waitForCondition('idle-nofit', 'Stalled', 'True');
    await operator.stop();
    const before = devCluster().readAudit().length;
    expect(countWrites(identity.user, 0, ns.name)).toBeGreaterThan(0);
    // A new process lists everything and reconciles every resource: the strongest resync there is.
    const again = startOperator({ kubeconfig: identity.kubeconfig, namespace: ns.name });
    await again.waitForLog('became leader');
    // Every key has been through a worker once the operator's own counter says so.
    await eventually(async () => expect(await again.reconcileCount()).toBeGreaterThanOrEqual(4), { intervalMs: 100 });
    expect(countWrites(identity.user, before, ns.name)).toBe(0);
  });
});

describe('faults', () => {
  it('converges after a SIGKILL mid-reconcile, with no duplicate or orphaned children', async () => {
    for (let i = 0; i < 4; i++) await applyLfmd(lfmDeployment(`crash-${i}`).quantization('FP8').replicas(1));
    await eventually(() => expect(operator.logs.some((l) => l.includes('applied'))).toBe(true), { intervalMs: 20 });
    await operator.kill();
    const restarted = startOperator({ kubeconfig: identity.kubeconfig, namespace: ns.name });
    await restarted.waitForLog('became leader', 40_000);
    for (let i = 0; i < 4; i++) await waitForCondition(`crash-${i}`, 'Ready', 'True');
    const deployments = (await client().list<V1Deployment & KubeObject>(RESOURCES.deployment, { namespace: ns.name })).items;
    expect(deployments.map((d) => d.metadata?.name).sort()).toEqual(['crash-0', 'crash-1', 'crash-2', 'crash-3']);
    const services = (await client().list<V1Service & KubeObject>(RESOURCES.service, { namespace: ns.name })).items;
    expect(services).toHaveLength(4);
  });

  it('two replicas with their own ServiceAccounts: only the leader writes; the other takes over when it dies', async () => {
    await operator.stop();
    const a = startOperator({ kubeconfig: identity.kubeconfig, namespace: ns.name, identity: 'replica-a' });
    await a.waitForLog('became leader');
    const other = await createOperatorIdentity(ns.name, 'lfm-operator-b');
    const b = startOperator({ kubeconfig: other.kubeconfig, namespace: ns.name, identity: 'replica-b' });
    await b.waitForLog('caches synced');
    const start = devCluster().readAudit().length;
    await applyLfmd(lfmDeployment('ha').quantization('FP8').replicas(1));
    await waitForCondition('ha', 'Ready', 'True');
    expect(countWrites(identity.user, start, ns.name)).toBeGreaterThan(0);
    expect(countWrites(other.user, start, ns.name)).toBe(0);
    await a.kill();
    const killedAt = Date.now();
    await b.waitForLog('became leader', 30_000);
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    await applyLfmd(lfmDeployment('ha').quantization('FP8').kvCacheDtype('FP8').replicas(1));
    await eventually(async () => expect((await getDeployment('ha')).spec?.template.spec?.containers[0]?.args?.join(' ')).toContain('--kv-cache-dtype fp8'), { timeoutMs: 30_000 });
    expect(countWrites(other.user, start, ns.name)).toBeGreaterThan(0);
  });

  it('recovers when its connection to the API server drops and returns (informers restart, later changes reconcile)', async () => {
    await operator.stop();
    const proxy = await startTcpProxy(new URL(devCluster().server).port);
    const viaProxy = join(mkdtempSync(join(tmpdir(), 'lfm-proxy-')), 'kubeconfig');
    writeFileSync(viaProxy, readFileSync(identity.kubeconfig, 'utf8').replace(devCluster().server, `https://127.0.0.1:${proxy.port}`));
    const op = startOperator({ kubeconfig: viaProxy, namespace: ns.name });
    await op.waitForLog('became leader');
    await applyLfmd(lfmDeployment('flaky').quantization('FP8').replicas(1));
    await waitForCondition('flaky', 'Ready', 'True');
    await proxy.down();
    await applyLfmd(lfmDeployment('flaky').quantization('FP8').kvCacheDtype('FP8').replicas(1));
    await op.waitForLog('list-watch failed; restarting with backoff');
    await proxy.up();
    await eventually(async () => expect((await getDeployment('flaky')).spec?.template.spec?.containers[0]?.args?.join(' ')).toContain('--kv-cache-dtype fp8'), { timeoutMs: 60_000 });
    await waitForCondition('flaky', 'Ready', 'True');
    await proxy.down();
  });

  it('the operator identity is refused what its RBAC does not grant', async () => {
    const kc = new (await import('@kubernetes/client-node')).KubeConfig();
    kc.loadFromFile(identity.kubeconfig);
    const { KubeClient } = await import('../../src/kube/client.js');
    const asOperator = new KubeClient(kc);
    const secrets = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
    expect(await captureApiError(asOperator.list(secrets, { namespace: ns.name }))).toMatchObject({ status: 403 });
    expect(await captureApiError(asOperator.delete(RESOURCES.lfmDeployment, ns.name, 'anything'))).toMatchObject({ status: 403 });
    const ok = await captureApiError(asOperator.list(RESOURCES.deployment, { namespace: ns.name }));
    expect(ok).toBeUndefined();
    expect(isNotFound(await asOperator.get(RESOURCES.deployment, ns.name, 'nope').catch((e: unknown) => e))).toBe(true);
  });
});
