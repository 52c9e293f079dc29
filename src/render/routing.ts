// Pure. Renders the request path of an LfmDeployment with spec.routing.inferencePool.enabled (issue 12): the
// InferencePool of its engine pods; its endpoint picker (llm-d-router's EPP: ServiceAccount, Role, RoleBinding,
// ConfigMap, Service and Deployment named NAME-epp); the InferenceObjectives; the HTTPRoute. Performs no I/O.
// The EPP's configuration and flags are those of the pinned release (EPP_DEFAULT_IMAGE), whose decoding is strict:
// test/unit/routing.test.ts checks every rendered configuration and argument against its oracle,
// ../shared/reference/routing/epp-config.json. Sources of the choices below: ../shared/reference/routing/README.md.
import type { V1ConfigMap, V1Deployment, V1ObjectMeta, V1PolicyRule, V1Probe, V1Role, V1RoleBinding, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { EngineName, EppProfile, LfmDeployment } from '../api/v1alpha1.js';
import { ENGINES, findFlag, type Engine } from '../engines/index.js';
import type { Plan } from '../sizing/plan.js';
import { buildOwnerReference, buildSelectorLabels, EPP_ENGINE_TYPES, isRoutingEnabled } from './children.js';

/** A kind as the controller's client addresses it (src/kube/client.ts ResourceType has this shape; render may not import kube). */
export interface RoutingResourceType { group: string; version: string; kind: string; plural: string; namespaced: true }

/** The optional kinds: their CRDs may be missing from a cluster, and the controller applies a child only where they exist. */
export const ROUTING_KINDS = {
  inferencePool: { group: 'inference.networking.k8s.io', version: 'v1', kind: 'InferencePool', plural: 'inferencepools', namespaced: true },
  inferenceObjective: { group: 'llm-d.ai', version: 'v1alpha2', kind: 'InferenceObjective', plural: 'inferenceobjectives', namespaced: true },
  httpRoute: { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute', plural: 'httproutes', namespaced: true },
} as const satisfies Record<string, RoutingResourceType>;
export type RoutingKind = keyof typeof ROUTING_KINDS;

/** The built-in kinds of the endpoint picker's objects. */
export const ENDPOINT_PICKER_KINDS = {
  serviceAccount: { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  role: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true },
  roleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  configMap: { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  service: { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  deployment: { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
} as const satisfies Record<string, RoutingResourceType>;

/** A rendered object: apiVersion, kind and metadata (name, namespace, labels, owner) always set. */
export interface RoutingObject {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta & { name: string };
  [field: string]: unknown;
}

/**
 * One child of the request path. needs: the optional kinds that must exist for it to be applied (and to work): every
 * child needs the InferencePool kind (the endpoint picker without its pool never becomes Ready), an objective also
 * InferenceObjective, the route also HTTPRoute.
 */
export interface RoutingChild { type: RoutingResourceType; object: RoutingObject; needs: readonly RoutingKind[] }
export type RoutingChildren = RoutingChild[];

export interface RoutingRenderOptions {
  /**
   * Turn the endpoint picker's flow control on (feature gate flowControl): requests wait in the picker, by priority,
   * while the pool is saturated or empty, instead of going to a busy engine or being refused. Default false.
   */
  flowControl?: boolean;
}

/** Labels of the routing children: the pool, the objectives and the route carry it, as do the picker's objects. */
export const LABEL_ROUTING = 'serving.lfm-operator.io/routing';
/** The endpoint picker's own label, on its objects and pods, and its selector (never the engine pods' label). */
export const LABEL_ENDPOINT_PICKER = 'serving.lfm-operator.io/endpoint-picker';
/** A hash of the configuration on the picker's pod template, so that a new configuration restarts the picker. */
export const ANNOTATION_EPP_CONFIG_HASH = 'serving.lfm-operator.io/epp-config-hash';
export const EPP_PORTS = { extProc: 9002, grpcHealth: 9003, metrics: 9090 } as const;
export const EPP_CONFIG_API_VERSION = 'llm-d.ai/v1alpha1';
const EPP_CONFIG_DIR = '/config';
const EPP_CONFIG_KEY = 'epp-config.yaml';
export const EPP_CONFIG_FILE = `${EPP_CONFIG_DIR}/${EPP_CONFIG_KEY}`;
/** The picker image's user (a distroless nonroot image); numeric, so that runAsNonRoot can be verified. */
const EPP_USER = 65532;
/** The llm-d-router chart's grace period: in-flight ext-proc streams last as long as their requests. */
const EPP_GRACE_SECONDS = 130;
/** The picker's engine type names with a built-in metric mapping in the pinned release (others are declared). */
const BUILT_IN_ENGINE_TYPES: readonly string[] = ['vllm', 'sglang', 'trtllm-serve', 'triton-tensorrt-llm', 'triton'];

const PLUGIN = {
  queue: 'queue-scorer',
  kvCache: 'kv-cache-utilization-scorer',
  prefixCache: 'prefix-cache-scorer',
  metricsSource: 'metrics-data-source',
  metricsExtractor: 'core-metrics-extractor',
} as const;

export interface EppPlugin { name?: string; type: string; parameters?: Record<string, unknown> }
export interface EppSchedulingProfile { name: string; plugins: { pluginRef: string; weight: number }[] }
/** The EndpointPickerConfig the picker loads (apix/config/v1alpha1 of llm-d-router). */
export interface EndpointPickerConfig {
  apiVersion: typeof EPP_CONFIG_API_VERSION;
  kind: 'EndpointPickerConfig';
  featureGates?: string[];
  plugins: EppPlugin[];
  schedulingProfiles: EppSchedulingProfile[];
}

export const buildEndpointPickerName = (lfmd: LfmDeployment): string => `${lfmd.metadata.name}-epp`;
const namespaceOf = (lfmd: LfmDeployment): string => lfmd.metadata.namespace ?? 'default';

// ---- Whether the engine caches prefixes --------------------------------------------------------------------------

/** An engine's prefix caching: the boolean flag that sets it, whether the flag turns it on, and its default. */
interface PrefixCacheRule { flag: string; turnsOn: boolean; byDefault: (plan: Plan) => boolean }

/** Hybrid models (attention plus convolution or state-space layers, such as LFM2) keep a per-sequence state. */
const isHybrid = (plan: Plan): boolean => (plan.model?.architecture.convLayers ?? 0) > 0;

/** From ../shared/engines/*.json (the flags' notes). */
const PREFIX_CACHE: Readonly<Record<EngineName, PrefixCacheRule>> = {
  // On for generation models, off by default for hybrid models (still experimental there): arg_utils _set_default_args.
  VLLM: { flag: '--enable-prefix-caching', turnsOn: true, byDefault: (plan) => !isHybrid(plan) },
  // RadixAttention prefix caching is on unless --disable-radix-cache.
  SGLang: { flag: '--disable-radix-cache', turnsOn: false, byDefault: () => true },
  // Each slot keeps its prompt's KV and reuses the common prefix of the next one (--cache-prompt, on by default).
  LlamaCpp: { flag: '--cache-prompt', turnsOn: true, byDefault: () => true },
};

/** The last setting of a boolean flag in args (--flag, --no-flag or a negative form), or undefined when unset. */
function readBooleanFlag(engine: Engine, args: readonly string[], flag: string): boolean | undefined {
  let value: boolean | undefined;
  for (const token of args) {
    const name = token.split('=')[0] ?? token;
    const found = findFlag(engine.table, name);
    if (found?.name !== flag) continue;
    value = !(name.startsWith('--no-') || (found.spec.negativeForms ?? []).includes(name));
  }
  return value;
}

/** Whether the engine will reuse cached prompt prefixes for this model, as its defaults and spec.engine.extraArgs say. */
export function computePrefixCaching(lfmd: LfmDeployment, plan: Plan): boolean {
  const engineName = lfmd.spec.engine.name;
  const rule = PREFIX_CACHE[engineName];
  const set = readBooleanFlag(ENGINES[engineName], lfmd.spec.engine.extraArgs ?? [], rule.flag);
  return set === undefined ? rule.byDefault(plan) : set === rule.turnsOn;
}

/** The profile in effect: Auto is Default when the engine caches prefixes for this model, else LoadOnly. */
export function resolveEppProfile(lfmd: LfmDeployment, plan: Plan): Exclude<EppProfile, 'Auto'> {
  const profile = lfmd.spec.routing?.inferencePool.endpointPicker.profile ?? 'Auto';
  if (profile !== 'Auto') return profile;
  return computePrefixCaching(lfmd, plan) ? 'Default' : 'LoadOnly';
}

// ---- The endpoint picker's configuration -------------------------------------------------------------------------

/**
 * core-metrics-extractor's parameters: the engine type of unlabelled pods, and for an engine without a built-in
 * mapping (llama.cpp) its queue and running gauges (and KV usage if it has one; an empty spec is skipped).
 */
function buildExtractorParameters(engine: Engine): Record<string, unknown> {
  const engineType = EPP_ENGINE_TYPES[engine.name];
  if (BUILT_IN_ENGINE_TYPES.includes(engineType)) return { defaultEngine: engineType };
  const mapping = {
    name: engineType,
    queuedRequestsSpec: engine.metrics.queueDepth,
    runningRequestsSpec: engine.metrics.running,
    ...(engine.metrics.kvCacheUsage ? { kvUsageSpec: engine.metrics.kvCacheUsage } : {}),
  };
  return { defaultEngine: engineType, engineConfigs: [mapping] };
}

/**
 * The scorers and their weights, the llm-d-router chart's default profile (queue 2, KV-cache utilization 2, prefix
 * cache 3): the KV scorer only for an engine that exports KV usage (otherwise every pod scores alike), the
 * prefix-cache scorer only with the Default profile.
 */
function buildScorers(engine: Engine, profile: Exclude<EppProfile, 'Auto'>): { type: string; weight: number }[] {
  return [
    { type: PLUGIN.queue, weight: 2 },
    ...(engine.metrics.kvCacheUsage ? [{ type: PLUGIN.kvCache, weight: 2 }] : []),
    ...(profile === 'Default' ? [{ type: PLUGIN.prefixCache, weight: 3 }] : []),
  ];
}

/**
 * The EndpointPickerConfig of a deployment. The picker fills in the rest: the single-profile handler, the
 * max-score picker, the parsers (OpenAI, Anthropic, vLLM HTTP), the data layer source wiring the metrics source to the
 * extractor, the approximate prefix producer, and the flow-control policies.
 */
export function renderEndpointPickerConfig(lfmd: LfmDeployment, plan: Plan, options: RoutingRenderOptions = {}): EndpointPickerConfig {
  const engine = ENGINES[lfmd.spec.engine.name];
  const scorers = buildScorers(engine, resolveEppProfile(lfmd, plan));
  return {
    apiVersion: EPP_CONFIG_API_VERSION,
    kind: 'EndpointPickerConfig',
    ...(options.flowControl ? { featureGates: ['flowControl'] } : {}),
    plugins: [
      ...scorers.map((s) => ({ type: s.type })),
      // The engines serve plain HTTP /metrics on their port (the pool's target port).
      { type: PLUGIN.metricsSource, parameters: { scheme: 'http', path: '/metrics' } },
      { type: PLUGIN.metricsExtractor, parameters: buildExtractorParameters(engine) },
    ],
    schedulingProfiles: [{ name: 'default', plugins: scorers.map((s) => ({ pluginRef: s.type, weight: s.weight })) }],
  };
}

export function renderEndpointPickerConfigText(lfmd: LfmDeployment, plan: Plan, options: RoutingRenderOptions = {}): string {
  return stringify(renderEndpointPickerConfig(lfmd, plan, options), { lineWidth: 0 });
}

/** FNV-1a of a text, as 8 hex digits: a stable fingerprint (no crypto in a pure layer). */
function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

// ---- The endpoint picker's objects --------------------------------------------------------------------------------

function buildRoutingLabels(lfmd: LfmDeployment, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/instance': lfmd.metadata.name,
    'app.kubernetes.io/managed-by': 'lfm-operator',
    'app.kubernetes.io/name': 'lfmdeployment',
    [LABEL_ROUTING]: lfmd.metadata.name,
  };
}

/** The picker's labels: never serving.lfm-operator.io/deployment, which the engine Service, PDB and autoscaler select. */
export function buildEndpointPickerLabels(lfmd: LfmDeployment): Record<string, string> {
  return { ...buildRoutingLabels(lfmd, 'endpoint-picker'), [LABEL_ENDPOINT_PICKER]: lfmd.metadata.name };
}

const buildEndpointPickerSelector = (lfmd: LfmDeployment): Record<string, string> => ({ [LABEL_ENDPOINT_PICKER]: lfmd.metadata.name });

function buildMetadata(lfmd: LfmDeployment, name: string, labels: Record<string, string>): V1ObjectMeta & { name: string } {
  const owner = buildOwnerReference(lfmd);
  return { name, ...(lfmd.metadata.namespace ? { namespace: lfmd.metadata.namespace } : {}), labels, ...(owner ? { ownerReferences: owner } : {}) };
}

/**
 * The picker's command line (the image's entrypoint is /app/epp). Every flag is one the pinned release defines; the
 * ports are its defaults, written out because the pool, the Service and the probes name them.
 */
export function buildEndpointPickerArgs(lfmd: LfmDeployment): string[] {
  const args = [
    '--pool-name', lfmd.metadata.name,
    '--pool-namespace', namespaceOf(lfmd),
    '--pool-group', ROUTING_KINDS.inferencePool.group,
    '--config-file', EPP_CONFIG_FILE,
    '--grpc-port', String(EPP_PORTS.extProc),
    '--grpc-health-port', String(EPP_PORTS.grpcHealth),
    '--metrics-port', String(EPP_PORTS.metrics),
    // /metrics without authentication. With it (the default), every scrape needs a token the picker checks through
    // TokenReviews and SubjectAccessReviews, which takes a ClusterRoleBinding to system:auth-delegator per deployment:
    // a cluster-scoped grant that owner references cannot remove. The metrics are queue sizes and scores, cluster-internal.
    '--metrics-endpoint-auth=false',
    // No OpenTelemetry collector is configured: without this the picker keeps trying to export traces.
    '--tracing=false',
  ];
  // Active-passive above one replica: only the leader is Ready (the Service reaches the leader only).
  if (lfmd.spec.routing!.inferencePool.endpointPicker.replicas > 1) args.push('--ha-enable-leader-election');
  return args;
}

/** The picker's Role: read the pods and the pool, the objectives and rewrites (both groups); leases with leader election. */
export function buildEndpointPickerRules(replicas: number): V1PolicyRule[] {
  const read = ['get', 'list', 'watch'];
  const rules: V1PolicyRule[] = [
    { apiGroups: [''], resources: ['pods'], verbs: [...read] },
    { apiGroups: [ROUTING_KINDS.inferencePool.group], resources: ['inferencepools'], verbs: [...read] },
    { apiGroups: ['llm-d.ai', 'inference.networking.x-k8s.io'], resources: ['inferenceobjectives', 'inferencemodelrewrites'], verbs: [...read] },
  ];
  if (replicas > 1) {
    rules.push(
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    );
  }
  return rules;
}

/**
 * gRPC health checks on the health port. Without leader election every service name gets the same check (the chart
 * asks for inference-extension); with it, liveness answers SERVING always and readiness only on the leader.
 */
function renderEndpointPickerProbes(replicas: number): { livenessProbe: V1Probe; readinessProbe: V1Probe } {
  const service = (name: string) => (replicas > 1 ? name : 'inference-extension');
  return {
    livenessProbe: { grpc: { port: EPP_PORTS.grpcHealth, service: service('liveness') }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    readinessProbe: { grpc: { port: EPP_PORTS.grpcHealth, service: service('readiness') }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
  };
}

export function renderEndpointPickerDeployment(lfmd: LfmDeployment, configText: string): V1Deployment {
  const name = buildEndpointPickerName(lfmd);
  const picker = lfmd.spec.routing!.inferencePool.endpointPicker;
  const labels = buildEndpointPickerLabels(lfmd);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: buildMetadata(lfmd, name, labels),
    spec: {
      replicas: picker.replicas,
      selector: { matchLabels: buildEndpointPickerSelector(lfmd) },
      // A rolling update would not remove the old leader; with one replica the gateway fails open meanwhile (by default).
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 3,
      template: {
        metadata: { labels: { ...labels }, annotations: { [ANNOTATION_EPP_CONFIG_HASH]: hashText(configText) } },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: EPP_GRACE_SECONDS,
          securityContext: { runAsNonRoot: true, runAsUser: EPP_USER, runAsGroup: EPP_USER, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'epp',
            image: picker.image,
            imagePullPolicy: 'IfNotPresent',
            args: buildEndpointPickerArgs(lfmd),
            env: [
              { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
            ports: [
              { name: 'grpc', containerPort: EPP_PORTS.extProc, protocol: 'TCP' },
              { name: 'grpc-health', containerPort: EPP_PORTS.grpcHealth, protocol: 'TCP' },
              { name: 'metrics', containerPort: EPP_PORTS.metrics, protocol: 'TCP' },
            ],
            ...renderEndpointPickerProbes(picker.replicas),
            // KServe's size for a per-model picker (the llm-d chart's 8 CPU / 8Gi is for a shared, high-rate one).
            // Its disk: logs and a /tmp of at most 256Mi (the self-signed serving certificate). No CPU limit: it sits on
            // every request's path, where a CFS quota would show as latency.
            resources: { requests: { cpu: '1', memory: '2Gi', 'ephemeral-storage': '512Mi' }, limits: { memory: '4Gi', 'ephemeral-storage': '512Mi' } },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true },
            volumeMounts: [{ name: 'config', mountPath: EPP_CONFIG_DIR, readOnly: true }, { name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'config', configMap: { name } }, { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }],
        },
      },
    },
  };
}

export function renderEndpointPickerService(lfmd: LfmDeployment): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: buildMetadata(lfmd, buildEndpointPickerName(lfmd), buildEndpointPickerLabels(lfmd)),
    spec: {
      type: 'ClusterIP',
      selector: buildEndpointPickerSelector(lfmd),
      ports: [
        { name: 'grpc-ext-proc', port: EPP_PORTS.extProc, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
        { name: 'http-metrics', port: EPP_PORTS.metrics, targetPort: 'metrics', protocol: 'TCP' },
      ],
    },
  };
}

function renderEndpointPickerRbac(lfmd: LfmDeployment): { serviceAccount: V1ServiceAccount; role: V1Role; roleBinding: V1RoleBinding } {
  const name = buildEndpointPickerName(lfmd);
  const labels = buildEndpointPickerLabels(lfmd);
  return {
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: buildMetadata(lfmd, name, labels) },
    role: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: buildMetadata(lfmd, name, labels), rules: buildEndpointPickerRules(lfmd.spec.routing!.inferencePool.endpointPicker.replicas) },
    roleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: buildMetadata(lfmd, name, labels),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: namespaceOf(lfmd) }],
    },
  };
}

// ---- The pool, the objectives and the route -----------------------------------------------------------------------

/** The InferencePool named as the resource: exactly the engine pods (the Deployment's selector), on the engine's port. */
export function renderInferencePool(lfmd: LfmDeployment): RoutingObject {
  const name = lfmd.metadata.name;
  return {
    apiVersion: `${ROUTING_KINDS.inferencePool.group}/${ROUTING_KINDS.inferencePool.version}`,
    kind: ROUTING_KINDS.inferencePool.kind,
    metadata: buildMetadata(lfmd, name, buildRoutingLabels(lfmd, 'inference-pool')),
    spec: {
      selector: { matchLabels: buildSelectorLabels(name) },
      targetPorts: [{ number: ENGINES[lfmd.spec.engine.name].port }],
      // The picker's ext-proc Service port (9002), never the engine's.
      endpointPickerRef: { name: buildEndpointPickerName(lfmd), port: { number: EPP_PORTS.extProc }, failureMode: lfmd.spec.routing!.inferencePool.endpointPicker.failureMode },
    },
  };
}

export function renderInferenceObjectives(lfmd: LfmDeployment): RoutingObject[] {
  const pool = ROUTING_KINDS.inferencePool;
  return (lfmd.spec.routing?.objectives ?? []).map((o) => ({
    apiVersion: `${ROUTING_KINDS.inferenceObjective.group}/${ROUTING_KINDS.inferenceObjective.version}`,
    kind: ROUTING_KINDS.inferenceObjective.kind,
    metadata: buildMetadata(lfmd, o.name, buildRoutingLabels(lfmd, 'inference-objective')),
    spec: { priority: o.priority, poolRef: { group: pool.group, kind: pool.kind, name: lfmd.metadata.name } },
  }));
}

/** The HTTPRoute named as the resource: every path of its parents to the pool (group and kind set: they default to Service). */
export function renderHttpRoute(lfmd: LfmDeployment): RoutingObject | undefined {
  const route = lfmd.spec.routing?.httpRoute;
  if (!route) return undefined;
  const pool = ROUTING_KINDS.inferencePool;
  return {
    apiVersion: `${ROUTING_KINDS.httpRoute.group}/${ROUTING_KINDS.httpRoute.version}`,
    kind: ROUTING_KINDS.httpRoute.kind,
    metadata: buildMetadata(lfmd, lfmd.metadata.name, buildRoutingLabels(lfmd, 'http-route')),
    spec: {
      parentRefs: route.parentRefs.map((p) => ({
        ...(p.group !== undefined ? { group: p.group } : {}),
        ...(p.kind !== undefined ? { kind: p.kind } : {}),
        ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
        name: p.name,
        ...(p.sectionName !== undefined ? { sectionName: p.sectionName } : {}),
        ...(p.port !== undefined ? { port: p.port } : {}),
      })),
      rules: [{
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        // No port: it is required for Service backends only; the pool's target ports apply.
        backendRefs: [{ group: pool.group, kind: pool.kind, name: lfmd.metadata.name }],
        // 0s: no request timeout (or the gateway's longest): a generation streams for minutes, and with flow control a
        // request waits in the picker; a gateway default of 15 to 30 seconds would cut both.
        timeouts: { request: '0s' },
      }],
    },
  };
}

// ---- All of it ----------------------------------------------------------------------------------------------------

const asObject = (o: { apiVersion?: string; kind?: string; metadata?: V1ObjectMeta }): RoutingObject => o as RoutingObject;

/** The endpoint picker's objects, in apply order (identity and permissions, configuration, Service, then pods). */
function renderEndpointPickerChildren(lfmd: LfmDeployment, plan: Plan, options: RoutingRenderOptions): RoutingChildren {
  const configText = renderEndpointPickerConfigText(lfmd, plan, options);
  const rbac = renderEndpointPickerRbac(lfmd);
  const name = buildEndpointPickerName(lfmd);
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: buildMetadata(lfmd, name, buildEndpointPickerLabels(lfmd)),
    data: { [EPP_CONFIG_KEY]: configText },
  };
  const k = ENDPOINT_PICKER_KINDS;
  const child = (type: RoutingResourceType, object: RoutingObject): RoutingChild => ({ type, object, needs: ['inferencePool'] });
  return [
    child(k.serviceAccount, asObject(rbac.serviceAccount)),
    child(k.role, asObject(rbac.role)),
    child(k.roleBinding, asObject(rbac.roleBinding)),
    child(k.configMap, asObject(configMap)),
    child(k.service, asObject(renderEndpointPickerService(lfmd))),
    child(k.deployment, asObject(renderEndpointPickerDeployment(lfmd, configText))),
  ];
}

/**
 * The request path of a deployment: with spec.routing.inferencePool.enabled, the endpoint picker's objects, the
 * InferencePool, the InferenceObjectives and the HTTPRoute (when parentRefs are set); otherwise none (the controller
 * prunes what it applied before). Deterministic: same input, same output.
 */
export function renderRoutingChildren(lfmd: LfmDeployment, plan: Plan, options: RoutingRenderOptions = {}): RoutingChildren {
  if (!isRoutingEnabled(lfmd)) return [];
  const route = renderHttpRoute(lfmd);
  return [
    ...renderEndpointPickerChildren(lfmd, plan, options),
    { type: ROUTING_KINDS.inferencePool, object: renderInferencePool(lfmd), needs: ['inferencePool'] },
    ...renderInferenceObjectives(lfmd).map((object): RoutingChild => ({ type: ROUTING_KINDS.inferenceObjective, object, needs: ['inferencePool', 'inferenceObjective'] })),
    ...(route ? [{ type: ROUTING_KINDS.httpRoute, object: route, needs: ['inferencePool', 'httpRoute'] } satisfies RoutingChild] : []),
  ];
}
