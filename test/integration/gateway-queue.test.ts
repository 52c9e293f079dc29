// Autoscaling sees the gateway's queue (issue 12 item 5): with spec.routing.inferencePool.enabled the autoscaler
// also scrapes the endpoint picker's pods (label serving.lfm-operator.io/endpoint-picker, port 9090) and counts the
// pool's flow-control queue as waiting requests. An EPP stand-in, on a pod labelled as an EPP, serves
// llm_d_epp_flow_control_queue_size as llm-d-router v0.10.0 does, while the engines' own queues stay empty: the count
// rises on the gateway's queue alone, holds while the EPP does not answer, and falls once the queue is gone.
// Skipped while the CRD in crds/ lacks spec.routing.inferencePool.enabled (the API server would prune the field).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { LfmDeployment } from '../../src/api/v1alpha1.js';
import { RESOURCES, type KubeObject } from '../../src/kube/client.js';
import { lfmDeployment } from '../support/builders.js';
import { applyCrds, eventually, kubeClient, loadCrds, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';
import { createOperatorIdentity, startOperator, stopAllOperators } from '../support/operator.js';
import { StandInFleet } from '../support/stand-in-fleet.js';

const EPP_LABEL = 'serving.lfm-operator.io/endpoint-picker';

/** Whether the LfmDeployment CRD of crds/ knows spec.routing.inferencePool.enabled. */
function crdHasInferencePool(): boolean {
  const crd = loadCrds().find((c) => (c as { spec?: { names?: { kind?: string } } }).spec?.names?.kind === 'LfmDeployment') as
    { spec?: { versions?: { schema?: { openAPIV3Schema?: unknown } }[] } } | undefined;
  type Props = { properties?: Record<string, Props> };
  const schema = crd?.spec?.versions?.[0]?.schema?.openAPIV3Schema as Props | undefined;
  return schema?.properties?.['spec']?.properties?.['routing']?.properties?.['inferencePool']?.properties?.['enabled'] !== undefined;
}

/** The EPP's /metrics: the flow-control queue gauge (and its deprecated twin) for the pool, or a 503 while `failing`. */
class EppStandIn {
  queue = 0;
  failing = false;
  scrapes = 0;
  private readonly server = http.createServer((req, res) => {
    this.scrapes++;
    if (req.url !== '/metrics' || this.failing) {
      res.writeHead(this.failing ? 503 : 404).end();
      return;
    }
    const series = (name: string) => `# HELP ${name} [ALPHA] Current number of requests actively held in the Flow Control queue.\n# TYPE ${name} gauge\n` +
      `${name}{fairness_id="default-flow",inference_pool="${this.pool}",model_name="${this.pool}",priority="0",target_model_name="${this.pool}"} ${this.queue}\n`;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' })
      .end(series('inference_extension_flow_control_queue_size') + series('llm_d_epp_flow_control_queue_size'));
  });

  constructor(private readonly pool: string) {}

  async start(ip: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(9090, ip, resolve);
    });
    const a = this.server.address() as AddressInfo;
    return `${a.address}:${a.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const ns = useNamespace('gwq');
const client = () => kubeClient();
type Lfmd = LfmDeployment & KubeObject;
const fleets: StandInFleet[] = [];
const epps: EppStandIn[] = [];
let kubeconfig: string;

beforeEach(async () => {
  await applyCrds();
  ({ kubeconfig } = await createOperatorIdentity(ns.name));
});
afterEach(async () => {
  await stopAllOperators();
  for (const f of fleets.splice(0)) await f.stop();
  for (const e of epps.splice(0)) await e.close();
});

const replicasOf = async (name: string) => (await client().get<V1Deployment & KubeObject>(RESOURCES.deployment, ns.name, name)).spec?.replicas;

describe.skipIf(!crdHasInferencePool())('autoscaling on the gateway\'s queue', () => {
  it('scales on the EPP\'s flow-control queue while the engines\' queues are empty, holds while the EPP is silent', async () => {
    const name = 'gw';
    const op = startOperator({ kubeconfig, namespace: ns.name });
    await op.waitForLog('became leader');
    const fleet = new StandInFleet({ name, namespace: ns.name });
    fleets.push(fleet);
    fleet.start();
    const doc = lfmDeployment(name).namespace(ns.name).quantization('FP8').serving({ drainSeconds: 5 }).autoscaling({
      enabled: true, minReplicas: 1, maxReplicas: 3, queueDepthPerReplica: 2, scrapeIntervalSeconds: 1,
      stabilizationWindowSeconds: 4, scaleDownDelaySeconds: 4,
    }).podAnnotations({ 'devcluster.lfm-operator.io/ready-delay-seconds': '2' }).routing({ inferencePool: { enabled: true } }).input();
    await client().apply(RESOURCES.lfmDeployment, doc as unknown as KubeObject, TEST_FIELD_MANAGER);
    await eventually(() => expect(fleet.ready.size).toBe(1), { timeoutMs: 30_000 });

    // An EPP pod of this deployment (its label only, never the deployment's), with the stand-in on its IP.
    await client().apply(RESOURCES.pod, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-epp-stand-in`, namespace: ns.name, labels: { [EPP_LABEL]: name } },
      spec: { containers: [{ name: 'epp', image: 'ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0' }] },
    } as KubeObject, TEST_FIELD_MANAGER);
    const ip = await eventually(async () => {
      const pod = await client().get<V1Pod & KubeObject>(RESOURCES.pod, ns.name, `${name}-epp-stand-in`);
      expect(pod.status?.podIP).toBeTruthy();
      return pod.status!.podIP!;
    }, { timeoutMs: 20_000 });
    const epp = new EppStandIn(name);
    epps.push(epp);
    await epp.start(ip);

    // 10 requests wait at the gateway, none in the engines: 3 replicas (more than 2 waiting per replica).
    epp.queue = 10;
    await eventually(async () => expect(await replicasOf(name)).toBe(3), { timeoutMs: 30_000 });
    expect(fleet.open().every((s) => s.extraWaiting === 0)).toBe(true);
    await eventually(async () => {
      const a = (await client().get<Lfmd>(RESOURCES.lfmDeployment, ns.name, name)).status?.autoscaling;
      expect(a?.queueDepth).toBe(10);
    }, { timeoutMs: 15_000 });

    // The EPP stops answering: its last value still counts, so the queue still stands and nothing is removed (a
    // failure read as an empty queue would scale down after the 4 s hold).
    epp.failing = true;
    const failedAt = Date.now();
    const scrapesBefore = epp.scrapes;
    await eventually(async () => {
      expect(await replicasOf(name), 'replicas while the EPP is silent').toBe(3);
      expect(Date.now() - failedAt).toBeGreaterThanOrEqual(12_000);
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect(epp.scrapes - scrapesBefore).toBeGreaterThan(5);

    // The queue drains: the count falls back after the hold.
    epp.failing = false;
    epp.queue = 0;
    await eventually(async () => expect(await replicasOf(name)).toBe(1), { timeoutMs: 40_000 });
  });
});
