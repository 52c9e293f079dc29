// llama.cpp (GGUF) memory plans: the issue 11 targets for LFM2-24B-A2B on CPU, an L4 and a T4, and properties of the
// arithmetic (src/sizing/gguf.ts, formulas in its header).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeGgufWeightBytes, GGUF_BITS_PER_WEIGHT, GGUF_QUANTS, lookupGguf, type GgufQuant } from '../../src/catalog/gguf.js';
import { lookupGpu } from '../../src/catalog/gpus.js';
import { lookupModel } from '../../src/catalog/models.js';
import {
  computeGgufMinimumMemoryGiB, computeGgufPlan, GGUF_CACHE_RAM_MAX_MIB, type GgufCacheType, type GgufPlanInput,
} from '../../src/sizing/gguf.js';

const lfm = lookupModel('LiquidAI/LFM2-24B-A2B')!;
const lfmGguf = lookupGguf(lfm.id);

function input(quant: GgufQuant, patch: Partial<GgufPlanInput> = {}): GgufPlanInput {
  return {
    architecture: lfm.architecture,
    quant,
    weightBytes: computeGgufWeightBytes(lfm.architecture.parameters, quant, lfmGguf).bytes,
    maxModelLen: 32768,
    cacheType: 'f16',
    denseLayers: lfm.denseLayers,
    vocabSize: lfm.vocabSize,
    ...patch,
  };
}
const onGpu = (id: string): GgufPlanInput['gpu'] => ({ type: lookupGpu(id)!, gpuMemoryUtilization: 0.9 });

describe('LFM2-24B-A2B per-slot terms', () => {
  it('KV counts the 10 attention layers only: 20,480 bytes per token at f16, 0.63 GiB per 32k slot; conv state 480 KiB in f32', () => {
    const plan = computeGgufPlan(input('Q4_0', { memoryGiB: 32, cores: 8, slots: 1 }));
    expect(plan.breakdown.kvCacheGiB).toBe(0.63); // 32768 x 2 x 10 x 8 x 64 x 2 bytes = 640 MiB
    expect(plan.breakdown.convStateGiB).toBe(0); // 30 x (3 - 1) x 2048 x 4 bytes = 480 KiB, below 0.01 GiB
    const four = computeGgufPlan(input('Q4_0', { memoryGiB: 32, cores: 8, slots: 100 }));
    expect(four.breakdown.convStateGiB).toBe(0.05); // 100 x 480 KiB
  });

  it('a q8_0 KV cache takes 34/32 bytes per value and q4_0 18/32, and asks for flash attention', () => {
    const f16 = computeGgufPlan(input('Q4_0', { memoryGiB: 32, cores: 8, slots: 4 }));
    const q8 = computeGgufPlan(input('Q4_0', { memoryGiB: 32, cores: 8, slots: 4, cacheType: 'q8_0' }));
    const q4 = computeGgufPlan(input('Q4_0', { memoryGiB: 32, cores: 8, slots: 4, cacheType: 'q4_0' }));
    expect(f16.breakdown.kvCacheGiB).toBe(2.5);
    expect(q8.breakdown.kvCacheGiB).toBe(1.33); // 2.5 x 17/32
    expect(q4.breakdown.kvCacheGiB).toBe(0.7); // 2.5 x 9/32
    expect(q8.warnings.join(' ')).toContain('--flash-attn on');
    expect(q8.maxSequencesAtMaxLen).toBeGreaterThan(f16.maxSequencesAtMaxLen);
  });
});

describe('CPU replica (issue 11 targets)', () => {
  it('Q4_0 fits a 32 GiB / 8-core replica with at least 4 slots of 32,768 tokens when slots are unset', () => {
    const plan = computeGgufPlan(input('Q4_0', { memoryGiB: 32, cores: 8 }));
    expect(plan.fits).toBe(true);
    expect(plan.reasons).toEqual([]);
    expect(plan.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(4);
    expect(plan.slots).toBe(plan.maxSequencesAtMaxLen);
    expect(plan.contextTokens).toBe(32768 * plan.slots);
    expect(plan.threads).toBe(8);
    expect(plan.gpuLayers).toBe(0);
    expect(plan.cpuMoeLayers).toBe(0);
    expect(plan.breakdown.weightsGiB).toBe(12.54);
    expect(plan.memoryGiBPerReplica).toBeLessThanOrEqual(32);
  });

  it('Q4_0 with 4 slots given fits, -c is 131072, and the prompt cache gets the upstream default 8192 MiB', () => {
    const plan = computeGgufPlan(input('Q4_0', { memoryGiB: 32, cores: 8, slots: 4 }));
    expect(plan.fits).toBe(true);
    expect(plan.slots).toBe(4);
    expect(plan.contextTokens).toBe(131072);
    expect(plan.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(4);
    expect(plan.cacheRamMiB).toBe(GGUF_CACHE_RAM_MAX_MIB);
    expect(plan.breakdown.kvCacheGiB).toBe(2.5);
    // weights + buffers + KV + state + prompt cache is what the pod requests, no more than it was given.
    const b = plan.breakdown;
    expect(plan.memoryGiBPerReplica).toBeCloseTo(b.weightsGiB + b.computeBuffersGiB + b.kvCacheGiB + b.convStateGiB + b.cacheRamGiB, 1);
    expect(plan.memoryGiBPerReplica).toBeLessThanOrEqual(32);
  });

  it('Q8_0 is refused at 24 GiB with the numbers, naming spec.cpu.memoryGiB, and fits at 32', () => {
    const refused = computeGgufPlan(input('Q8_0', { memoryGiB: 24, cores: 8 }));
    expect(refused.fits).toBe(false);
    expect(refused.reasons).toHaveLength(1);
    const [reason] = refused.reasons;
    expect(reason!.field).toBe('spec.cpu.memoryGiB');
    expect(reason!.message).toContain('Q8_0 weights 23.59 GiB'); // 23.84e9 x 8.5 / 8 (estimated: no measured Q8_0 file)
    expect(reason!.message).toContain('exceed spec.cpu.memoryGiB 24');
    const sum = /= (\d+\.\d\d) GiB exceed/.exec(reason!.message);
    expect(Number(sum?.[1])).toBeGreaterThan(24);
    expect(reason!.message).toContain(`raise it to at least ${Math.ceil(Number(sum?.[1]))}`);
    expect(reason!.message).toMatch(/smaller spec\.quantization such as (Q6_K|Q5_K_M|Q4_K_M)/);

    const fits = computeGgufPlan(input('Q8_0', { memoryGiB: 32, cores: 8 }));
    expect(fits.fits).toBe(true);
    expect(fits.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(1);
  });

  it('refuses more slots than fit, naming spec.serving.maxConcurrentSequences and how many do', () => {
    const plan = computeGgufPlan(input('Q4_0', { memoryGiB: 16, cores: 8, slots: 8 }));
    expect(plan.fits).toBe(false);
    expect(plan.reasons[0]!.field).toBe('spec.serving.maxConcurrentSequences');
    expect(plan.reasons[0]!.message).toContain(`at most ${plan.maxSequencesAtMaxLen}`);
    expect(plan.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(1);
    expect(plan.maxSequencesAtMaxLen).toBeLessThan(8);
  });

  it('requires spec.cpu.memoryGiB and spec.cpu.cores without a GPU', () => {
    const plan = computeGgufPlan(input('Q4_0'));
    expect(plan.fits).toBe(false);
    expect(plan.reasons.map((r) => r.field)).toEqual(['spec.cpu.memoryGiB', 'spec.cpu.cores']);
  });

  it('computeGgufMinimumMemoryGiB is the threshold: it fits there and not 0.05 GiB below', () => {
    const need = computeGgufMinimumMemoryGiB(input('Q4_0', { cores: 8 }));
    expect(computeGgufPlan(input('Q4_0', { cores: 8, memoryGiB: need })).fits).toBe(true);
    expect(computeGgufPlan(input('Q4_0', { cores: 8, memoryGiB: need - 0.05 })).fits).toBe(false);
  });
});

describe('one GPU (issue 11 targets, gpuMemoryUtilization 0.9)', () => {
  it('Q4_0 with 4 slots of 32,768 tokens fits one L4 with every layer and expert on the GPU', () => {
    const plan = computeGgufPlan(input('Q4_0', { slots: 4, gpu: onGpu('l4-24gb') }));
    expect(plan.fits).toBe(true);
    expect(plan.cpuMoeLayers).toBe(0);
    expect(plan.gpuLayers).toBe(lfm.architecture.layers + 1); // 40 repeating layers + the output layer
    expect(plan.contextTokens).toBe(131072);
    expect(plan.breakdown.expertsOnHostGiB).toBe(0);
    expect(plan.breakdown.gpuGiB).toBeLessThanOrEqual(lookupGpu('l4-24gb')!.usableGiB * 0.9);
    expect(plan.breakdown.gpuGiB).toBeGreaterThan(plan.breakdown.weightsGiB + plan.breakdown.kvCacheGiB);
    expect(plan.cacheRamMiB).toBe(GGUF_CACHE_RAM_MAX_MIB); // no host limit given
    expect(plan.memoryGiBPerReplica).toBe(plan.breakdown.hostGiB);
  });

  it('Q4_0 with 4 slots fits a T4 only with experts kept in host RAM, reported in the breakdown', () => {
    const plan = computeGgufPlan(input('Q4_0', { slots: 4, gpu: onGpu('t4-16gb') }));
    expect(plan.fits).toBe(true);
    expect(plan.cpuMoeLayers).toBeGreaterThan(0);
    // --n-cpu-moe counts from layer 0, so it includes the 2 leading dense layers, which have no experts.
    expect(plan.cpuMoeLayers).toBeGreaterThan(lfm.denseLayers!);
    expect(plan.cpuMoeLayers).toBeLessThanOrEqual(lfm.architecture.layers);
    expect(plan.breakdown.expertsOnHostGiB).toBeGreaterThan(0);
    expect(plan.breakdown.gpuGiB).toBeLessThanOrEqual(lookupGpu('t4-16gb')!.usableGiB * 0.9);
    expect(plan.breakdown.hostGiB).toBeGreaterThan(plan.breakdown.expertsOnHostGiB!);
    expect(plan.memoryGiBPerReplica).toBe(plan.breakdown.hostGiB);
    expect(plan.warnings.join(' ')).toContain(`--n-cpu-moe ${plan.cpuMoeLayers}`);
    // The weights are split: what left the GPU is on the host.
    expect(plan.breakdown.gpuGiB! + plan.breakdown.expertsOnHostGiB!).toBeGreaterThan(plan.breakdown.weightsGiB);
  });

  it('keeps as few experts on the host as it can: one layer fewer would not fit the T4', () => {
    const plan = computeGgufPlan(input('Q4_0', { slots: 4, gpu: onGpu('t4-16gb') }));
    const hostLayers = plan.cpuMoeLayers - lfm.denseLayers!;
    expect(hostLayers).toBeGreaterThanOrEqual(2);
    const perLayer = plan.breakdown.expertsOnHostGiB! / hostLayers;
    expect(plan.breakdown.gpuGiB! + perLayer).toBeGreaterThan(lookupGpu('t4-16gb')!.usableGiB * 0.9);
    const roomier = computeGgufPlan(input('Q4_0', { slots: 4, gpu: { type: lookupGpu('t4-16gb')!, gpuMemoryUtilization: 0.99 } }));
    expect(roomier.cpuMoeLayers).toBeLessThan(plan.cpuMoeLayers);
  });

  it('a host limit too small for the experts kept there is refused on spec.cpu.memoryGiB', () => {
    const plan = computeGgufPlan(input('Q8_0', { slots: 4, gpu: onGpu('t4-16gb'), memoryGiB: 8 }));
    expect(plan.fits).toBe(false);
    expect(plan.reasons[0]!.field).toBe('spec.cpu.memoryGiB');
    expect(plan.reasons[0]!.message).toContain('exceed spec.cpu.memoryGiB 8');
  });

  it('a host limit sizes --cache-ram from what the experts leave', () => {
    const plan = computeGgufPlan(input('Q4_0', { slots: 4, gpu: onGpu('t4-16gb'), memoryGiB: 8 }));
    expect(plan.fits).toBe(true);
    expect(plan.cacheRamMiB).toBeGreaterThan(0);
    expect(plan.cacheRamMiB).toBeLessThan(GGUF_CACHE_RAM_MAX_MIB);
    expect(plan.memoryGiBPerReplica).toBeLessThanOrEqual(8);
  });

  it('refuses when even every expert on the host leaves no room for the slots, with the fields to change', () => {
    const slots = computeGgufPlan(input('Q4_0', { slots: 64, gpu: onGpu('t4-16gb') }));
    expect(slots.fits).toBe(false);
    expect(slots.reasons[0]!.field).toBe('spec.serving.maxConcurrentSequences');
    const gpu = computeGgufPlan(input('Q4_0', { maxModelLen: 1048576, gpu: onGpu('t4-16gb') }));
    expect(gpu.fits).toBe(false);
    expect(gpu.reasons[0]!.field).toBe('spec.gpu.type');
  });
});

describe('properties', () => {
  const quant = fc.constantFrom(...GGUF_QUANTS);
  const cacheType = fc.constantFrom<GgufCacheType>('f16', 'q8_0', 'q4_0');
  const maxModelLen = fc.integer({ min: 512, max: 131072 });
  const memory = fc.integer({ min: 4, max: 512 });

  it('more memory never reduces maxSequencesAtMaxLen', () => {
    fc.assert(fc.property(quant, cacheType, maxModelLen, memory, fc.integer({ min: 1, max: 64 }), (q, c, len, mem, more) => {
      const small = computeGgufPlan(input(q, { cacheType: c, maxModelLen: len, memoryGiB: mem, cores: 8 }));
      const large = computeGgufPlan(input(q, { cacheType: c, maxModelLen: len, memoryGiB: mem + more, cores: 8 }));
      expect(large.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(small.maxSequencesAtMaxLen);
      if (small.fits) expect(large.fits).toBe(true);
    }));
  });

  it('a larger quantization never needs less memory, nor fits where a smaller one does not', () => {
    fc.assert(fc.property(quant, quant, cacheType, maxModelLen, memory, (a, b, c, len, mem) => {
      const [small, large] = GGUF_BITS_PER_WEIGHT[a] <= GGUF_BITS_PER_WEIGHT[b] ? [a, b] : [b, a];
      const need = (q: GgufQuant): number => computeGgufMinimumMemoryGiB(input(q, { cacheType: c, maxModelLen: len }));
      expect(need(large)).toBeGreaterThanOrEqual(need(small));
      const planSmall = computeGgufPlan(input(small, { cacheType: c, maxModelLen: len, memoryGiB: mem, cores: 4 }));
      const planLarge = computeGgufPlan(input(large, { cacheType: c, maxModelLen: len, memoryGiB: mem, cores: 4 }));
      if (planLarge.fits) expect(planSmall.fits).toBe(true);
      expect(planSmall.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(planLarge.maxSequencesAtMaxLen);
    }));
  });

  it('a larger quantization never keeps fewer experts on the host of a GPU', () => {
    const gpuId = fc.constantFrom('t4-16gb', 'l4-24gb', 'a10g-24gb', 'l40s-48gb');
    fc.assert(fc.property(quant, quant, gpuId, fc.integer({ min: 1, max: 8 }), (a, b, id, slots) => {
      const [small, large] = GGUF_BITS_PER_WEIGHT[a] <= GGUF_BITS_PER_WEIGHT[b] ? [a, b] : [b, a];
      const planSmall = computeGgufPlan(input(small, { slots, gpu: onGpu(id) }));
      const planLarge = computeGgufPlan(input(large, { slots, gpu: onGpu(id) }));
      if (planLarge.fits) {
        expect(planSmall.fits).toBe(true);
        expect(planLarge.cpuMoeLayers).toBeGreaterThanOrEqual(planSmall.cpuMoeLayers);
      }
    }));
  });

  it('contextTokens = maxModelLen x slots, --cache-ram is within 0..8192 MiB, and a fitting CPU plan stays within memoryGiB', () => {
    const slots = fc.option(fc.integer({ min: 1, max: 128 }), { nil: undefined });
    const gpu = fc.option(fc.constantFrom('t4-16gb', 'l4-24gb', 'h100-sxm-80gb'), { nil: undefined });
    fc.assert(fc.property(quant, cacheType, maxModelLen, memory, slots, gpu, (q, c, len, mem, s, g) => {
      const plan = computeGgufPlan(input(q, {
        cacheType: c, maxModelLen: len, memoryGiB: mem, cores: 8, ...(s !== undefined ? { slots: s } : {}), ...(g !== undefined ? { gpu: onGpu(g) } : {}),
      }));
      expect(plan.contextTokens).toBe(len * plan.slots);
      expect(plan.cacheRamMiB).toBeGreaterThanOrEqual(0);
      expect(plan.cacheRamMiB).toBeLessThanOrEqual(GGUF_CACHE_RAM_MAX_MIB);
      expect(Number.isInteger(plan.cacheRamMiB)).toBe(true);
      if (s !== undefined) expect(plan.slots).toBe(s);
      if (plan.fits) {
        expect(plan.slots).toBeGreaterThanOrEqual(1);
        expect(plan.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(plan.slots);
        expect(plan.memoryGiBPerReplica).toBeLessThanOrEqual(mem);
        expect(plan.reasons).toEqual([]);
      } else {
        expect(plan.reasons.length).toBeGreaterThan(0);
      }
    }));
  });
});
