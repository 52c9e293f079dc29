// Pure. Turns Kubernetes pods and the child Deployment into what decide() sees: pod phases (Ready, Starting,
// Pending with the scheduler's reason, Terminating) and replicas a quota refused. Performs no I/O.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { PodView } from './decide.js';

const time = (t: unknown): number | undefined => {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
};

export function buildPodView(pod: V1Pod): PodView {
  const name = pod.metadata?.name ?? '';
  const createdAt = time(pod.metadata?.creationTimestamp) ?? 0;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (pod.metadata?.deletionTimestamp) return { name, phase: 'Terminating', createdAt };
  if (ready?.status === 'True') {
    const readyAt = time(ready.lastTransitionTime);
    return { name, phase: 'Ready', createdAt, ...(readyAt !== undefined ? { readyAt } : {}) };
  }
  if (pod.spec?.nodeName) return { name, phase: 'Starting', createdAt };
  const pendingReason = computePendingReason(pod);
  return { name, phase: 'Pending', createdAt, ...(pendingReason ? { pendingReason } : {}) };
}

/** Why the scheduler left a pod unscheduled (PodScheduled=False, reason Unschedulable); undefined while it is not. */
function computePendingReason(pod: V1Pod): PodView['pendingReason'] {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  return (scheduled.message ?? '').includes('nvidia.com/gpu') ? 'InsufficientGPU' : 'Unschedulable';
}

/** Replicas the ReplicaSet could not create: a ReplicaFailure condition (quota refusals) means desired - existing. */
export function computeRefusedReplicas(deployment: V1Deployment | undefined, podCount: number): number {
  const failure = deployment?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (!failure) return 0;
  return Math.max(0, (deployment?.spec?.replicas ?? 0) - podCount);
}
