// I/O. One engine stand-in per pod of an LfmDeployment, on the pod's loopback IP and the engine's port: started when
// the pod has an IP, registered with the harness's kubelet emulation for graceful termination, closed when the pod is
// gone; a load generator offers requests to the Ready ones. The fleet of test/integration/autoscaling.test.ts, with
// the engine's format and port as options.
import type { V1Pod } from '@kubernetes/client-node';
import { RESOURCES, type KubeObject } from '../../src/kube/client.js';
import { devCluster, kubeClient } from './cluster.js';
import { EngineStandIn, LoadGenerator, type StandInEngine } from './engine-stand-in.js';

export interface StandInFleetOptions {
  /** The LfmDeployment's name (its pods carry serving.lfm-operator.io/deployment=<name>). */
  name: string;
  namespace: string;
  /** Whose /metrics text the stand-ins serve. Default 'vllm'. */
  engine?: StandInEngine;
  /** The port the operator scrapes (the engine's). Default 8000. */
  port?: number;
  /** Requests one replica runs at once. Default 4. */
  slots?: number;
  /** Seconds a request takes. Default 1. */
  serviceSeconds?: number;
}

export class StandInFleet {
  readonly standIns = new Map<string, EngineStandIn>();
  /** Pod uids whose pod is Ready and not being deleted. */
  readonly ready = new Set<string>();
  readonly generator: LoadGenerator;
  private timer?: NodeJS.Timeout;
  private unregister = new Map<string, () => void>();
  private busy = false;
  private extraWaiting = 0;

  constructor(private readonly o: StandInFleetOptions) {
    // New requests go to Ready pods only; a pod that stopped being Ready (deleted, draining) still finishes its own.
    this.generator = new LoadGenerator(() => [...this.standIns.values()], (s) => [...this.standIns.entries()].some(([uid, x]) => x === s && this.ready.has(uid)));
  }

  /** A standing backlog: every stand-in, now and later, reports `perPod` more waiting requests (0 clears it). */
  setExtraWaiting(perPod: number): void {
    this.extraWaiting = perPod;
    for (const s of this.standIns.values()) s.extraWaiting = perPod;
  }

  /** The stand-ins still open. */
  open(): EngineStandIn[] {
    return [...this.standIns.values()].filter((s) => !s.closed);
  }

  start(): void {
    this.generator.start();
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.sync().catch(() => undefined).finally(() => { this.busy = false; });
    }, 200);
  }

  private async sync(): Promise<void> {
    const pods = (await kubeClient().list<V1Pod & KubeObject>(RESOURCES.pod, { namespace: this.o.namespace, labelSelector: `serving.lfm-operator.io/deployment=${this.o.name}` })).items;
    const seen = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata!.uid!;
      seen.add(uid);
      const ip = pod.status?.podIP;
      if (ip && !this.standIns.has(uid) && !pod.metadata?.deletionTimestamp) {
        const s = new EngineStandIn(pod.metadata!.name!, ip, this.o.port ?? 8000, {
          slots: this.o.slots ?? 4, serviceSeconds: this.o.serviceSeconds ?? 1, promptTokens: 1000, outputTokens: 200,
          servedName: this.o.name, engine: this.o.engine ?? 'vllm',
        });
        s.extraWaiting = this.extraWaiting;
        this.standIns.set(uid, s);
        await s.start();
        this.unregister.set(uid, devCluster().registerStandIn(ip, `${s.address}/drain`));
      }
      const isReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !pod.metadata?.deletionTimestamp;
      if (isReady) this.ready.add(uid);
      else this.ready.delete(uid);
    }
    for (const [uid, s] of this.standIns) {
      if (seen.has(uid) || s.closed) continue;
      this.ready.delete(uid);
      this.generator.cut += await s.close();
      this.unregister.get(uid)?.();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.generator.stop();
    for (const s of this.standIns.values()) if (!s.closed) await s.close();
  }
}
