// Pure. GPU types from the vendored catalog (data/gpus.json, provenance in data/PROVENANCE.md): memory, compute
// capability and the node label values NVIDIA GPU feature discovery sets.
import gpuData from './data/gpus.json' with { type: 'json' };

export const GPU_TYPE_IDS = [
  'h200-sxm-141gb', 'h100-sxm-80gb', 'h100-pcie-80gb', 'a100-sxm4-80gb', 'a100-sxm4-40gb', 'a100-pcie-80gb',
  'l40s-48gb', 'l4-24gb', 'a10g-24gb', 'b200-180gb', 'rtx-4090-24gb', 'rtx-6000-ada-48gb', 't4-16gb',
] as const;
export type GpuTypeId = (typeof GPU_TYPE_IDS)[number];

export interface GpuType {
  id: GpuTypeId;
  name: string;
  /** nvidia.com/gpu.product as GPU feature discovery writes it. */
  productLabel: string;
  /** nvidia.com/gpu.memory: MiB per GPU as NVML reports it. */
  memoryMiB: number;
  /** Memory CUDA reports, where measured; otherwise memoryMiB / 1024 - 0.5. */
  usableGiB: number;
  computeCapability: { major: number; minor: number };
  family: string;
  source: string;
}

interface Field<T> { value: T; source: string; unverified?: boolean }
interface RawGpu {
  id: string;
  name: Field<string>;
  gpu_product_label: Field<string>;
  gpu_memory_label_MiB: Field<number>;
  cuda_visible_GiB?: Field<number>;
  gfd_compute_major_minor: Field<[number, number]>;
  gpu_family_label: Field<string>;
}

export const GPU_LABELS = {
  product: 'nvidia.com/gpu.product',
  memory: 'nvidia.com/gpu.memory',
  count: 'nvidia.com/gpu.count',
  computeMajor: 'nvidia.com/gpu.compute.major',
  computeMinor: 'nvidia.com/gpu.compute.minor',
  family: 'nvidia.com/gpu.family',
} as const;
export const GPU_RESOURCE = 'nvidia.com/gpu';
export const GPU_TOLERATION = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' } as const;

function buildGpu(raw: RawGpu): GpuType {
  const memoryMiB = raw.gpu_memory_label_MiB.value;
  const [major, minor] = raw.gfd_compute_major_minor.value;
  return {
    id: raw.id as GpuTypeId,
    name: raw.name.value,
    productLabel: raw.gpu_product_label.value,
    memoryMiB,
    usableGiB: raw.cuda_visible_GiB?.value ?? Math.round((memoryMiB / 1024 - 0.5) * 100) / 100,
    computeCapability: { major, minor },
    family: raw.gpu_family_label.value,
    source: raw.gpu_product_label.source,
  };
}

export const GPU_TYPES: ReadonlyMap<GpuTypeId, GpuType> = new Map(
  (gpuData.gpus as unknown as RawGpu[]).map((g) => [g.id as GpuTypeId, buildGpu(g)]),
);

export function lookupGpu(id: string): GpuType | undefined {
  return GPU_TYPES.get(id as GpuTypeId);
}

export function computeCapabilityAtLeast(gpu: GpuType, major: number, minor: number): boolean {
  const cc = gpu.computeCapability;
  return cc.major > major || (cc.major === major && cc.minor >= minor);
}
