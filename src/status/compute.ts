// Pure. Computes an LfmDeployment's status (the fields lfm-operator owns) and its kstatus conditions from the
// observed world; performs no I/O. Ready never depends on the autoscaler's current count, so scaling never flips it,
// nor on the request path (RoutingReady says how that stands).
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { FieldProblem } from '../api/parse.js';
import type { Condition, LfmDeployment, LfmDeploymentStatus } from '../api/v1alpha1.js';
import { buildPlanStatus, type PlanReport } from '../render/plan-report.js';
import { computeEndpoint, isRoutingEnabled, isScaleToZero, LABEL_DEPLOYMENT } from '../render/children.js';
import { ROUTING_KINDS, type RoutingKind } from '../render/routing.js';

/** One parent's entry in an InferencePool's status.parents, as a gateway controller writes it. */
export interface PoolParentStatus {
  parentRef?: { group?: string; kind?: string; namespace?: string; name?: string };
  controllerName?: string;
  conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
}

/** What the reconciler observed of the request path of a resource with spec.routing.inferencePool.enabled. */
export interface RoutingObservation {
  /** The optional kinds the resource uses that the cluster does not serve (their CRDs are missing). */
  missingKinds: readonly RoutingKind[];
  /** The InferencePool as last observed or applied, when it exists. */
  pool?: { metadata?: { name?: string }; status?: { parents?: PoolParentStatus[] } };
}

export interface ObservedState {
  lfmd: LfmDeployment;
  report: PlanReport;
  deployment?: V1Deployment;
  pods: V1Pod[];
  /** A child name held by an object the operator does not own. */
  nameConflict?: { kind: string; name: string };
  /** The last apply failed with this message (for example a forbidden or invalid child). */
  applyError?: string;
  /** The request path, when routing is on and the children got that far. */
  routing?: RoutingObservation;
  /** Scale to zero: the Ready activator pods the Service points at while no engine pod is Ready. */
  activators?: number;
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

export type ConditionType = 'Ready' | 'Reconciling' | 'Stalled' | 'Scheduled' | 'RoutingReady';
const CONDITION_TYPES: readonly ConditionType[] = ['Ready', 'Reconciling', 'Stalled', 'Scheduled', 'RoutingReady'];

export interface ConditionValue { status: 'True' | 'False' | 'Unknown'; reason: string; message: string }

/** Replicas that must be ready for Ready=True: all of spec.replicas, or max(1, minReplicas) when autoscaled; 0 with scaleToZero. */
export function computeRequiredReady(lfmd: LfmDeployment): number {
  // Scale to zero: zero is a requested state (the activator answers), so no replica is required.
  if (isScaleToZero(lfmd)) return 0;
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
 * Ready pods of the Deployment's current revision, as the Deployment controller last counted them (until it has seen
 * a new spec, those of the previous one: computeReadyCondition decides when they stand).
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
  const routingReady = computeRoutingReadyCondition(o, stalled);
  if (stalled.status === 'True') return { ...computeBlockedConditions(stalled), RoutingReady: routingReady };
  const rollout = computeRollout(o);
  return {
    Ready: computeReadyCondition(rollout),
    Reconciling: computeReconcilingCondition(rollout),
    Stalled: stalled,
    Scheduled: o.deployment ? computeScheduledCondition(unschedulable) : undefined,
    RoutingReady: routingReady,
  };
}

/** What a missing kind is for, the field that uses it and where its CRD comes from. */
const ROUTING_CRDS: Readonly<Record<RoutingKind, { field: string; source: string }>> = {
  inferencePool: { field: 'spec.routing.inferencePool.enabled', source: 'the Gateway API Inference Extension' },
  inferenceObjective: { field: 'spec.routing.objectives', source: 'llm-d-router' },
  httpRoute: { field: 'spec.routing.httpRoute', source: 'the Gateway API standard channel' },
};

/** RoutingReady=CRDMissing's message: for each missing kind, the CRD to install and the field to drop otherwise. */
export function buildCrdMissingMessage(kinds: readonly RoutingKind[]): string {
  const parts = kinds.map((kind) => {
    const t = ROUTING_KINDS[kind];
    const crd = ROUTING_CRDS[kind];
    return `${crd.field} needs the ${t.kind} CRD (${t.plural}.${t.group}, ${t.version}) of ${crd.source}, which this cluster lacks: install it, or remove ${crd.field}`;
  });
  return `${parts.join('; ')}. Serving goes on through the Service meanwhile; the operator applies the rest within a minute of the install`;
}

const describeParent = (p: PoolParentStatus): string => {
  const ref = p.parentRef ?? {};
  return `${ref.kind ?? 'Gateway'} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name ?? '?'}${p.controllerName ? ` (${p.controllerName})` : ''}`;
};

/**
 * RoutingReady from the pool's status.parents, which only gateway controllers write: True once a parent accepted
 * it (Accepted=True); else False with the first parent's Accepted reason and message; NoParent while no gateway has
 * looked at it (Pending when one lists it without an Accepted condition).
 */
export function computePoolRoutingCondition(name: string, pool: RoutingObservation['pool']): ConditionValue {
  const parents = pool?.status?.parents ?? [];
  const accepted = (p: PoolParentStatus) => p.conditions?.find((c) => c.type === 'Accepted');
  const yes = parents.find((p) => accepted(p)?.status === 'True');
  if (yes) return { status: 'True', reason: 'Accepted', message: `InferencePool ${name} is accepted by ${describeParent(yes)}` };
  const no = parents.find((p) => accepted(p) !== undefined);
  if (no) {
    const c = accepted(no)!;
    return { status: 'False', reason: c.reason || 'NotAccepted', message: `InferencePool ${name} is not accepted by ${describeParent(no)}: ${c.message ?? ''}` };
  }
  if (parents.length > 0) return { status: 'False', reason: 'Pending', message: `${describeParent(parents[0]!)} lists InferencePool ${name} but has not said whether it accepts it` };
  return { status: 'False', reason: 'NoParent', message: `no gateway has looked at InferencePool ${name} yet (its status.parents is empty): route to it from a Gateway whose controller supports InferencePools (spec.routing.httpRoute.parentRefs, or an HTTPRoute of your own)` };
}

/**
 * RoutingReady, only with spec.routing.inferencePool.enabled: CRDMissing first (what to install), then a blocker of
 * the whole resource (its reason; see Stalled), then the pool's parents. Ready never reads it.
 */
function computeRoutingReadyCondition(o: ObservedState, stalled: ConditionValue): ConditionValue | undefined {
  if (!isRoutingEnabled(o.lfmd)) return undefined;
  const missing = o.routing?.missingKinds ?? [];
  if (missing.length > 0) return { status: 'False', reason: 'CRDMissing', message: buildCrdMissingMessage(missing) };
  if (stalled.status === 'True') return { status: 'False', reason: stalled.reason, message: `the request path waits for the blocker: ${stalled.message}` };
  return computePoolRoutingCondition(o.lfmd.metadata.name, o.routing?.pool);
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
  /**
   * The resource was settled (Ready, not Reconciling) at this generation of its own spec: a child generation not yet
   * observed then comes from a change of spec.replicas alone (the autoscaler's scale), never from a new template,
   * which only a new spec (or a new operator) renders and which is seen through Reconciling first.
   */
  settled: boolean;
  /** Scale to zero, and its Ready activator pods. */
  scaleToZero: boolean;
  activators: number;
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
    settled: computeSettled(o.lfmd),
    scaleToZero: isScaleToZero(o.lfmd),
    activators: o.activators ?? 0,
  };
}

function computeSettled(lfmd: LfmDeployment): boolean {
  const generation = (lfmd.metadata as { generation?: number }).generation ?? 0;
  const status = lfmd.status;
  const is = (type: string, value: string) => status?.conditions?.some((c) => c.type === type && c.status === value && c.observedGeneration === generation) ?? false;
  return status?.observedGeneration === generation && is('Ready', 'True') && is('Reconciling', 'False');
}

/**
 * Ready under scale to zero, where no replica is required: True while a replica is Ready (Ready) or, without one, while
 * an activator answers (ScaledToZero), else False. The counts need no settled child: zero replicas are a requested
 * state and the activator holds requests through a rollout too, so a scale never flips it (nor does the race between
 * the ReplicaSet's new pod and the Deployment's status).
 */
function computeZeroCondition(r: Rollout): ConditionValue {
  if (r.readyCurrent > 0) return { status: 'True', reason: 'Ready', message: `${r.readyCurrent} replicas are ready (scale to zero: none is required while an activator answers)` };
  if (r.activators === 0) {
    return { status: 'False', reason: 'ActivatorUnavailable', message: 'no engine pod is Ready and no activator pod is Ready to hold requests: the Service has no endpoint; check the lfm-operator activator Deployment (its pods must be Ready in the operator\'s activator namespace)' };
  }
  const message = r.desired === 0
    ? `scaled to zero: the Service points at ${r.activators} activator pod(s), which hold the next request and start a replica`
    : `cold start: ${r.desired} replica(s) starting; the Service points at ${r.activators} activator pod(s), which hold requests until one is Ready`;
  return { status: 'True', reason: 'ScaledToZero', message };
}

function computeReadyCondition(r: Rollout): ConditionValue {
  if (r.scaleToZero) return computeZeroCondition(r);
  // Until the Deployment controller has seen the child's spec, its counts are those of the previous spec: they stand
  // for a scale of a settled resource (Ready does not flip at each scale), not for a new template.
  return r.readyCurrent >= r.required && (r.observedChild || r.settled)
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

/** A blocker holds everything: Ready and Reconciling are False with its reason; Scheduled and RoutingReady are left out. */
function computeBlockedConditions(stalled: ConditionValue): Record<ConditionType, ConditionValue | undefined> {
  return {
    Ready: { status: 'False', reason: stalled.reason, message: stalled.message },
    Reconciling: { status: 'False', reason: stalled.reason, message: 'blocked; see Stalled' },
    Stalled: stalled,
    Scheduled: undefined,
    RoutingReady: undefined,
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
  for (const type of CONDITION_TYPES) {
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
  const { autoscaling: _a, activation: _b, ...ours } = observed;
  return JSON.stringify(normalize(ours)) === JSON.stringify(normalize(desired));
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}
