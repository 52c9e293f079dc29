// Pure. Computes an LfmDeployment's status (the fields lfm-operator owns) and its kstatus conditions from the
// observed world; performs no I/O. Ready never depends on the autoscaler's current count, so scaling never flips it.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { FieldProblem } from '../api/parse.js';
import type { Condition, LfmDeployment, LfmDeploymentStatus } from '../api/v1alpha1.js';
import { buildPlanStatus, type PlanReport } from '../render/plan-report.js';
import { computeEndpoint, LABEL_DEPLOYMENT } from '../render/children.js';

export interface ObservedState {
  lfmd: LfmDeployment;
  report: PlanReport;
  deployment?: V1Deployment;
  pods: V1Pod[];
  /** A child name held by an object the operator does not own. */
  nameConflict?: { kind: string; name: string };
  /** The last apply failed with this message (for example a forbidden or invalid child). */
  applyError?: string;
}

/** What the reconciler observes of a resource that does not parse: no spec to plan, only its name and children. */
export interface InvalidObservedState {
  name: string;
  generation: number;
  /** Every problem zod found, each with its field path and fix (src/api/parse.ts). */
  problems: readonly FieldProblem[];
  /** The status as last written, when it still parses. */
  previous?: LfmDeploymentStatus;
  deployment?: V1Deployment;
}

export type ConditionType = 'Ready' | 'Reconciling' | 'Stalled' | 'Scheduled';

export interface ConditionValue { status: 'True' | 'False' | 'Unknown'; reason: string; message: string }

/** Replicas that must be ready for Ready=True: all of spec.replicas, or max(1, minReplicas) when autoscaled. */
export function computeRequiredReady(lfmd: LfmDeployment): number {
  return lfmd.spec.autoscaling.enabled ? Math.max(1, lfmd.spec.autoscaling.minReplicas) : (lfmd.spec.replicas ?? 1);
}

export interface Unschedulable {
  /** Pending pods the scheduler refused (PodScheduled=False, reason Unschedulable). */
  count: number;
  /** A scheduler message names nvidia.com/gpu. */
  gpuShort: boolean;
  /** The first such pod's scheduler message. */
  message: string;
}

/** Pods that cannot be scheduled for lack of GPUs, with the scheduler's message. */
export function computeUnschedulable(pods: readonly V1Pod[]): Unschedulable {
  const waiting = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Pending'
    && p.status.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable'));
  const messages = waiting.map((p) => p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message ?? '');
  return { count: waiting.length, gpuShort: messages.some((m) => m.includes('nvidia.com/gpu')), message: messages[0] ?? '' };
}

/**
 * Ready pods of the Deployment's current revision, as the Deployment controller last counted them. Until it has seen
 * a new spec, its counts are those of the previous one: a change of spec.replicas alone (every scale by the
 * autoscaler bumps the generation) leaves them true, and a new template resets updatedReplicas once observed. So
 * Ready does not flip at each scale; Reconciling (Applying) says that a spec is not yet observed.
 */
export function computeReadyCurrent(deployment: V1Deployment | undefined): number {
  if (!deployment?.status) return 0;
  const updated = deployment.status.updatedReplicas ?? 0;
  const ready = deployment.status.readyReplicas ?? 0;
  const total = deployment.status.replicas ?? 0;
  return updated >= total ? ready : Math.min(updated, ready);
}

export function computeConditions(o: ObservedState): Record<ConditionType, ConditionValue | undefined> {
  const unschedulable = computeUnschedulable(o.pods);
  const stalled = computeStalled(o, unschedulable);
  if (stalled.status === 'True') return computeBlockedConditions(stalled);
  const rollout = computeRollout(o);
  return {
    Ready: computeReadyCondition(rollout),
    Reconciling: computeReconcilingCondition(rollout),
    Stalled: stalled,
    Scheduled: o.deployment ? computeScheduledCondition(unschedulable) : undefined,
  };
}

/** Stalled: the first blocker, in order Invalid, DoesNotFit, NameConflict, ApplyFailed, RolloutStalled; else False. */
function computeStalled(o: ObservedState, unschedulable: Unschedulable): ConditionValue {
  const { report } = o;
  if (report.invalid) {
    return { status: 'True', reason: 'Invalid', message: report.reasons.map((r) => `${r.field}: ${r.message}`).join('; ') };
  }
  if (!report.fits) {
    return { status: 'True', reason: 'DoesNotFit', message: report.reasons.map((r) => `${r.field}: ${r.message}`).join('; ') };
  }
  if (o.nameConflict) {
    return { status: 'True', reason: 'NameConflict', message: `a ${o.nameConflict.kind} named ${o.nameConflict.name} already exists and is not owned by this LfmDeployment: delete or rename it, or rename this resource` };
  }
  if (o.applyError) return { status: 'True', reason: 'ApplyFailed', message: o.applyError };
  return computeRolloutStalled(o.deployment, unschedulable) ?? { status: 'False', reason: 'Progressing', message: 'no blocker' };
}

/** Stalled=RolloutStalled when the Deployment controller gave up waiting (ProgressDeadlineExceeded). */
function computeRolloutStalled(deployment: V1Deployment | undefined, unschedulable: Unschedulable): ConditionValue | undefined {
  const exceeded = deployment?.status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
  if (!exceeded) return undefined;
  return { status: 'True', reason: 'RolloutStalled', message: `the rollout made no progress within spec.rollout.progressDeadlineSeconds (${deployment?.spec?.progressDeadlineSeconds ?? '?'} s)${unschedulable.count > 0 ? `: ${unschedulable.count} pod(s) cannot be scheduled: ${unschedulable.message}` : ''}` };
}

/** Where the child Deployment's rollout stands, in the replica counts Ready and Reconciling report. */
interface Rollout {
  /** The child Deployment exists. */
  created: boolean;
  /** The Deployment controller has seen the child's current spec. */
  observedChild: boolean;
  /** Replicas that must be ready (computeRequiredReady). */
  required: number;
  /** The Deployment's spec.replicas, else `required`. */
  desired: number;
  updated: number;
  total: number;
  /** Ready pods of the current revision (computeReadyCurrent). */
  readyCurrent: number;
}

function computeRollout(o: ObservedState): Rollout {
  const { deployment } = o;
  const required = computeRequiredReady(o.lfmd);
  return {
    created: deployment !== undefined,
    observedChild: deployment !== undefined && (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0),
    required,
    desired: deployment?.spec?.replicas ?? required,
    updated: deployment?.status?.updatedReplicas ?? 0,
    total: deployment?.status?.replicas ?? 0,
    readyCurrent: computeReadyCurrent(deployment),
  };
}

function computeReadyCondition(r: Rollout): ConditionValue {
  return r.readyCurrent >= r.required
    ? { status: 'True', reason: 'Ready', message: `${r.readyCurrent} of ${r.required} required replicas are ready` }
    : { status: 'False', reason: r.created ? 'ReplicasNotReady' : 'Creating', message: `${r.readyCurrent} of ${r.required} required replicas are ready` };
}

function computeReconcilingCondition(r: Rollout): ConditionValue {
  const rolloutDone = r.observedChild && r.updated >= r.desired && r.total <= r.desired && r.readyCurrent >= Math.min(r.desired, r.required);
  return rolloutDone
    ? { status: 'False', reason: 'Reconciled', message: 'the current spec is rolled out' }
    : { status: 'True', reason: !r.observedChild ? 'Applying' : r.updated < r.desired ? 'RollingOut' : 'WaitingForReady', message: `${r.updated} of ${r.desired} replicas updated, ${r.readyCurrent} ready` };
}

function computeScheduledCondition(unschedulable: Unschedulable): ConditionValue {
  return unschedulable.count > 0
    ? { status: 'False', reason: unschedulable.gpuShort ? 'InsufficientGPU' : 'Unschedulable', message: `${unschedulable.count} pod(s) wait to be scheduled: ${unschedulable.message}` }
    : { status: 'True', reason: 'Scheduled', message: 'every pod is scheduled' };
}

/** A blocker holds everything: Ready and Reconciling are False with its reason, Scheduled is left out. */
function computeBlockedConditions(stalled: ConditionValue): Record<ConditionType, ConditionValue | undefined> {
  return {
    Ready: { status: 'False', reason: stalled.reason, message: stalled.message },
    Reconciling: { status: 'False', reason: stalled.reason, message: 'blocked; see Stalled' },
    Stalled: stalled,
    Scheduled: undefined,
  };
}

const MAX_INVALID_PROBLEMS = 10;

/**
 * The Stalled=Invalid message of a resource that does not parse: each problem as `field: fix`. Built from field paths
 * and zod's messages only, never from the values (a value may be a secret pasted in the wrong field).
 */
export function buildInvalidMessage(problems: readonly FieldProblem[]): string {
  const shown = problems.slice(0, MAX_INVALID_PROBLEMS).map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
  const more = problems.length > MAX_INVALID_PROBLEMS ? `; and ${problems.length - MAX_INVALID_PROBLEMS} more` : '';
  // The API server validated the object against the installed CRD, so that CRD and this operator disagree.
  const hint = 'the installed CRD admitted it: fix the resource, or install the CRD of this operator version';
  return shown.length > 0 ? `${shown.join('; ')}${more} (${hint})` : `the resource does not match this operator's schema (${hint})`;
}

/**
 * The status of a resource that does not parse: Stalled=True with reason Invalid. The children are left as they are,
 * so replicas still come from the owned Deployment; the plan is dropped (there is no spec to plan) and the endpoint
 * kept while the Service it names may exist.
 */
export function computeInvalidStatus(o: InvalidObservedState, now: string): LfmDeploymentStatus {
  const stalled: ConditionValue = { status: 'True', reason: 'Invalid', message: buildInvalidMessage(o.problems) };
  const conditions = buildConditions(computeBlockedConditions(stalled), o.previous?.conditions, o.generation, now);
  const d = o.deployment?.status;
  return {
    observedGeneration: o.generation,
    conditions,
    replicas: d?.replicas ?? 0,
    readyReplicas: d?.readyReplicas ?? 0,
    updatedReplicas: d?.updatedReplicas ?? 0,
    selector: `${LABEL_DEPLOYMENT}=${o.name}`,
    ...(o.previous?.endpoint ? { endpoint: o.previous.endpoint } : {}),
  };
}

/** Keeps lastTransitionTime when a condition's status did not change. */
export function buildConditions(values: Record<ConditionType, ConditionValue | undefined>, previous: readonly Condition[] | undefined, generation: number, now: string): Condition[] {
  const out: Condition[] = [];
  for (const type of ['Ready', 'Reconciling', 'Stalled', 'Scheduled'] as const) {
    const v = values[type];
    if (!v) continue;
    const prev = previous?.find((c) => c.type === type);
    out.push({
      type, status: v.status, reason: v.reason, message: v.message, observedGeneration: generation,
      lastTransitionTime: prev && prev.status === v.status ? prev.lastTransitionTime : now,
    });
  }
  return out;
}

/** The status lfm-operator writes (status.autoscaling belongs to lfm-autoscaler and is left out). */
export function computeStatus(o: ObservedState, now: string): LfmDeploymentStatus {
  const generation = (o.lfmd.metadata as { generation?: number }).generation ?? 0;
  const conditions = buildConditions(computeConditions(o), o.lfmd.status?.conditions, generation, now);
  const d = o.deployment?.status;
  return {
    observedGeneration: generation,
    conditions,
    replicas: d?.replicas ?? 0,
    readyReplicas: d?.readyReplicas ?? 0,
    updatedReplicas: d?.updatedReplicas ?? 0,
    selector: `${LABEL_DEPLOYMENT}=${o.lfmd.metadata.name}`,
    endpoint: computeEndpoint(o.lfmd),
    plan: buildPlanStatus(o.report),
  };
}

/** Whether the observed status already says what `desired` says (so no write is needed). */
export function isStatusCurrent(observed: LfmDeploymentStatus | undefined, desired: LfmDeploymentStatus): boolean {
  if (!observed) return false;
  const { autoscaling: _a, ...ours } = observed;
  return JSON.stringify(normalize(ours)) === JSON.stringify(normalize(desired));
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}
