// I/O. The part of a kubelet that KWOK does not emulate: graceful termination. When a pod on a fake node is deleted,
// POST to its stand-in's drain URL (loopback only) and remove the pod once that answers 2xx, at once when nothing
// listens or there is nothing to drain, and at the end of the pod's grace period at the latest.
import { ApiException, CoreV1Api, type KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { appendFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { POD_ANNOTATIONS } from './kwok-stages.js';
import { lookupStandIn, parseDrainUrl, unregisterStandIn } from './stand-ins.js';

export interface KubeletEmulationOptions {
  /** The state directory holding the stand-in registry (stand-ins.ts). */
  stateDir: string;
  /** JSON lines, one per terminated pod. */
  logFile: string;
}

export interface KubeletEmulation { stop(): Promise<void> }

type DrainOutcome = 'drained' | 'nothing to drain' | 'nothing listening' | 'grace period over' | `not drained: ${string}`;

interface DrainTarget { url: string; registered: boolean }

/** The pod's drain URL: its annotation (with {podIP} filled in), else a registered stand-in for its IP. */
export function resolveDrainTarget(pod: V1Pod, stateDir: string): DrainTarget | undefined {
  const podIP = pod.status?.podIP;
  const annotated = pod.metadata?.annotations?.[POD_ANNOTATIONS.drainUrl];
  if (annotated) {
    if (!podIP && annotated.includes('{podIP}')) return undefined;
    return { url: podIP ? annotated.replaceAll('{podIP}', podIP) : annotated, registered: false };
  }
  const standIn = podIP ? lookupStandIn(stateDir, podIP) : undefined;
  return standIn ? { url: standIn.drainUrl, registered: true } : undefined;
}

async function postDrain(url: string, deadline: number): Promise<DrainOutcome> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return 'grace period over';
  try {
    const res = await fetch(parseDrainUrl(url), { method: 'POST', signal: AbortSignal.timeout(remaining) });
    await res.arrayBuffer();
    return res.ok ? 'drained' : `not drained: HTTP ${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return 'grace period over';
    if (e.cause?.code === 'ECONNREFUSED') return 'nothing listening';
    return `not drained: ${e.message}`;
  }
}

export async function startKubeletEmulation(kc: KubeConfig, options: KubeletEmulationOptions): Promise<KubeletEmulation> {
  const core = kc.makeApiClient(CoreV1Api);
  const terminating = new Set<string>();
  let stopped = false;
  const log = (entry: Record<string, unknown>) => {
    try { appendFileSync(options.logFile, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`); } catch { /* state dir removed */ }
  };

  const removePod = async (pod: V1Pod) => {
    const { name = '', namespace = '', uid } = pod.metadata ?? {};
    try {
      // With a body the API server ignores the query parameters: the grace period goes into the body too.
      await core.deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
    } catch (err) {
      // Gone already (KWOK's fallback at the grace period's end) or replaced by a new pod of the same name.
      if (!(err instanceof ApiException && (err.code === 404 || err.code === 409))) throw err;
    }
  };

  const terminate = async (pod: V1Pod) => {
    const started = Date.now();
    // A Date when the object came through the typed client (list), a string when it came from a watch event.
    const deadline = new Date(pod.metadata?.deletionTimestamp ?? started).getTime() || started;
    let outcome: DrainOutcome = 'nothing to drain';
    let target: DrainTarget | undefined;
    try {
      target = resolveDrainTarget(pod, options.stateDir);
      if (target) outcome = await postDrain(target.url, deadline);
    } catch (err) {
      outcome = `not drained: ${(err as Error).message}`;
    }
    // A stand-in that answered but did not drain is a process ignoring SIGTERM: it goes when the grace period ends.
    if (outcome.startsWith('not drained')) await delay(Math.max(0, deadline - Date.now()));
    if (stopped) return;
    await removePod(pod);
    // KWOK hands a freed pod IP to the next pod at once: a registration serves the one pod that had the IP.
    if (target?.registered && pod.status?.podIP) unregisterStandIn(options.stateDir, pod.status.podIP);
    log({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, podIP: pod.status?.podIP, drainUrl: target?.url, outcome, ms: Date.now() - started });
  };

  const onPod = (pod: V1Pod) => {
    const uid = pod.metadata?.uid;
    if (!uid || !pod.metadata?.deletionTimestamp || !pod.spec?.nodeName || terminating.has(uid)) return;
    terminating.add(uid);
    terminate(pod).catch((err: unknown) => {
      terminating.delete(uid);
      log({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, error: String(err) });
    });
  };

  const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
  informer.on('add', onPod);
  informer.on('update', onPod);
  informer.on('delete', (pod) => { if (pod.metadata?.uid) terminating.delete(pod.metadata.uid); });
  // The client's informer stops on errors other than 410 Gone: restart it after a pause.
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    log({ informerError: String(err) });
    setTimeout(() => { if (!stopped) informer.start().catch(() => undefined); }, 1000).unref();
  });
  await informer.start();
  return {
    async stop() {
      stopped = true;
      await informer.stop();
    },
  };
}
