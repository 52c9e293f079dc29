// Pure. Renders the desired children of an LfmDeployment (Deployment, Service, PodDisruptionBudget) from its spec and
// plan; performs no I/O. Deterministic: same input, byte-identical output (sorted env and maps, fixed arg order).
import type { V1Affinity, V1Deployment, V1NodeSelectorRequirement, V1EnvVar, V1OwnerReference, V1PodDisruptionBudget, V1PodSecurityContext, V1Probe, V1ResourceRequirements, V1SecurityContext, V1Service, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { MODEL_CACHE_PATH, parseModelSource } from '../api/model-source.js';
import { API_VERSION, ENGINE_SECURITY_DEFAULTS, KIND, type EngineName, type LfmDeployment } from '../api/v1alpha1.js';
import { GPU_LABELS, GPU_RESOURCE, GPU_TOLERATION } from '../catalog/gpus.js';
import { ENGINE_CACHE_PATH, ENGINES, type Engine } from '../engines/index.js';
import { GiB, computeWeightBytes } from '../sizing/fit.js';
import type { Plan } from '../sizing/plan.js';

export const LABEL_DEPLOYMENT = 'serving.lfm-operator.io/deployment';
export const LABEL_ENGINE = 'serving.lfm-operator.io/engine';
export const SERVICE_PORT = 8000;
export const FIELD_MANAGER = 'lfm-operator';
export const AUTOSCALER_FIELD_MANAGER = 'lfm-autoscaler';

export interface RenderOptions {
  /** Images per engine from the operator's configuration (default: the pinned ones). */
  images?: Partial<Record<EngineName, string>>;
  /** Images per engine for pods on a GPU, where the engine has a separate GPU build (llama.cpp's CUDA image). */
  gpuImages?: Partial<Record<EngineName, string>>;
  /** Replicas of the Deployment as observed (sizes the PDB when autoscaling owns the count). */
  observedReplicas?: number;
}

export interface DesiredChildren {
  deployment: V1Deployment;
  service: V1Service;
  /** Absent below 2 replicas: a PDB there could only block node drains. */
  podDisruptionBudget?: V1PodDisruptionBudget;
}

export function buildSelectorLabels(name: string): Record<string, string> {
  return { [LABEL_DEPLOYMENT]: name };
}

export function buildLabels(lfmd: LfmDeployment): Record<string, string> {
  return {
    'app.kubernetes.io/component': 'engine',
    'app.kubernetes.io/instance': lfmd.metadata.name,
    'app.kubernetes.io/managed-by': 'lfm-operator',
    'app.kubernetes.io/name': 'lfmdeployment',
    [LABEL_ENGINE]: lfmd.spec.engine.name.toLowerCase(),
    ...buildSelectorLabels(lfmd.metadata.name),
  };
}

/** The pod label the endpoint picker reads to choose an engine's metric mapping (core-metrics-extractor engineLabelKey). */
export const LABEL_EPP_ENGINE_TYPE = 'llm-d.ai/engine-type';
/** Its value per engine: the picker's built-in vllm and sglang mappings, and the llamacpp mapping src/render/routing.ts declares. */
export const EPP_ENGINE_TYPES: Readonly<Record<EngineName, string>> = { VLLM: 'vllm', SGLang: 'sglang', LlamaCpp: 'llamacpp' };

export function isRoutingEnabled(lfmd: LfmDeployment): boolean {
  return lfmd.spec.routing?.inferencePool.enabled === true;
}

/** The engine pods' labels for the endpoint picker: only with routing on, so that pods without routing stay as they were. */
function buildRoutingPodLabels(lfmd: LfmDeployment): Record<string, string> {
  return isRoutingEnabled(lfmd) ? { [LABEL_EPP_ENGINE_TYPE]: EPP_ENGINE_TYPES[lfmd.spec.engine.name] } : {};
}

export function buildOwnerReference(lfmd: LfmDeployment): V1OwnerReference[] | undefined {
  const uid = lfmd.metadata['uid'];
  if (typeof uid !== 'string') return undefined;
  return [{ apiVersion: API_VERSION, kind: KIND, name: lfmd.metadata.name, uid, controller: true, blockOwnerDeletion: true }];
}

/** spec.replicas with the operator's default: absent means 1 (DESIGN.md §2: no schema default). */
export function computeDesiredReplicas(lfmd: LfmDeployment): number | undefined {
  if (lfmd.spec.autoscaling.enabled) return undefined;
  return lfmd.spec.replicas ?? 1;
}

/** spec.engine.image, else the operator's configured image, else the engine's default (its GPU build with spec.gpu). */
export function computeImage(lfmd: LfmDeployment, options: RenderOptions = {}): string {
  const engine = ENGINES[lfmd.spec.engine.name];
  const fallback = lfmd.spec.gpu && engine.defaultGpuImage ? engine.defaultGpuImage : engine.defaultImage;
  const name = lfmd.spec.engine.name;
  return lfmd.spec.engine.image ?? (lfmd.spec.gpu ? options.gpuImages?.[name] : undefined) ?? options.images?.[name] ?? fallback;
}

export function computeEndpoint(lfmd: LfmDeployment): string {
  return `http://${lfmd.metadata.name}.${lfmd.metadata.namespace ?? 'default'}.svc:${SERVICE_PORT}/v1`;
}

const sortedRecord = (r: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(r ?? {}).sort(([a], [b]) => a.localeCompare(b)));

const gi = (bytes: number) => `${Math.ceil(bytes / GiB)}Gi`;

export interface PodResources {
  cpu: string;
  /** Set when the cpu request is also the limit (spec.cpu.cores: llama-server's --threads match what it gets). */
  cpuLimit?: string;
  memory: string;
  ephemeralStorage: string;
  /** The memory-backed /dev/shm; absent for an engine that needs none (one process, no NCCL) unless spec.resources.shm. */
  shm?: string;
}

/**
 * Host memory of a replica: a GGUF engine's plan says it (memoryGiBPerReplica: weights, KV cache, buffers and prompt
 * cache on CPU; what stays on the host on a GPU); otherwise the weights go through host memory when they load
 * (safetensors are mmapped and copied per rank), plus 16Gi, plus the memory-backed /dev/shm.
 */
function computeMemory(plan: Plan, shm: string | undefined, weightBytes: number): string {
  if (plan.memoryGiBPerReplica !== undefined) return `${Math.ceil(plan.memoryGiBPerReplica * 1024)}Mi`;
  const shmGi = shm?.endsWith('Gi') ? Number.parseInt(shm, 10) || 0 : 0;
  return `${Math.ceil(weightBytes / GiB) + 16 + shmGi}Gi`;
}

/** The memory-backed /dev/shm: 2Gi, 16Gi with more than one GPU; none for an engine that needs none. */
function computeShm(lfmd: LfmDeployment, gpus: number): string | undefined {
  if (lfmd.spec.resources?.shm) return lfmd.spec.resources.shm;
  if (!ENGINES[lfmd.spec.engine.name].sharedMemory) return undefined;
  return gpus > 1 ? '16Gi' : '2Gi';
}

/** Pod requests derived from the plan, each overridable through spec.resources. */
export function computeResources(lfmd: LfmDeployment, plan: Plan): PodResources {
  const r = lfmd.spec.resources ?? {};
  const gpus = plan.gpusPerReplica;
  const shm = computeShm(lfmd, gpus);
  const weights = plan.model && plan.servedFormat ? computeWeightBytes(plan.model.architecture, plan.servedFormat) : { expert: 0, nonExpert: 0 };
  const downloads = (lfmd.spec.model.cache?.type ?? 'None') === 'None' && lfmd.spec.model.source.startsWith('hf://');
  const checkpoint = plan.model?.weightFileBytes ?? (weights.expert + weights.nonExpert);
  const cores = lfmd.spec.cpu ? String(lfmd.spec.cpu.cores) : undefined;
  return {
    cpu: r.cpu ?? cores ?? String(Math.max(8, 4 * gpus)),
    ...(cores && !r.cpu ? { cpuLimit: cores } : {}),
    memory: r.memory ?? computeMemory(plan, shm, weights.expert + weights.nonExpert),
    ephemeralStorage: r.ephemeralStorage ?? (downloads ? gi(checkpoint + 10 * GiB) : '10Gi'),
    ...(shm ? { shm } : {}),
  };
}

/**
 * Requests and limits: the GPUs only when the replica has some; cpu as a limit too when spec.cpu sets the cores (a GPU
 * engine gets none: its CPU threads feed the GPU, and a CFS quota would throttle them into token latency; README
 * "Security"); ephemeral storage as a limit too, so that the caches and /tmp together cannot fill the node's disk.
 */
function renderResourceRequirements(resources: PodResources, gpusPerReplica: number): V1ResourceRequirements {
  const gpus: Record<string, string> = gpusPerReplica > 0 ? { [GPU_RESOURCE]: String(gpusPerReplica) } : {};
  const cpuLimit: Record<string, string> = resources.cpuLimit ? { cpu: resources.cpuLimit } : {};
  const storage = { 'ephemeral-storage': resources.ephemeralStorage };
  return {
    requests: { cpu: resources.cpu, memory: resources.memory, ...storage, ...gpus },
    limits: { ...cpuLimit, memory: resources.memory, ...storage, ...gpus },
  };
}

function renderProbe(engine: Engine, path: string, period: number, failureThreshold: number, timeout: number): V1Probe {
  return { httpGet: { path, port: 'http' }, periodSeconds: period, failureThreshold, timeoutSeconds: timeout };
}

/** A preStop hook that keeps the pod serving until its engine reports no running or waiting requests. */
function buildDrainCommand(engine: Engine, seconds: number): string[] {
  return engine.drainRuntime === 'sh'
    ? ['sh', '-c', buildShellDrainScript(engine, engine.port, seconds)]
    : ['python3', '-c', buildDrainScript(engine, engine.port, seconds)];
}

/** The drain loop for an image without Python (llama.cpp's server images have sh and curl). */
function buildShellDrainScript(engine: Engine, port: number, seconds: number): string {
  const names = [engine.metrics.running, engine.metrics.queueDepth].map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|');
  return [
    `deadline=$(( $(date +%s) + ${seconds} ))`,
    'while [ "$(date +%s)" -lt "$deadline" ]; do',
    `  text=$(curl -sf --max-time 2 http://127.0.0.1:${port}/metrics) || break`,
    `  busy=$(printf '%s\\n' "$text" | awk '$1 ~ /^(${names})(\\{.*\\})?$/ { s += $NF } END { print s + 0 }')`,
    '  [ "$busy" = 0 ] && break',
    '  sleep 2',
    'done',
  ].join('\n');
}

/** The drain loop in the engine image's Python. */
function buildDrainScript(engine: Engine, port: number, seconds: number): string {
  const names = [engine.metrics.running, engine.metrics.queueDepth].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')).join('|');
  return [
    'import re, time, urllib.request',
    `deadline = time.time() + ${seconds}`,
    'while time.time() < deadline:',
    '    try:',
    `        text = urllib.request.urlopen("http://127.0.0.1:${port}/metrics", timeout=2).read().decode()`,
    '    except Exception:',
    '        break',
    `    busy = sum(float(v) for v in re.findall(r"^(?:${names})(?:\\{[^}]*\\})? ([0-9.eE+-]+)$", text, re.M))`,
    '    if busy == 0:',
    '        break',
    '    time.sleep(2)',
  ].join('\n');
}

/** The GPU taint is tolerated only by pods that request GPUs; the user's tolerations in any case. */
function renderTolerations(lfmd: LfmDeployment): V1Toleration[] {
  return [...(lfmd.spec.gpu ? [{ ...GPU_TOLERATION }] : []), ...(lfmd.spec.placement?.tolerations ?? [])];
}

/**
 * The engine container's environment: HOME and the caches in the cache volume (the root file system is read-only),
 * the engine's own variables and caches, the user's, the token.
 */
function renderEnv(lfmd: LfmDeployment, container: { env: V1EnvVar[] }, offline: boolean): V1EnvVar[] {
  const { spec } = lfmd;
  const env: V1EnvVar[] = [
    { name: 'HF_HOME', value: MODEL_CACHE_PATH },
    { name: 'HOME', value: `${ENGINE_CACHE_PATH}/home` },
    { name: 'XDG_CACHE_HOME', value: `${ENGINE_CACHE_PATH}/xdg` },
    ...(offline ? [{ name: 'HF_HUB_OFFLINE', value: '1' }] : []),
    ...ENGINES[spec.engine.name].runtimeEnv,
    ...container.env,
    ...(spec.engine.env ?? []),
  ];
  if (spec.model.credentials) {
    env.push({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: spec.model.credentials.secretName, key: spec.model.credentials.key } } });
  }
  env.sort((a, b) => a.name.localeCompare(b.name));
  return env;
}

/**
 * The pod's volumes and the engine's mounts: shared memory, /tmp, the cache (HOME and every cache the engine writes),
 * a claim cache, a model claim. Nothing else is writable: the root file system is read-only.
 */
function renderVolumes(lfmd: LfmDeployment, resources: { shm?: string; ephemeralStorage: string }, pvcCache: string | undefined): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [
    ...(resources.shm ? [{ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: resources.shm } }] : []),
    { name: 'tmp', emptyDir: {} },
    { name: 'cache', emptyDir: { sizeLimit: resources.ephemeralStorage } },
  ];
  const mounts: V1VolumeMount[] = [
    ...(resources.shm ? [{ name: 'dshm', mountPath: '/dev/shm' }] : []),
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'cache', mountPath: ENGINE_CACHE_PATH },
  ];
  if (pvcCache) {
    volumes.push({ name: 'model-cache', persistentVolumeClaim: { claimName: pvcCache, readOnly: true } });
    mounts.push({ name: 'model-cache', mountPath: MODEL_CACHE_PATH, readOnly: true });
  }
  const location = parseModelSource(lfmd.spec.model.source);
  if (location.claimName && location.mountPath) {
    volumes.push({ name: 'model', persistentVolumeClaim: { claimName: location.claimName, readOnly: true } });
    mounts.push({ name: 'model', mountPath: location.mountPath, readOnly: true });
  }
  return { volumes, mounts };
}

/**
 * The user's affinity with the GPU product required in every node selector term; without spec.gpu, no GPU product
 * (DoesNotExist), so that a CPU replica never takes the memory of a GPU node.
 */
function renderAffinity(lfmd: LfmDeployment, plan: Plan): V1Affinity {
  const placement = lfmd.spec.placement ?? {};
  const gpuTerm: V1NodeSelectorRequirement = lfmd.spec.gpu
    ? { key: GPU_LABELS.product, operator: 'In', values: [plan.gpu?.productLabel ?? lfmd.spec.gpu.type] }
    : { key: GPU_LABELS.product, operator: 'DoesNotExist' };
  const userAffinity = (placement.affinity ?? {}) as Record<string, unknown> & { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchExpressions?: V1NodeSelectorRequirement[] }[] } } };
  const userTerms = userAffinity.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [{}];
  // Node selector terms are ORed; the GPU product is ANDed into each so no term escapes it.
  const nodeSelectorTerms = userTerms.map((t) => ({ ...t, matchExpressions: [gpuTerm, ...(t.matchExpressions ?? [])] }));
  const affinity: V1Affinity = {
    ...userAffinity,
    nodeAffinity: { ...userAffinity.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } },
  };
  return affinity;
}

/**
 * The engine pod's posture (spec.security, README "Security"): a non-root UID and GID above 10000 unless runAsRoot, a
 * read-only root file system unless relaxed, and always: no privilege escalation, every capability dropped (the
 * operator renders no option that needs one), seccomp RuntimeDefault.
 */
function renderSecurityContexts(lfmd: LfmDeployment): { pod: V1PodSecurityContext; container: V1SecurityContext } {
  const security = lfmd.spec.security ?? {};
  const root = security.runAsRoot === true;
  const identity = root
    ? { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0 }
    : { runAsNonRoot: true, runAsUser: security.runAsUser ?? ENGINE_SECURITY_DEFAULTS.runAsUser, runAsGroup: security.runAsGroup ?? ENGINE_SECURITY_DEFAULTS.runAsGroup };
  return {
    pod: { ...identity, fsGroup: security.fsGroup ?? ENGINE_SECURITY_DEFAULTS.fsGroup, seccompProfile: { type: 'RuntimeDefault' } },
    container: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: security.readOnlyRootFilesystem ?? true,
    },
  };
}

export function renderDeployment(lfmd: LfmDeployment, plan: Plan, options: RenderOptions = {}): V1Deployment {
  const { spec } = lfmd;
  const name = lfmd.metadata.name;
  const engine = ENGINES[spec.engine.name];
  const location = parseModelSource(spec.model.source);
  const servedName = spec.model.servedName ?? name;
  const container = engine.buildContainer(spec, plan, location, servedName);
  const resources = computeResources(lfmd, plan);
  const pvcCache = spec.model.cache?.type === 'PersistentVolumeClaim' ? spec.model.cache.claimName : undefined;

  const env = renderEnv(lfmd, container, pvcCache !== undefined);
  const { volumes, mounts } = renderVolumes(lfmd, resources, pvcCache);
  const placement = spec.placement ?? {};
  const affinity = renderAffinity(lfmd, plan);
  const tolerations = renderTolerations(lfmd);
  const security = renderSecurityContexts(lfmd);

  const startupFailures = Math.ceil(spec.serving.startupTimeoutSeconds / 10);
  const replicas = computeDesiredReplicas(lfmd);
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: lfmd.metadata.namespace, labels: buildLabels(lfmd), ownerReferences: buildOwnerReference(lfmd) },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: buildSelectorLabels(name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: spec.rollout.maxSurge, maxUnavailable: spec.rollout.maxUnavailable } },
      progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds ?? spec.serving.startupTimeoutSeconds + 600,
      revisionHistoryLimit: 3,
      template: {
        metadata: {
          labels: { ...sortedRecord(spec.podMetadata?.labels), ...buildLabels(lfmd), ...buildRoutingPodLabels(lfmd) },
          ...(spec.podMetadata?.annotations ? { annotations: sortedRecord(spec.podMetadata.annotations) } : {}),
        },
        spec: {
          // A Service named like the engine injects e.g. VLLM_PORT=tcp://..., which crashes vLLM (vllm#34199).
          enableServiceLinks: false,
          // The engines never call the Kubernetes API: no token for a compromised engine to use.
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: spec.serving.drainSeconds + 30,
          ...(placement.nodeSelector && Object.keys(placement.nodeSelector).length > 0
            ? { nodeSelector: Object.fromEntries(Object.entries(placement.nodeSelector).sort(([a], [b]) => a.localeCompare(b))) }
            : {}),
          affinity,
          ...(tolerations.length > 0 ? { tolerations } : {}),
          ...(placement.priorityClassName ? { priorityClassName: placement.priorityClassName } : {}),
          securityContext: security.pod,
          containers: [{
            name: 'engine',
            image: computeImage(lfmd, options),
            ...(container.command ? { command: container.command } : {}),
            args: container.args,
            env,
            ports: [{ name: 'http', containerPort: engine.port, protocol: 'TCP' }],
            resources: renderResourceRequirements(resources, plan.gpusPerReplica),
            startupProbe: renderProbe(engine, engine.startupProbePath, 10, startupFailures, 5),
            readinessProbe: renderProbe(engine, engine.readinessProbePath, engine.readinessProbeTiming.periodSeconds, 3, engine.readinessProbeTiming.timeoutSeconds),
            livenessProbe: renderProbe(engine, engine.livenessProbePath, 10, 6, 5),
            lifecycle: { preStop: { exec: { command: buildDrainCommand(engine, spec.serving.drainSeconds) } } },
            securityContext: security.container,
            volumeMounts: mounts,
          }],
          volumes,
        },
      },
    },
  };
  return deployment;
}

/** Whether the deployment scales to zero: a selectorless Service and an operator-managed EndpointSlice (render/endpoints.ts). */
export function isScaleToZero(lfmd: LfmDeployment): boolean {
  const a = lfmd.spec.autoscaling;
  return a.enabled && a.minReplicas === 0 && a.scaleToZero !== undefined;
}

export function renderService(lfmd: LfmDeployment): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: lfmd.metadata.name, namespace: lfmd.metadata.namespace, labels: buildLabels(lfmd), ownerReferences: buildOwnerReference(lfmd) },
    spec: {
      type: 'ClusterIP',
      // Scale to zero: no selector; the operator's EndpointSlice (render/endpoints.ts) points at the Ready engine pods,
      // or at the activator while there is none.
      ...(isScaleToZero(lfmd) ? {} : { selector: buildSelectorLabels(lfmd.metadata.name) }),
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }],
    },
  };
}

export function renderPodDisruptionBudget(lfmd: LfmDeployment): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: lfmd.metadata.name, namespace: lfmd.metadata.namespace, labels: buildLabels(lfmd), ownerReferences: buildOwnerReference(lfmd) },
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: buildSelectorLabels(lfmd.metadata.name) },
      // Evict pods that never became ready (a model that fails to load) so node drains are never blocked.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}

export function renderChildren(lfmd: LfmDeployment, plan: Plan, options: RenderOptions = {}): DesiredChildren {
  const replicas = computeDesiredReplicas(lfmd) ?? options.observedReplicas ?? lfmd.spec.autoscaling.minReplicas;
  const children: DesiredChildren = { deployment: renderDeployment(lfmd, plan, options), service: renderService(lfmd) };
  if (replicas >= 2) children.podDisruptionBudget = renderPodDisruptionBudget(lfmd);
  return children;
}
