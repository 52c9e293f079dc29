// Pure. Renders the desired children of an LfmDeployment (Deployment, Service, PodDisruptionBudget) from its spec and
// plan; performs no I/O. Deterministic: same input, byte-identical output (sorted env and maps, fixed arg order).
import type { V1Affinity, V1Deployment, V1NodeSelectorRequirement, V1EnvVar, V1OwnerReference, V1PodDisruptionBudget, V1Probe, V1Service, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { parseModelSource } from '../api/model-source.js';
import { API_VERSION, KIND, type EngineName, type LfmDeployment } from '../api/v1alpha1.js';
import { GPU_LABELS, GPU_RESOURCE, GPU_TOLERATION } from '../catalog/gpus.js';
import { ENGINES, type Engine } from '../engines/index.js';
import { GiB, computeWeightBytes } from '../sizing/fit.js';
import type { Plan } from '../sizing/plan.js';

export const LABEL_DEPLOYMENT = 'serving.lfm-operator.io/deployment';
export const LABEL_ENGINE = 'serving.lfm-operator.io/engine';
export const SERVICE_PORT = 8000;
export const FIELD_MANAGER = 'lfm-operator';
export const AUTOSCALER_FIELD_MANAGER = 'lfm-autoscaler';
const CACHE_PATH = '/cache';

export interface RenderOptions {
  /** Images per engine from the operator's configuration (default: the pinned ones). */
  images?: Partial<Record<EngineName, string>>;
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

export function computeImage(lfmd: LfmDeployment, options: RenderOptions = {}): string {
  return lfmd.spec.engine.image ?? options.images?.[lfmd.spec.engine.name] ?? ENGINES[lfmd.spec.engine.name].defaultImage;
}

export function computeEndpoint(lfmd: LfmDeployment): string {
  return `http://${lfmd.metadata.name}.${lfmd.metadata.namespace ?? 'default'}.svc:${SERVICE_PORT}/v1`;
}

const sortedRecord = (r: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(r ?? {}).sort(([a], [b]) => a.localeCompare(b)));

const gi = (bytes: number) => `${Math.ceil(bytes / GiB)}Gi`;

/** Pod requests derived from the plan, each overridable through spec.resources. */
export function computeResources(lfmd: LfmDeployment, plan: Plan): { cpu: string; memory: string; ephemeralStorage: string; shm: string } {
  const r = lfmd.spec.resources ?? {};
  const gpus = plan.gpusPerReplica;
  const shm = r.shm ?? (gpus > 1 ? '16Gi' : '2Gi');
  const shmGi = Number.parseInt(shm, 10) || 0;
  const weights = plan.model && plan.servedFormat ? computeWeightBytes(plan.model.architecture, plan.servedFormat) : { expert: 0, nonExpert: 0 };
  // Loading goes through host memory (safetensors are mmapped and copied per rank); the memory-backed /dev/shm
  // counts against the pod's memory too.
  const memoryGi = Math.ceil((weights.expert + weights.nonExpert) / GiB) + 16 + (shm.endsWith('Gi') ? shmGi : 0);
  const downloads = (lfmd.spec.model.cache?.type ?? 'None') === 'None' && lfmd.spec.model.source.startsWith('hf://');
  const checkpoint = plan.model?.weightFileBytes ?? (weights.expert + weights.nonExpert);
  return {
    cpu: r.cpu ?? String(Math.max(8, 4 * gpus)),
    memory: r.memory ?? `${memoryGi}Gi`,
    ephemeralStorage: r.ephemeralStorage ?? (downloads ? gi(checkpoint + 10 * GiB) : '10Gi'),
    shm,
  };
}

function renderProbe(engine: Engine, path: string, period: number, failureThreshold: number, timeout: number): V1Probe {
  return { httpGet: { path, port: 'http' }, periodSeconds: period, failureThreshold, timeoutSeconds: timeout };
}

/** A preStop hook that keeps the pod serving until its engine reports no running or waiting requests. */
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

function renderTolerations(lfmd: LfmDeployment): V1Toleration[] {
  return [{ ...GPU_TOLERATION }, ...(lfmd.spec.placement?.tolerations ?? [])];
}

/** The engine container's environment: caches under the cache volume, the engine's own, the user's, the token. */
function renderEnv(lfmd: LfmDeployment, container: { env: V1EnvVar[] }, offline: boolean): V1EnvVar[] {
  const { spec } = lfmd;
  const env: V1EnvVar[] = [
    { name: 'HF_HOME', value: `${CACHE_PATH}/huggingface` },
    { name: 'HOME', value: `${CACHE_PATH}/home` },
    { name: 'XDG_CACHE_HOME', value: `${CACHE_PATH}/xdg` },
    ...(offline ? [{ name: 'HF_HUB_OFFLINE', value: '1' }] : []),
    ...container.env,
    ...(spec.engine.env ?? []),
  ];
  if (spec.model.credentials) {
    env.push({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: spec.model.credentials.secretName, key: spec.model.credentials.key } } });
  }
  env.sort((a, b) => a.name.localeCompare(b.name));
  return env;
}

/** The pod's volumes and the engine's mounts: shared memory, /tmp, the cache, a claim cache, a model claim. */
function renderVolumes(lfmd: LfmDeployment, resources: { shm: string; ephemeralStorage: string }, pvcCache: string | undefined): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [
    { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: resources.shm } },
    { name: 'tmp', emptyDir: {} },
    { name: 'cache', emptyDir: { sizeLimit: resources.ephemeralStorage } },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'dshm', mountPath: '/dev/shm' },
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'cache', mountPath: CACHE_PATH },
  ];
  if (pvcCache) {
    volumes.push({ name: 'model-cache', persistentVolumeClaim: { claimName: pvcCache, readOnly: true } });
    mounts.push({ name: 'model-cache', mountPath: `${CACHE_PATH}/huggingface`, readOnly: true });
  }
  const location = parseModelSource(lfmd.spec.model.source);
  if (location.claimName && location.mountPath) {
    volumes.push({ name: 'model', persistentVolumeClaim: { claimName: location.claimName, readOnly: true } });
    mounts.push({ name: 'model', mountPath: location.mountPath, readOnly: true });
  }
  return { volumes, mounts };
}

/** The user's affinity with the GPU product required in every node selector term. */
function renderAffinity(lfmd: LfmDeployment, plan: Plan): V1Affinity {
  const placement = lfmd.spec.placement ?? {};
  const gpuTerm = { key: GPU_LABELS.product, operator: 'In', values: [plan.gpu?.productLabel ?? lfmd.spec.gpu.type] };
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

export function renderDeployment(lfmd: LfmDeployment, plan: Plan, options: RenderOptions = {}): V1Deployment {
  const { spec } = lfmd;
  const name = lfmd.metadata.name;
  const engine = ENGINES[spec.engine.name];
  const location = parseModelSource(spec.model.source);
  const servedName = spec.model.servedName ?? name;
  const container = engine.buildContainer(spec, plan, location, servedName);
  const resources = computeResources(lfmd, plan);
  const gpus = String(plan.gpusPerReplica);
  const pvcCache = spec.model.cache?.type === 'PersistentVolumeClaim' ? spec.model.cache.claimName : undefined;

  const env = renderEnv(lfmd, container, pvcCache !== undefined);
  const { volumes, mounts } = renderVolumes(lfmd, resources, pvcCache);
  const placement = spec.placement ?? {};
  const affinity = renderAffinity(lfmd, plan);

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
          labels: { ...sortedRecord(spec.podMetadata?.labels), ...buildLabels(lfmd) },
          ...(spec.podMetadata?.annotations ? { annotations: sortedRecord(spec.podMetadata.annotations) } : {}),
        },
        spec: {
          // A Service named like the engine injects e.g. VLLM_PORT=tcp://..., which crashes vLLM (vllm#34199).
          enableServiceLinks: false,
          terminationGracePeriodSeconds: spec.serving.drainSeconds + 30,
          ...(placement.nodeSelector && Object.keys(placement.nodeSelector).length > 0
            ? { nodeSelector: Object.fromEntries(Object.entries(placement.nodeSelector).sort(([a], [b]) => a.localeCompare(b))) }
            : {}),
          affinity,
          tolerations: renderTolerations(lfmd),
          ...(placement.priorityClassName ? { priorityClassName: placement.priorityClassName } : {}),
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'engine',
            image: computeImage(lfmd, options),
            ...(container.command ? { command: container.command } : {}),
            args: container.args,
            env,
            ports: [{ name: 'http', containerPort: engine.port, protocol: 'TCP' }],
            resources: {
              requests: { cpu: resources.cpu, memory: resources.memory, 'ephemeral-storage': resources.ephemeralStorage, [GPU_RESOURCE]: gpus },
              limits: { memory: resources.memory, [GPU_RESOURCE]: gpus },
            },
            startupProbe: renderProbe(engine, engine.startupProbePath, 10, startupFailures, 5),
            readinessProbe: renderProbe(engine, engine.readinessProbePath, engine.name === 'SGLang' ? 10 : 5, 3, engine.name === 'SGLang' ? 10 : 5),
            livenessProbe: renderProbe(engine, engine.livenessProbePath, 10, 6, 5),
            lifecycle: { preStop: { exec: { command: ['python3', '-c', buildDrainScript(engine, engine.port, spec.serving.drainSeconds)] } } },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            volumeMounts: mounts,
          }],
          volumes,
        },
      },
    },
  };
  return deployment;
}

export function renderService(lfmd: LfmDeployment): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: lfmd.metadata.name, namespace: lfmd.metadata.namespace, labels: buildLabels(lfmd), ownerReferences: buildOwnerReference(lfmd) },
    spec: {
      type: 'ClusterIP',
      selector: buildSelectorLabels(lfmd.metadata.name),
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
