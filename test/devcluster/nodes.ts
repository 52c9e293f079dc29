// Pure. Fake nodes for KWOK: GPU nodes with NVIDIA GPU feature discovery labels, nvidia.com/gpu capacity and the
// usual GPU taint, CPU-only nodes for ordinary pods, and a CPU pool for llama.cpp (allocatable below capacity, as a
// kubelet reports it). Each node gets its own loopback pod range.
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { GPU_LABELS, GPU_RESOURCE, GPU_TYPES, type GpuTypeId } from '../../src/catalog/gpus.js';
import { KWOK_NODE_ANNOTATION } from './components.js';

export interface GpuNodeSpec {
  name: string;
  /** nvidia.com/gpu.product, e.g. NVIDIA-H100-80GB-HBM3. */
  product: string;
  /** nvidia.com/gpu.memory: MiB per GPU. */
  memoryMiB: number;
  /** GPUs on the node: nvidia.com/gpu capacity and nvidia.com/gpu.count. */
  count: number;
  computeMajor: number;
  computeMinor: number;
  /** nvidia.com/gpu.family; default: the catalog's family for this product, else omitted. */
  family?: string;
  /** CPU cores; default 8 per GPU. */
  cpu?: number;
  /** Memory; default 64Gi per GPU. */
  memory?: string;
  labels?: Record<string, string>;
}

export interface CpuNodeSpec {
  name: string;
  /** CPU cores; default 16. */
  cpu?: number;
  /** Memory capacity; default 64Gi. */
  memory?: string;
  /** status.allocatable where it differs from capacity (what the kubelet keeps back); default: the capacity. */
  allocatable?: { cpu?: string; memory?: string };
  labels?: Record<string, string>;
  taints?: { key: string; value: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
}

export const GPU_TAINT = { key: GPU_RESOURCE, value: 'present', effect: 'NoSchedule' } as const;

/** A GPU node spec from the catalog's GPU type. */
export function buildGpuNodeSpec(name: string, gpuType: GpuTypeId, count: number): GpuNodeSpec {
  const gpu = GPU_TYPES.get(gpuType);
  if (!gpu) throw new Error(`unknown GPU type ${gpuType}`);
  return {
    name, product: gpu.productLabel, memoryMiB: gpu.memoryMiB, count,
    computeMajor: gpu.computeCapability.major, computeMinor: gpu.computeCapability.minor, family: gpu.family,
  };
}

/** The label that names a node's pool; the CPU pool's nodes carry `node.lfm-operator.io/pool: cpu`. */
export const POOL_LABEL = 'node.lfm-operator.io/pool';
export const CPU_POOL = 'cpu';
/**
 * The CPU pool is dedicated, as inference pools usually are: tainted, so that only pods that tolerate it (and select it
 * by POOL_LABEL) run there and a 30 GiB replica finds its 32 GiB node free. Ordinary pods keep landing on cpu-0.
 */
export const CPU_POOL_TAINT = { key: POOL_LABEL, value: CPU_POOL, effect: 'NoSchedule' } as const;
export const CPU_POOL_TOLERATION = { key: POOL_LABEL, operator: 'Equal', value: CPU_POOL, effect: 'NoSchedule' } as const;

/**
 * What the kubelet of a CPU-pool node keeps back (https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/):
 *   allocatable.memory = capacity - (kube-reserved + system-reserved: 1 GiB) - eviction-hard memory.available (100 MiB)
 *   allocatable.cpu    = capacity - 100m
 * So a 32 GiB node has 31,644 MiB (30.9 GiB) allocatable: a 30 GiB replica fits, two do not.
 */
export const CPU_POOL_RESERVED = { memoryMiB: 1024, evictionHardMiB: 100, cpuMillis: 100 } as const;

/** A CPU-pool node of `cores` cores and `memoryGiB` GiB, labelled and tainted, with the kubelet's reservations. */
export function buildCpuPoolNodeSpec(name: string, cores: number, memoryGiB: number): CpuNodeSpec {
  const memoryMiB = memoryGiB * 1024 - CPU_POOL_RESERVED.memoryMiB - CPU_POOL_RESERVED.evictionHardMiB;
  return {
    name, cpu: cores, memory: `${memoryGiB}Gi`,
    allocatable: { cpu: `${cores * 1000 - CPU_POOL_RESERVED.cpuMillis}m`, memory: `${memoryMiB}Mi` },
    labels: { [POOL_LABEL]: CPU_POOL },
    taints: [{ ...CPU_POOL_TAINT }],
  };
}

/**
 * The fixed default pool: two 8 x H100 80GB nodes, two 1 x L4 nodes, one untainted CPU-only node (cpu-0), and the CPU
 * pool a llama.cpp user has: two nodes of 16 cores and 32 GiB and one of 32 cores and 64 GiB, no GPU.
 */
export const DEFAULT_NODE_POOL: { gpu: readonly GpuNodeSpec[]; cpu: readonly CpuNodeSpec[] } = {
  gpu: [
    { ...buildGpuNodeSpec('gpu-h100-0', 'h100-sxm-80gb', 8), cpu: 192, memory: '2Ti' },
    { ...buildGpuNodeSpec('gpu-h100-1', 'h100-sxm-80gb', 8), cpu: 192, memory: '2Ti' },
    { ...buildGpuNodeSpec('gpu-l4-0', 'l4-24gb', 1), cpu: 16, memory: '64Gi' },
    { ...buildGpuNodeSpec('gpu-l4-1', 'l4-24gb', 1), cpu: 16, memory: '64Gi' },
  ],
  cpu: [
    { name: 'cpu-0' },
    buildCpuPoolNodeSpec('cpu-32g-0', 16, 32),
    buildCpuPoolNodeSpec('cpu-32g-1', 16, 32),
    buildCpuPoolNodeSpec('cpu-64g-0', 32, 64),
  ],
};

/**
 * The pod range of the node with this index (1-based): 127.(10+index).0.0/16. Never 127.0.0.0/16, where the control
 * plane listens. KWOK hands out pod IPs from it in order, so a /16 leaves room for any test's churn.
 */
export function computePodCidr(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 245) throw new Error(`node index ${index} out of range 1..245`);
  return `127.${10 + index}.0.0/16`;
}

/** The smallest node index whose pod range no existing node uses. */
export function computeFreeNodeIndex(nodes: readonly V1Node[]): number {
  const used = new Set(nodes.map((n) => n.spec?.podCIDR).filter((c): c is string => !!c));
  for (let i = 1; i <= 245; i++) if (!used.has(computePodCidr(i))) return i;
  throw new Error('no free loopback pod range left for another node');
}

interface NodeShape {
  labels: Record<string, string>;
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  taints: V1Taint[];
}

function renderNode(name: string, podCidr: string, shape: NodeShape): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok',
        ...shape.labels,
      },
    },
    spec: { podCIDR: podCidr, podCIDRs: [podCidr], ...(shape.taints.length > 0 ? { taints: shape.taints } : {}) },
    // A node may be created with its status; KWOK's node-initialize stage keeps capacity and allocatable.
    status: {
      capacity: shape.capacity,
      allocatable: shape.allocatable,
      nodeInfo: {
        architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'v1.36.3',
        bootID: '', containerRuntimeVersion: '', kernelVersion: '', kubeProxyVersion: '', machineID: '', osImage: '', systemUUID: '',
      },
    },
  };
}

export function renderGpuNode(spec: GpuNodeSpec, podCidr: string): V1Node {
  const family = spec.family ?? [...GPU_TYPES.values()].find((g) => g.productLabel === spec.product)?.family;
  const labels = {
    'nvidia.com/gpu.present': 'true',
    [GPU_LABELS.product]: spec.product,
    [GPU_LABELS.memory]: String(spec.memoryMiB),
    [GPU_LABELS.count]: String(spec.count),
    [GPU_LABELS.computeMajor]: String(spec.computeMajor),
    [GPU_LABELS.computeMinor]: String(spec.computeMinor),
    ...(family ? { [GPU_LABELS.family]: family } : {}),
    ...spec.labels,
  };
  const resources = {
    cpu: String(spec.cpu ?? 8 * spec.count),
    memory: spec.memory ?? `${64 * spec.count}Gi`,
    pods: '110',
    'ephemeral-storage': '1Ti',
    [GPU_RESOURCE]: String(spec.count),
  };
  return renderNode(spec.name, podCidr, { labels, capacity: resources, allocatable: resources, taints: [{ ...GPU_TAINT }] });
}

export function renderCpuNode(spec: CpuNodeSpec, podCidr: string): V1Node {
  const capacity = { cpu: String(spec.cpu ?? 16), memory: spec.memory ?? '64Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  return renderNode(spec.name, podCidr, {
    labels: { ...spec.labels },
    capacity,
    allocatable: { ...capacity, ...spec.allocatable },
    taints: (spec.taints ?? []).map((t) => ({ ...t })),
  });
}
