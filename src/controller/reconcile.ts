// Reconciles one LfmDeployment, level-triggered:
//   1. read it from the cache (gone or deleting: nothing to do; owner references let the garbage collector work);
//      one that does not parse is reported (Stalled=Invalid, a Warning Event) and its children are left alone;
//   2. plan and render its children with pure functions;
//   3. refuse to adopt: a child name held by an object without our controller reference is a NameConflict (the
//      child caches hold every object of their kind in the watched namespaces, so this needs no GET);
//   4. server-side apply each child that differs from what is observed (a no-op resync writes nothing), handing
//      the Deployment's spec.replicas to lfm-autoscaler while autoscaling is on;
//   5. prune children no longer desired (the PodDisruptionBudget below 2 replicas);
//   5r. the request path (spec.routing): prune what routing no longer wants (from caches alone, so a resource
//      without routing costs no request), then, with routing on, refuse to adopt and apply its children whose
//      optional kinds the cluster serves (RoutingDiscovery);
//   6. compute status with pure code and apply it only when it changed; record Events on transitions.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { parseLfmDeployment } from '../api/parse.js';
import { LfmDeployment, LfmDeploymentStatus, type Condition, type PlanStatus } from '../api/v1alpha1.js';
import type { EventRecorder, EventType } from '../kube/events.js';
import { RESOURCES, ApiError, isNotFound, type KubeClient, type KubeObject, type ResourceType } from '../kube/client.js';
import { AUTOSCALER_FIELD_MANAGER, FIELD_MANAGER, renderChildren, type RenderOptions } from '../render/children.js';
import { ACTIVATOR_PORT_NAME, ANNOTATION_ENDPOINT_PODS, isScaleToZero, renderEndpointSlice, type SliceEndpoint } from '../render/endpoints.js';
import { ENGINES } from '../engines/index.js';
import { buildPlanReport, type PlanReport } from '../render/plan-report.js';
import { buildEndpointPickerName, ENDPOINT_PICKER_KINDS, renderRoutingChildren, ROUTING_KINDS, type RoutingChild, type RoutingKind } from '../render/routing.js';
import { computeInvalidStatus, computeStatus, isStatusCurrent, type ObservedState, type RoutingObservation } from '../status/compute.js';
import type { Logger } from '../telemetry/logger.js';
import { isSubset, ownsField } from './compare.js';
import { findMissingKinds, type KindAvailability } from './discovery.js';
import { listPodsOf, type Cache } from './informer.js';

export interface ReconcileResult {
  /** Reconcile again after this many milliseconds (for example while a rollout progresses). */
  requeueAfterMs?: number;
  writes: number;
  /** The resource is refused as Invalid (Stalled=True); counted apart from successes. */
  invalid?: boolean;
}

export interface ReconcilerDeps {
  client: KubeClient;
  lfmDeployments: Cache<KubeObject>;
  deployments: Cache<KubeObject>;
  services: Cache<KubeObject>;
  podDisruptionBudgets: Cache<KubeObject>;
  pods: Cache<KubeObject>;
  renderOptions: RenderOptions;
  events: EventRecorder;
  now?: () => Date;
  /** The request path's children; without it, spec.routing is ignored. */
  routing?: RoutingDeps;
  /**
   * Scale to zero: the EndpointSlices the operator manages (label endpointslice.kubernetes.io/managed-by, ours) and the
   * activator pods. Without them, scale-to-zero Services get no endpoints.
   */
  endpointSlices?: Cache<KubeObject>;
  activatorPods?: Cache<KubeObject>;
}

/** The endpoint picker's kinds that are cached by label (LABEL_ROUTING) rather than whole: there are many of them. */
export type LabelledRoutingKind = 'serviceAccount' | 'role' | 'roleBinding' | 'configMap';

export interface RoutingDeps {
  discovery: { current(): Promise<KindAvailability>; invalidate(): void };
  /** The endpoint picker's ServiceAccounts, Roles, RoleBindings and ConfigMaps: the objects labelled LABEL_ROUTING. */
  labelled: Readonly<Record<LabelledRoutingKind, Cache<KubeObject>>>;
  /** Every object of an optional kind in the watched namespaces, while the API server serves the kind. */
  kindCache(kind: RoutingKind): Cache<KubeObject> | undefined;
}

type Child = { type: ResourceType; desired?: KubeObject; cache: Cache<KubeObject> };

/** The LfmDeployment one reconcile works on, parsed, with the names its children share. */
interface ReconcileTarget {
  key: string;
  namespace: string;
  name: string;
  uid: string | undefined;
  lfmd: LfmDeployment;
  log: Logger;
}

/** What applying the children did: the writes made, a blocker status reports (Stalled), and the request path. */
interface ChildrenOutcome {
  writes: number;
  nameConflict?: ObservedState['nameConflict'];
  applyError?: string;
  routing?: { missingKinds: RoutingKind[]; pool?: KubeObject };
}

/** A routing child as it is desired and as it was observed (cache, else a GET). */
interface ObservedRoutingChild { child: RoutingChild; observed: KubeObject | undefined }

/** An object of the request path that exists and is ours. */
interface OwnedRoutingObject { type: ResourceType; obj: KubeObject }

/** The Deployment to apply, what the cache holds of it, and the autoscaling policy that decides who owns replicas. */
interface DeploymentApply {
  desired: KubeObject;
  observed: KubeObject | undefined;
  autoscaling: Pick<LfmDeployment['spec']['autoscaling'], 'enabled' | 'minReplicas' | 'maxReplicas'>;
  log: Logger;
}

/** A Ready pod (condition Ready=True, an IP, not being deleted) as an endpoint on `port`; none otherwise. */
function toSliceEndpoint(pod: V1Pod & KubeObject, port: number): SliceEndpoint[] {
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const ip = pod.status?.podIP;
  if (!ready || !ip || pod.metadata?.deletionTimestamp) return [];
  return [{ name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', ip, port, ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}) }];
}

/** A Service that must lose its selector (scale to zero turned on): isSubset cannot see a field left out. */
function dropsSelector(desired: KubeObject, observed: KubeObject): boolean {
  if (desired.kind !== 'Service') return false;
  const spec = (o: KubeObject) => (o as { spec?: { selector?: unknown } }).spec;
  return spec(desired)?.selector === undefined && spec(observed)?.selector !== undefined;
}

function isOwnedBy(obj: KubeObject, uid: string | undefined): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

export class Reconciler {
  constructor(private readonly d: ReconcilerDeps) {}

  private event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    this.d.events.record(obj, type, reason, message);
  }

  async reconcile(key: string, log: Logger): Promise<ReconcileResult> {
    const raw = this.d.lfmDeployments.get(key);
    if (!raw || raw.metadata?.deletionTimestamp) return { writes: 0 };

    const parsed = LfmDeployment.safeParse(raw);
    if (!parsed.success) return this.reconcileInvalid(key, raw, log);
    const lfmd = parsed.data;
    const target: ReconcileTarget = { key, namespace: raw.metadata!.namespace!, name: raw.metadata!.name!, uid: raw.metadata!.uid, lfmd, log };
    const report = buildPlanReport(lfmd, this.d.renderOptions);

    const outcome = report.fits ? await this.applyChildren(target, report.plan) : { writes: 0 };
    const status = this.computeStatusOf(target, report, outcome);
    const writes = outcome.writes + await this.applyStatus(raw, lfmd.status, status);

    const reconciling = status.conditions?.find((c) => c.type === 'Reconciling')?.status === 'True';
    // A CRD installed later, or a conflicting object of a kind cached by label (its deletion is not seen), is
    // noticed at the next look: discovery is refreshed on demand every 30 s.
    const routing = status.conditions?.find((c) => c.type === 'RoutingReady');
    const routingWaits = routing?.status === 'False' && (routing.reason === 'CRDMissing' || routing.reason === 'NameConflict');
    return { writes, ...(reconciling || routingWaits ? { requeueAfterMs: 30_000 } : {}), ...(report.invalid ? { invalid: true } : {}) };
  }

  /** Renders the children (steps 2-5): refuses to adopt, applies what differs, prunes what is no longer desired. */
  private async applyChildren(target: ReconcileTarget, plan: PlanReport['plan']): Promise<ChildrenOutcome> {
    const outcome: ChildrenOutcome = { writes: 0 };
    const children = this.renderChildList(target, plan);
    try {
      for (const child of children) {
        const observed = child.cache.get(target.key);
        if (observed && !isOwnedBy(observed, target.uid)) {
          if (!child.desired) continue;
          outcome.nameConflict = { kind: child.type.kind, name: target.name };
          break;
        }
        outcome.writes += await this.applyChild(target, child, observed);
      }
      if (!outcome.nameConflict) outcome.writes += await this.reconcileEndpointSlice(target, outcome);
      if (!outcome.nameConflict && this.d.routing) await this.reconcileRouting(target, plan, this.d.routing, outcome);
    } catch (err) {
      // 409: a conflict with another field manager, most likely an object of the child's name that appeared after
      // our cache last looked (a create-only apply is not forced); retried, the cache then shows a NameConflict.
      if (!(err instanceof ApiError) || err.status >= 500 || err.status === 409 || err.status === 429) throw err;
      // 4xx other than conflicts and throttling will not heal by retrying the same spec.
      outcome.applyError = err.message;
      target.log.error({ err: err.message }, 'apply refused');
    }
    return outcome;
  }

  private renderChildList(target: ReconcileTarget, plan: PlanReport['plan']): Child[] {
    const deploymentObserved = this.d.deployments.get(target.key) as V1Deployment & KubeObject | undefined;
    const children = renderChildren(target.lfmd, plan, { ...this.d.renderOptions, ...(deploymentObserved?.spec?.replicas !== undefined ? { observedReplicas: deploymentObserved.spec.replicas } : {}) });
    return [
      { type: RESOURCES.deployment, desired: children.deployment as KubeObject, cache: this.d.deployments },
      { type: RESOURCES.service, desired: children.service as KubeObject, cache: this.d.services },
      { type: RESOURCES.podDisruptionBudget, desired: children.podDisruptionBudget as KubeObject | undefined, cache: this.d.podDisruptionBudgets },
    ];
  }

  /**
   * Step 5r: prunes the routing children no longer desired, then applies the desired ones whose kinds the cluster
   * serves, unless one of their names is held by an object that is not ours (NameConflict: nothing is applied).
   */
  private async reconcileRouting(target: ReconcileTarget, plan: PlanReport['plan'], routing: RoutingDeps, outcome: ChildrenOutcome): Promise<void> {
    const desired = renderRoutingChildren(target.lfmd, plan);
    outcome.writes += await this.pruneRouting(target, desired, routing);
    if (desired.length === 0) return;
    const available = await routing.discovery.current();
    outcome.routing = { missingKinds: findMissingKinds(desired, available) };
    const usable = desired.filter((c) => c.needs.every((k) => available[k]));
    const observed = await Promise.all(usable.map(async (child) => ({ child, observed: await this.observeRoutingChild(target, child, routing) })));
    const taken = observed.find((o) => o.observed && !isOwnedBy(o.observed, target.uid));
    if (taken) {
      outcome.nameConflict = { kind: taken.child.type.kind, name: taken.child.object.metadata.name };
      return;
    }
    for (const o of observed) {
      const { writes, object } = await this.applyRoutingChild(target, o, routing);
      outcome.writes += writes;
      if (o.child.type === ROUTING_KINDS.inferencePool) outcome.routing.pool = object;
    }
  }

  /** The cache that holds a routing child's kind: whole for Deployments, Services and the optional kinds, else by label. */
  private routingCacheOf(type: ResourceType, routing: RoutingDeps): Cache<KubeObject> | undefined {
    const p = ENDPOINT_PICKER_KINDS;
    const byPlural: Record<string, () => Cache<KubeObject> | undefined> = {
      [p.deployment.plural]: () => this.d.deployments,
      [p.service.plural]: () => this.d.services,
      [p.serviceAccount.plural]: () => routing.labelled.serviceAccount,
      [p.role.plural]: () => routing.labelled.role,
      [p.roleBinding.plural]: () => routing.labelled.roleBinding,
      [p.configMap.plural]: () => routing.labelled.configMap,
      [ROUTING_KINDS.inferencePool.plural]: () => routing.kindCache('inferencePool'),
      [ROUTING_KINDS.inferenceObjective.plural]: () => routing.kindCache('inferenceObjective'),
      [ROUTING_KINDS.httpRoute.plural]: () => routing.kindCache('httpRoute'),
    };
    return byPlural[type.plural]?.();
  }

  /**
   * A routing child as it exists: from its cache, else by a GET. A kind cached by label misses an object of the
   * child's name without our label (which must be refused, not adopted), and an optional kind's cache may not have
   * synced yet; the GET happens only while the child is missing from the cache (creation, or a conflict).
   */
  private async observeRoutingChild(target: ReconcileTarget, child: RoutingChild, routing: RoutingDeps): Promise<KubeObject | undefined> {
    const name = child.object.metadata.name;
    const cached = this.routingCacheOf(child.type, routing)?.get(`${target.namespace}/${name}`);
    if (cached) return cached;
    try {
      return await this.d.client.get<KubeObject>(child.type, target.namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async applyRoutingChild(target: ReconcileTarget, { child, observed }: ObservedRoutingChild, routing: RoutingDeps): Promise<{ writes: number; object: KubeObject | undefined }> {
    if (observed && isSubset(child.object, observed)) return { writes: 0, object: observed };
    try {
      const applied = await this.d.client.apply<KubeObject>(child.type, child.object as KubeObject, FIELD_MANAGER, { force: observed !== undefined });
      target.log.info({ kind: child.type.kind, name: child.object.metadata.name, created: !observed }, 'applied routing child');
      return { writes: 1, object: applied };
    } catch (err) {
      // The kind's CRD may have been removed since discovery last looked: look again at the next reconcile.
      if (isNotFound(err)) routing.discovery.invalidate();
      throw err;
    }
  }

  /** The request path's objects that exist and are ours, from the caches alone (no request). */
  private listOwnedRouting(target: ReconcileTarget, routing: RoutingDeps): OwnedRoutingObject[] {
    const eppKey = `${target.namespace}/${buildEndpointPickerName(target.lfmd)}`;
    const p = ENDPOINT_PICKER_KINDS;
    const candidates: { type: ResourceType; obj: KubeObject | undefined }[] = [
      { type: ROUTING_KINDS.httpRoute, obj: routing.kindCache('httpRoute')?.get(target.key) },
      ...(routing.kindCache('inferenceObjective')?.list() ?? [])
        .filter((o) => o.metadata?.namespace === target.namespace)
        .map((obj) => ({ type: ROUTING_KINDS.inferenceObjective, obj })),
      { type: ROUTING_KINDS.inferencePool, obj: routing.kindCache('inferencePool')?.get(target.key) },
      { type: p.deployment, obj: this.d.deployments.get(eppKey) },
      { type: p.service, obj: this.d.services.get(eppKey) },
      { type: p.configMap, obj: routing.labelled.configMap.get(eppKey) },
      { type: p.roleBinding, obj: routing.labelled.roleBinding.get(eppKey) },
      { type: p.role, obj: routing.labelled.role.get(eppKey) },
      { type: p.serviceAccount, obj: routing.labelled.serviceAccount.get(eppKey) },
    ];
    return candidates.filter((c): c is OwnedRoutingObject => c.obj !== undefined && isOwnedBy(c.obj, target.uid));
  }

  /** Deletes the routing objects of ours that are not desired (all of them with routing off); returns the writes. */
  private async pruneRouting(target: ReconcileTarget, desired: readonly RoutingChild[], routing: RoutingDeps): Promise<number> {
    const wanted = new Set(desired.map((c) => `${c.type.plural}/${c.object.metadata.name}`));
    let writes = 0;
    for (const { type, obj } of this.listOwnedRouting(target, routing)) {
      const name = obj.metadata!.name!;
      if (wanted.has(`${type.plural}/${name}`)) continue;
      try {
        await this.d.client.delete(type, target.namespace, name, { ...(obj.metadata?.uid ? { uid: obj.metadata.uid } : {}) });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      writes++;
      target.log.info({ kind: type.kind, name }, 'pruned routing child no longer desired');
    }
    return writes;
  }

  /**
   * Scale to zero: the Service's EndpointSlice lists the Ready engine pods, else the Ready activator pods (at zero and
   * during a cold start). Without scaleToZero an EndpointSlice of ours is pruned (the Service has its selector back).
   */
  private async reconcileEndpointSlice(target: ReconcileTarget, outcome: ChildrenOutcome): Promise<number> {
    const cache = this.d.endpointSlices;
    if (!cache) return 0;
    const observed = cache.get(target.key);
    if (observed && !isOwnedBy(observed, target.uid)) {
      outcome.nameConflict = { kind: 'EndpointSlice', name: target.name };
      return 0;
    }
    if (!isScaleToZero(target.lfmd)) return this.applyChild(target, { type: RESOURCES.endpointSlice, cache }, observed);
    const port = ENGINES[target.lfmd.spec.engine.name].port;
    const engines = (listPodsOf(this.d.pods, target.namespace, target.name) as (V1Pod & KubeObject)[]).flatMap((p) => toSliceEndpoint(p, port));
    const { slice, target: pointsAt } = renderEndpointSlice(target.lfmd, engines, this.listActivatorEndpoints());
    if (observed && isSubset(slice, observed)) return 0;
    await this.d.client.apply(RESOURCES.endpointSlice, slice as unknown as KubeObject, FIELD_MANAGER, { force: observed !== undefined });
    target.log.info({ endpoints: pointsAt, pods: slice.metadata?.annotations?.[ANNOTATION_ENDPOINT_PODS], addresses: slice.endpoints?.length ?? 0 }, pointsAt === 'engines' ? 'Service points at the Ready engine pods' : pointsAt === 'activator' ? 'Service points at the activator (no engine pod Ready)' : 'Service has no endpoint: no engine pod and no activator pod Ready');
    return 1;
  }

  /** The Ready activator pods, on their containerPort named http. */
  private listActivatorEndpoints(): SliceEndpoint[] {
    return ((this.d.activatorPods?.list() ?? []) as (V1Pod & KubeObject)[]).flatMap((p) => {
      const port = p.spec?.containers.flatMap((c) => c.ports ?? []).find((cp) => cp.name === ACTIVATOR_PORT_NAME)?.containerPort;
      return port === undefined ? [] : toSliceEndpoint(p, port);
    });
  }

  /** The Ready activator pods (scale to zero's Ready condition needs one while at zero). */
  private countActivators(): number {
    return this.listActivatorEndpoints().length;
  }

  /** Applies, or prunes, one child we own (or that does not exist yet); returns the number of writes. */
  private async applyChild(target: ReconcileTarget, child: Child, observed: KubeObject | undefined): Promise<number> {
    if (!child.desired) {
      if (!observed) return 0;
      await this.d.client.delete(child.type, target.namespace, target.name, { ...(observed.metadata?.uid ? { uid: observed.metadata.uid } : {}) });
      target.log.info({ kind: child.type.kind }, 'pruned child no longer desired');
      return 1;
    }
    if (child.type === RESOURCES.deployment) {
      return this.applyDeployment({ desired: child.desired, observed, autoscaling: target.lfmd.spec.autoscaling, log: target.log });
    }
    if (observed && isSubset(child.desired, observed) && !dropsSelector(child.desired, observed)) return 0;
    await this.d.client.apply(child.type, child.desired, FIELD_MANAGER, { force: observed !== undefined });
    target.log.info({ kind: child.type.kind, created: !observed }, 'applied child');
    return 1;
  }

  /** Step 6: the status of a resource that parses, from the plan, what applying found, the pods and our Deployment. */
  private computeStatusOf(target: ReconcileTarget, report: PlanReport, outcome: ChildrenOutcome): LfmDeploymentStatus {
    const pods = listPodsOf(this.d.pods, target.namespace, target.name) as (V1Pod & KubeObject)[];
    const ownedDeployment = this.ownedDeployment(target.key, target.uid);
    return computeStatus({
      lfmd: target.lfmd, report, pods,
      ...(ownedDeployment ? { deployment: ownedDeployment } : {}),
      ...(outcome.nameConflict ? { nameConflict: outcome.nameConflict } : {}),
      ...(outcome.applyError ? { applyError: outcome.applyError } : {}),
      ...(outcome.routing ? { routing: outcome.routing as RoutingObservation } : {}),
      ...(isScaleToZero(target.lfmd) ? { activators: this.countActivators() } : {}),
    }, this.nowSeconds());
  }

  /** The cached Deployment of this key, when this LfmDeployment (uid) is its controller. */
  private ownedDeployment(key: string, uid: string | undefined): V1Deployment | undefined {
    const deployment = this.d.deployments.get(key) as V1Deployment | undefined;
    return deployment && isOwnedBy(deployment as KubeObject, uid) ? deployment : undefined;
  }

  /** Now, as status writes timestamps: RFC 3339 in whole seconds. */
  private nowSeconds(): string {
    const now = (this.d.now ?? (() => new Date()))();
    return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /**
   * A resource that does not parse: the API server validated it against the installed CRD, so the CRD and this
   * operator disagree. Its children are left as they are; the problems go to status (Stalled=Invalid) and an Event.
   */
  private async reconcileInvalid(key: string, raw: KubeObject, log: Logger): Promise<ReconcileResult> {
    // parseLfmDeployment describes each zod issue by field path with its fix, as `lfm-operator plan` prints them.
    const described = parseLfmDeployment(raw);
    const problems = described.ok ? [] : described.problems;
    const previous = LfmDeploymentStatus.safeParse((raw as { status?: unknown }).status);
    const ownedDeployment = this.ownedDeployment(key, raw.metadata?.uid);
    const status = computeInvalidStatus({
      name: raw.metadata!.name!,
      generation: raw.metadata?.generation ?? 0,
      problems,
      ...(previous.success && previous.data ? { previous: previous.data } : {}),
      ...(ownedDeployment ? { deployment: ownedDeployment } : {}),
    }, this.nowSeconds());
    log.warn({ problems: problems.map((p) => p.field) }, 'resource does not parse; reported as Stalled=Invalid');
    return { writes: await this.applyStatus(raw, previous.success ? previous.data : undefined, status), invalid: true };
  }

  /** Server-side applies the status subresource when it changed, and records Events on transitions. */
  private async applyStatus(raw: KubeObject, before: LfmDeploymentStatus | undefined, status: LfmDeploymentStatus): Promise<number> {
    if (isStatusCurrent(before, status)) return 0;
    await this.d.client.apply(RESOURCES.lfmDeployment, {
      apiVersion: raw.apiVersion, kind: raw.kind, metadata: { name: raw.metadata!.name, namespace: raw.metadata!.namespace }, status,
    }, FIELD_MANAGER, { force: true, subresource: 'status' });
    this.recordTransitions(raw, before, status);
    return 1;
  }

  /**
   * Applies the Deployment. With autoscaling on, lfm-autoscaler must own spec.replicas before lfm-operator stops
   * applying it: server-side apply deletes a field its last owner drops, which would reset the count to 1.
   */
  private async applyDeployment(a: DeploymentApply): Promise<number> {
    if (a.autoscaling.enabled) return this.applyAutoscaledDeployment(a);
    const { desired, observed, log } = a;
    if (observed && isSubset(desired, observed) && !ownsField(observed, AUTOSCALER_FIELD_MANAGER, ['spec', 'replicas'])) return 0;
    await this.d.client.apply(RESOURCES.deployment, desired, FIELD_MANAGER, { force: observed !== undefined });
    log.info({ created: !observed }, 'applied Deployment');
    return 1;
  }

  private async applyAutoscaledDeployment({ desired, observed, autoscaling, log }: DeploymentApply): Promise<number> {
    let writes = 0;
    const meta = { name: desired.metadata!.name, namespace: desired.metadata!.namespace };
    const current = (observed as V1Deployment | undefined)?.spec?.replicas;
    const replicas = Math.min(autoscaling.maxReplicas, Math.max(autoscaling.minReplicas, current ?? autoscaling.minReplicas));
    if (!observed) {
      await this.d.client.apply(RESOURCES.deployment, { ...desired, spec: { ...(desired['spec'] as object), replicas } }, FIELD_MANAGER, { force: false });
      writes++;
    }
    if (!observed || !ownsField(observed, AUTOSCALER_FIELD_MANAGER, ['spec', 'replicas'])) {
      await this.d.client.apply(RESOURCES.deployment, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta, spec: { replicas } }, AUTOSCALER_FIELD_MANAGER, { force: true });
      writes++;
      log.info({ replicas }, 'handed spec.replicas of the Deployment to lfm-autoscaler');
    }
    if (!observed || ownsField(observed, FIELD_MANAGER, ['spec', 'replicas']) || !isSubset(desired, observed)) {
      await this.d.client.apply(RESOURCES.deployment, desired, FIELD_MANAGER, { force: true });
      writes++;
      log.info({ created: !observed }, 'applied Deployment');
    }
    return writes;
  }

  private recordTransitions(obj: KubeObject, before: LfmDeploymentStatus | undefined, after: LfmDeploymentStatus): void {
    const cond = (s: LfmDeploymentStatus | undefined, t: string) => s?.conditions?.find((c) => c.type === t);
    const stalledNow = cond(after, 'Stalled');
    const stalledBefore = cond(before, 'Stalled');
    if (stalledNow?.status === 'True' && (stalledBefore?.status !== 'True' || stalledBefore.reason !== stalledNow.reason)) {
      this.event(obj, 'Warning', stalledNow.reason, stalledNow.message);
    }
    if (before?.observedGeneration !== after.observedGeneration && after.plan?.fits) {
      const p = after.plan;
      this.event(obj, 'Normal', 'Planned', buildPlannedMessage(p));
    }
    const readyNow = cond(after, 'Ready');
    if (readyNow?.status === 'True' && cond(before, 'Ready')?.status !== 'True') {
      this.event(obj, 'Normal', 'RolloutFinished', readyNow.message);
    }
    const sched = cond(after, 'Scheduled');
    if (sched?.status === 'False' && cond(before, 'Scheduled')?.status !== 'False') {
      this.event(obj, 'Warning', sched.reason, sched.message);
    }
    this.recordRoutingTransition(obj, cond(before, 'RoutingReady'), cond(after, 'RoutingReady'));
  }

  /** RoutingReady: Normal when a gateway accepts the pool; Warning when a CRD is missing or a gateway stops accepting it. */
  private recordRoutingTransition(obj: KubeObject, before: Condition | undefined, after: Condition | undefined): void {
    if (!after || (after.status === before?.status && after.reason === before.reason)) return;
    if (after.status === 'True') this.event(obj, 'Normal', 'RoutingReady', after.message);
    else if (after.reason === 'CRDMissing' || before?.status === 'True') this.event(obj, 'Warning', after.reason, after.message);
  }
}

/**
 * The Planned event's text. GPU engines: GPUs, weights and KV cache per GPU. LlamaCpp on CPU nodes: the memory a
 * replica requests (and is limited to), its slots and prompt cache; on a GPU also the experts kept in host RAM.
 */
export function buildPlannedMessage(p: PlanStatus): string {
  const sequences = `${p.maxSequencesAtMaxLen} sequences of ${p.maxModelLen} tokens`;
  if (p.slots === undefined) {
    return `fits: ${p.gpusPerReplica} GPU(s) per replica, ${p.weightsGiBPerGpu} GiB weights and ${p.kvCacheGiBPerGpu} GiB KV cache per GPU, ${sequences}`;
  }
  const slots = `${p.slots} slot(s) of ${p.maxModelLen} tokens (-c ${p.contextTokens}), ${p.cacheRamMiB} MiB prompt cache`;
  if (p.gpusPerReplica === 0) {
    return `fits: CPU replica, ${p.memoryGiBPerReplica} GiB memory per replica (request and limit), ${slots}; room for ${sequences}`;
  }
  const experts = p.expertsOnHostGiB ? `, ${p.expertsOnHostGiB} GiB of experts in host RAM (--n-cpu-moe ${p.cpuMoeLayers})` : '';
  return `fits: ${p.gpusPerReplica} GPU per replica, ${p.weightsGiBPerGpu} GiB weights and ${p.kvCacheGiBPerGpu} GiB KV cache on the GPU${experts}, ${p.memoryGiBPerReplica} GiB host memory, ${slots}; room for ${sequences}`;
}
