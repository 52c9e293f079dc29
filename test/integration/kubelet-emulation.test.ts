// The dev control plane's kubelet emulation: loopback pod IPs a test can serve HTTP on, a delay before Ready (model
// loading) and graceful termination that waits for the pod's stand-in to drain.
import type { V1Pod } from '@kubernetes/client-node';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { POD_ANNOTATIONS } from '../devcluster/kwok-stages.js';
import { findFreePort } from '../devcluster/processes.js';
import { isLoopbackAddress, lookupStandIn } from '../devcluster/stand-ins.js';
import { coreApi, devCluster, eventually, kubeClient, useNamespace } from '../support/cluster.js';

interface StandInServer {
  url: string;
  drainUrl: string;
  /** Times POST /drain arrived. */
  drainRequests: number[];
  /** Answers the pending drain requests (200): the stand-in has drained. */
  finishDrain(): void;
  close(): void;
}

/** An engine stand-in on host: GET / names the host; POST /drain answers only once finishDrain() is called. */
async function startStandIn(host: string, port = 0): Promise<StandInServer> {
  const pending: ServerResponse[] = [];
  const drainRequests: number[] = [];
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/drain') {
      drainRequests.push(Date.now());
      pending.push(res);
      return;
    }
    res.end(`stand-in on ${host}`);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve); });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url, drainUrl: `${url}/drain`, drainRequests,
    finishDrain: () => { for (const res of pending.splice(0)) res.end('drained'); },
    close: () => { server.closeAllConnections(); server.close(); },
  };
}

const standIns: StandInServer[] = [];
afterEach(() => { for (const s of standIns.splice(0)) s.close(); });

function renderPod(name: string, options: { annotations?: Record<string, string>; gracePeriodSeconds?: number } = {}): V1Pod {
  return {
    metadata: { name, annotations: options.annotations },
    spec: {
      containers: [{ name: 'engine', image: 'engine:test' }],
      ...(options.gracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: options.gracePeriodSeconds } : {}),
    },
  };
}

const readyCondition = (pod: V1Pod) => pod.status?.conditions?.find((c) => c.type === 'Ready');

describe('kubelet emulation', () => {
  const ns = useNamespace('kubelet');

  async function startRunningPod(body: V1Pod): Promise<V1Pod & { status: { podIP: string } }> {
    const core = coreApi();
    await core.createNamespacedPod({ namespace: ns.name, body });
    return eventually(async () => {
      const pod = await core.readNamespacedPod({ name: body.metadata!.name!, namespace: ns.name });
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.podIP).toBeTruthy();
      return pod as V1Pod & { status: { podIP: string } };
    });
  }

  const podExists = async (name: string) => {
    const pods = await coreApi().listNamespacedPod({ namespace: ns.name, fieldSelector: `metadata.name=${name}` });
    return pods.items.length > 0;
  };

  it('gives each pod its own loopback IP that a test can serve HTTP on', async () => {
    const pods = await Promise.all(['a', 'b', 'c'].map((n) => startRunningPod(renderPod(`web-${n}`))));
    const ips = pods.map((p) => p.status.podIP);
    expect(new Set(ips).size).toBe(3);
    for (const ip of ips) expect(isLoopbackAddress(ip), ip).toBe(true);
    for (const ip of ips) {
      const standIn = await startStandIn(ip);
      standIns.push(standIn);
      expect(await (await fetch(standIn.url)).text()).toBe(`stand-in on ${ip}`);
    }
  });

  it(`keeps a pod unready for ${POD_ANNOTATIONS.readyDelaySeconds} (model loading)`, async () => {
    const core = coreApi();
    const loading = await startRunningPod(renderPod('loading', { annotations: { [POD_ANNOTATIONS.readyDelaySeconds]: '3' } }));
    expect(readyCondition(loading)?.status).toBe('False');
    expect(isLoopbackAddress(loading.status.podIP)).toBe(true);

    const ready = await eventually(async () => {
      const pod = await core.readNamespacedPod({ name: 'loading', namespace: ns.name });
      expect(readyCondition(pod)?.status).toBe('True');
      return pod;
    });
    const startedAt = new Date(ready.status!.startTime!).getTime();
    const readyAt = new Date(readyCondition(ready)!.lastTransitionTime!).getTime();
    expect(readyAt - startedAt).toBeGreaterThanOrEqual(3000);
    expect(ready.status?.containerStatuses?.every((c) => c.ready)).toBe(true);
  });

  it('does not postpone Ready when the pod is updated while it loads', async () => {
    // KWOK re-evaluates a pod's stage on every update; the ready time must not restart with it (the autoscaler
    // annotates pods while they load).
    await startRunningPod(renderPod('busy', { annotations: { [POD_ANNOTATIONS.readyDelaySeconds]: '2' } }));
    let updates = 0;
    await eventually(async () => {
      updates += 1;
      await kubeClient().request('PATCH', `/api/v1/namespaces/${ns.name}/pods/busy`, {
        contentType: 'application/merge-patch+json', body: { metadata: { annotations: { 'test.lfm-operator.io/poll': String(updates) } } },
      });
      expect(readyCondition(await coreApi().readNamespacedPod({ name: 'busy', namespace: ns.name }))?.status).toBe('True');
    }, { timeoutMs: 15_000, intervalMs: 250 });
    expect(updates).toBeGreaterThan(3);
  });

  it('removes a deleted pod at once when it has no stand-in', async () => {
    await startRunningPod(renderPod('plain', { gracePeriodSeconds: 600 }));
    await coreApi().deleteNamespacedPod({ name: 'plain', namespace: ns.name });
    await eventually(async () => expect(await podExists('plain')).toBe(false), { timeoutMs: 10_000 });
  });

  it('keeps a deleted pod until its registered stand-in has drained', async () => {
    const pod = await startRunningPod(renderPod('engine', { gracePeriodSeconds: 600 }));
    const standIn = await startStandIn(pod.status.podIP);
    standIns.push(standIn);
    const unregister = devCluster().registerStandIn(pod.status.podIP, standIn.drainUrl);
    try {
      await coreApi().deleteNamespacedPod({ name: 'engine', namespace: ns.name });
      await eventually(() => expect(standIn.drainRequests).toHaveLength(1));
      const terminating = await coreApi().readNamespacedPod({ name: 'engine', namespace: ns.name });
      expect(terminating.metadata?.deletionTimestamp).toBeTruthy();

      const drainedAt = Date.now();
      standIn.finishDrain();
      await eventually(async () => expect(await podExists('engine')).toBe(false), { timeoutMs: 10_000 });
      const removal = await eventually(() => {
        const e = devCluster().readAudit().find((a) => a.verb === 'delete' && a.resource === 'pods' && a.namespace === ns.name && a.name === 'engine' && a.user === 'devcluster:kubelet');
        expect(e).toBeDefined();
        return e!;
      });
      expect(Date.parse(removal.time)).toBeGreaterThanOrEqual(drainedAt - 5);
      // The IP goes to the next pod: the registration went with this one.
      await eventually(() => expect(lookupStandIn(devCluster().stateDir, pod.status.podIP)).toBeUndefined());
    } finally {
      unregister();
    }
  });

  it(`removes a pod whose stand-in (${POD_ANNOTATIONS.drainUrl}) never drains when its grace period ends`, async () => {
    const port = await findFreePort();
    const pod = await startRunningPod(renderPod('stuck', {
      gracePeriodSeconds: 2, annotations: { [POD_ANNOTATIONS.drainUrl]: `http://{podIP}:${port}/drain` },
    }));
    const standIn = await startStandIn(pod.status.podIP, port);
    standIns.push(standIn);

    const deletedAt = Date.now();
    await coreApi().deleteNamespacedPod({ name: 'stuck', namespace: ns.name });
    await eventually(() => expect(standIn.drainRequests).toHaveLength(1));
    expect(await podExists('stuck')).toBe(true);
    await eventually(async () => expect(await podExists('stuck')).toBe(false), { timeoutMs: 15_000 });
    // deletionTimestamp has a resolution of one second, so the grace period may end up to 1 s early.
    expect(Date.now() - deletedAt).toBeGreaterThanOrEqual(1000);
  });
});
