// Pure. Fake nodes for KWOK: GPU nodes with NVIDIA GPU feature discovery labels, nvidia.com/gpu capacity and the
// usual GPU taint, and CPU-only nodes for ordinary pods. Each node gets its own loopback pod range.
import type { V1Node } from '@kubernetes/client-node';
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
  /** Memory; default 64Gi. */
  memory?: string;
  labels?: Record<string, string>;
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

/** The fixed default pool: two 8 x H100 80GB nodes, two 1 x L4 nodes and one untainted CPU-only node. */
export const DEFAULT_NODE_POOL: { gpu: readonly GpuNodeSpec[]; cpu: readonly CpuNodeSpec[] } = {
  gpu: [
    { ...buildGpuNodeSpec('gpu-h100-0', 'h100-sxm-80gb', 8), cpu: 192, memory: '2Ti' },
    { ...buildGpuNodeSpec('gpu-h100-1', 'h100-sxm-80gb', 8), cpu: 192, memory: '2Ti' },
    { ...buildGpuNodeSpec('gpu-l4-0', 'l4-24gb', 1), cpu: 16, memory: '64Gi' },
    { ...buildGpuNodeSpec('gpu-l4-1', 'l4-24gb', 1), cpu: 16, memory: '64Gi' },
  ],
  cpu: [{ name: 'cpu-0' }],
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

function renderNode(name: string, podCidr: string, labels: Record<string, string>, resources: Record<string, string>, gpu: boolean): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok',
        ...labels,
      },
    },
    spec: { podCIDR: podCidr, podCIDRs: [podCidr], ...(gpu ? { taints: [{ ...GPU_TAINT }] } : {}) },
    // A node may be created with its status; KWOK's node-initialize stage keeps capacity and allocatable.
    status: {
      capacity: resources,
      allocatable: resources,
      nodeInfo: {
        architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'v1.36.3',
        bootID: '', containerRuntimeVersion: '', kernelVersion: '', kubeProxyVersion: '', machineID: '', osImage: '', systemUUID: '',
      },
    },
  };
}

export function renderGpuNode(spec: GpuNodeSpec, podCidr: string): V1Node {
  const family = spec.family ?? [...GPU_TYPES.values()].find((g) => g.productLabel === spec.product)?.family;
  return renderNode(spec.name, podCidr, {
    'nvidia.com/gpu.present': 'true',
    [GPU_LABELS.product]: spec.product,
    [GPU_LABELS.memory]: String(spec.memoryMiB),
    [GPU_LABELS.count]: String(spec.count),
    [GPU_LABELS.computeMajor]: String(spec.computeMajor),
    [GPU_LABELS.computeMinor]: String(spec.computeMinor),
    ...(family ? { [GPU_LABELS.family]: family } : {}),
    ...spec.labels,
  }, {
    cpu: String(spec.cpu ?? 8 * spec.count),
    memory: spec.memory ?? `${64 * spec.count}Gi`,
    pods: '110',
    'ephemeral-storage': '1Ti',
    [GPU_RESOURCE]: String(spec.count),
  }, true);
}

export function renderCpuNode(spec: CpuNodeSpec, podCidr: string): V1Node {
  return renderNode(spec.name, podCidr, { ...spec.labels }, {
    cpu: String(spec.cpu ?? 16), memory: spec.memory ?? '64Gi', pods: '110', 'ephemeral-storage': '1Ti',
  }, false);
}
