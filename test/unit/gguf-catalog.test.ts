// The GGUF part of the catalog (src/catalog/gguf.ts): quantization types pinned to the vendored data, lookups by model
// id and by GGUF repository, and measured against estimated file sizes.
import { describe, expect, it } from 'vitest';
import modelData from '../../src/catalog/data/models.json' with { type: 'json' };
import {
  computeGgufWeightBytes, GGUF_BITS_PER_WEIGHT, GGUF_QUANTS, isGgufQuant, lookupGguf, lookupModelByGgufRepository,
} from '../../src/catalog/gguf.js';
import { lookupModel } from '../../src/catalog/models.js';

const GiB = 1024 ** 3;

describe('GGUF quantization types', () => {
  it('GGUF_QUANTS equals the keys of the catalog gguf_bits_per_weight', () => {
    expect([...GGUF_QUANTS].sort()).toEqual(Object.keys(modelData.gguf_bits_per_weight.value).sort());
    expect(GGUF_QUANTS).toHaveLength(Object.keys(modelData.gguf_bits_per_weight.value).length);
  });

  it('GGUF_BITS_PER_WEIGHT is the data, with the block layouts of the legacy quants', () => {
    expect(GGUF_BITS_PER_WEIGHT).toEqual(modelData.gguf_bits_per_weight.value);
    expect(GGUF_BITS_PER_WEIGHT.Q4_0).toBe(4.5); // 32 weights in 18 bytes
    expect(GGUF_BITS_PER_WEIGHT.Q8_0).toBe(8.5); // 32 weights in 34 bytes
    for (const q of GGUF_QUANTS) expect(Number.isFinite(GGUF_BITS_PER_WEIGHT[q]), q).toBe(true);
  });

  it('isGgufQuant accepts the GGUF types only', () => {
    expect(isGgufQuant('Q4_K_M')).toBe(true);
    expect(isGgufQuant('FP8')).toBe(false);
  });
});

describe('lookups', () => {
  it('finds LFM2-24B-A2B by its model id and by its GGUF repository, case-insensitively', () => {
    const byModel = lookupGguf('LiquidAI/LFM2-24B-A2B');
    expect(byModel).toBeDefined();
    expect(byModel!.repository).toBe('LiquidAI/LFM2-24B-A2B-GGUF');
    expect(byModel!.architecture).toBe('lfm2moe');
    expect(byModel!.cpuDecodeTokensPerSecond).toBe(30.35);
    expect(lookupGguf('LiquidAI/LFM2-24B-A2B-GGUF')).toBe(byModel);
    expect(lookupGguf('liquidai/lfm2-24b-a2b-gguf')).toBe(byModel);
    expect(lookupModelByGgufRepository('LiquidAI/LFM2-24B-A2B-GGUF')).toBe('LiquidAI/LFM2-24B-A2B');
    expect(lookupModelByGgufRepository('liquidai/lfm2-8b-a1b-gguf')).toBe('LiquidAI/LFM2-8B-A1B');
  });

  it('answers undefined for models without GGUF data and for unknown repositories', () => {
    expect(lookupGguf('openai/gpt-oss-20b')).toBeUndefined();
    expect(lookupGguf('nobody/nothing-GGUF')).toBeUndefined();
    expect(lookupModelByGgufRepository('LiquidAI/LFM2-24B-A2B')).toBeUndefined();
  });

  it('the catalog model carries the GGUF entry, its dense layers and its vocabulary', () => {
    const m = lookupModel('LiquidAI/LFM2-24B-A2B')!;
    expect(m.gguf).toBe(lookupGguf(m.id));
    expect(m.denseLayers).toBe(2);
    expect(m.vocabSize).toBe(65536);
    expect(lookupModel('openai/gpt-oss-20b')!.gguf).toBeUndefined();
  });
});

describe('computeGgufWeightBytes', () => {
  const m = lookupModel('LiquidAI/LFM2-24B-A2B')!;
  const entry = lookupGguf(m.id);

  it('Q4_0 of LFM2-24B-A2B is the measured 12.54 GiB', () => {
    const w = computeGgufWeightBytes(m.architecture.parameters, 'Q4_0', entry);
    expect(w.measured).toBe(true);
    expect(w.bytes / GiB).toBeCloseTo(12.54, 6);
  });

  it('Q8_0 is estimated from the GGUF parameter count: 23.84e9 x 8.5 / 8 = 23.59 GiB', () => {
    const w = computeGgufWeightBytes(m.architecture.parameters, 'Q8_0', entry);
    expect(w.measured).toBe(false);
    expect(w.bytes).toBeCloseTo((23.84e9 * 8.5) / 8, 0);
    expect(w.bytes / GiB).toBeCloseTo(23.59, 2);
  });

  it('without a catalog entry it estimates from the parameters given', () => {
    const w = computeGgufWeightBytes(8e9, 'Q4_K_M');
    expect(w).toEqual({ bytes: (8e9 * GGUF_BITS_PER_WEIGHT.Q4_K_M) / 8, measured: false });
  });

  it('the measured Q4_0 is within 1% of the estimate (the catalog note: 0.4%)', () => {
    const estimated = (23.84e9 * GGUF_BITS_PER_WEIGHT.Q4_0) / 8;
    const measured = computeGgufWeightBytes(m.architecture.parameters, 'Q4_0', entry).bytes;
    expect(Math.abs(measured / estimated - 1)).toBeLessThan(0.01);
  });
});
