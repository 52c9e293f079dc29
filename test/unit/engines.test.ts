import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENGINE_NAMES, ENGINE_QUANTIZATIONS, LfmDeployment } from '../../src/api/v1alpha1.js';
import { checkExtraArgs, ENGINES, findFlag, type Engine, type EngineTable } from '../../src/engines/index.js';
import { buildPlanReport } from '../../src/render/plan-report.js';
import { lfmDeployment } from '../support/builders.js';

/** The oracle: ../shared/engines/*.json as vendored; every token of a command line must be accepted by it. */
function assertAcceptedBy(table: EngineTable, args: readonly string[], positionalFirst: boolean): void {
  let i = positionalFirst ? 1 : 0;
  for (; i < args.length; i++) {
    const token = args[i]!;
    expect(token.startsWith('--'), `${token} is a flag`).toBe(true);
    const flag = findFlag(table, token.split('=')[0]!);
    expect(flag, `${token} exists`).toBeDefined();
    expect(flag!.spec.deprecated ?? false, `${token} is not deprecated`).toBe(false);
    if (flag!.spec.takesValue) {
      const value = args[++i];
      expect(value, `${token} has a value`).toBeDefined();
      if (flag!.spec.choices) expect(flag!.spec.choices.map(String), `${token} ${value}`).toContain(value);
      if (flag!.spec.type === 'int') expect(Number.isInteger(Number(value)), `${token} ${value} is an int`).toBe(true);
      if (flag!.spec.type === 'float') expect(Number.isFinite(Number(value)), `${token} ${value} is a float`).toBe(true);
    }
  }
}

const variants = [
  ['FP8 tensor 1', lfmDeployment().quantization('FP8').tensor(1)],
  ['BF16 tensor 2 expert parallel', lfmDeployment().tensor(2).expert()],
  ['FP8 KV, max sequences, pipeline 2, data 2', lfmDeployment().kvCacheDtype('FP8').pipeline(2).data(2).tensor(2)],
  ['revision and extra args', lfmDeployment().model('hf://LiquidAI/LFM2-24B-A2B@main')],
  ['pvc source', lfmDeployment().model('pvc://models/lfm2-24b').tensor(1)],
  ['gpt-oss MXFP4 as published', lfmDeployment().model('hf://openai/gpt-oss-20b').quantization('MXFP4')],
] as const;

describe.each(ENGINE_NAMES)('%s command lines are accepted by the engine flag table', (engineName) => {
  const engine = ENGINES[engineName];
  it.each(variants)('%s', (_name, builder) => {
    const report = buildPlanReport(builder.engine(engineName).build());
    assertAcceptedBy(engine.table, report.args, engineName === 'VLLM');
  });

  it.each(readdirSync('examples').filter((f) => f.endsWith('.yaml')))('examples/%s', (file) => {
    const doc = LfmDeployment.parse(parse(readFileSync(`examples/${file}`, 'utf8')));
    const report = buildPlanReport({ ...doc, spec: { ...doc.spec, engine: { ...doc.spec.engine, name: engineName, extraArgs: [] } } });
    assertAcceptedBy(engine.table, report.args, engineName === 'VLLM');
  });

  it('maps every API quantization the engine takes onto an accepted --quantization choice', () => {
    for (const q of ENGINE_QUANTIZATIONS[engineName]) {
      const b = lfmDeployment().engine(engineName).quantization(q);
      const report = buildPlanReport(b.build());
      const i = report.args.indexOf('--quantization');
      if (i >= 0) expect(engine.table.flags['--quantization']!.choices).toContain(report.args[i + 1]);
    }
  });

  it('owns only flags that exist, so the ownership check is real', () => {
    for (const flag of Object.keys(engine.ownedFlags)) expect(findFlag(engine.table, flag), flag).toBeDefined();
  });
});

describe('engine specifics', () => {
  const args = (b: ReturnType<typeof lfmDeployment>) => buildPlanReport(b.build());
  it('vLLM: model first, no "serve" (the image entrypoint has it), fp8 KV as "fp8"', () => {
    const r = args(lfmDeployment().quantization('FP8').kvCacheDtype('FP8').tensor(1));
    expect(r.args[0]).toBe('LiquidAI/LFM2-24B-A2B');
    expect(r.args).not.toContain('serve');
    expect(r.command).toEqual(['vllm', 'serve']);
    expect(r.args.join(' ')).toContain('--kv-cache-dtype fp8');
    expect(r.args.join(' ')).toContain('--quantization fp8');
  });
  it('SGLang: host 0.0.0.0, metrics on, fp8_e4m3 KV, derived mem-fraction-static below the utilization', () => {
    const r = args(lfmDeployment().engine('SGLang').kvCacheDtype('FP8').tensor(1));
    const a = r.args.join(' ');
    expect(a).toContain('--host 0.0.0.0');
    expect(a).toContain('--enable-metrics');
    expect(a).toContain('--kv-cache-dtype fp8_e4m3');
    const frac = Number(r.args[r.args.indexOf('--mem-fraction-static') + 1]);
    expect(frac).toBeGreaterThan(0.7);
    expect(frac).toBeLessThan(0.9);
  });
  it('SGLang expert parallelism is --ep-size, never the deprecated --enable-ep-moe', () => {
    const r = args(lfmDeployment().engine('SGLang').tensor(2).expert());
    expect(r.args.join(' ')).toContain('--ep-size 2');
    expect(r.args).not.toContain('--enable-ep-moe');
  });
  it('does not force --quantization for a checkpoint that carries its own (vLLM picks the fast kernel)', () => {
    expect(args(lfmDeployment().model('hf://openai/gpt-oss-20b').quantization('MXFP4')).args).not.toContain('--quantization');
  });
});

describe('checkExtraArgs', () => {
  const vllm: Engine = ENGINES.VLLM;
  it.each([
    ['a known flag', ['--enable-prefix-caching'], 0, 0],
    ['a known flag with a value', ['--max-num-batched-tokens', '8192'], 0, 0],
    ['a choice', ['--block-size=32'], 0, 0],
    ['an owned flag', ['--tensor-parallel-size', '2'], 1, 0],
    ['an owned flag by alias', ['-tp', '2'], 1, 0],
    ['an unknown flag', ['--turbo'], 1, 0],
    ['a deprecated flag', ['--disable-log-requests'], 0, 1],
    ['a value outside the choices', ['--dtype', 'int3'], 1, 0],
    ['a stray value', ['hello'], 1, 0],
  ])('%s', (_name, extra, errors, warnings) => {
    const result = checkExtraArgs(vllm, extra, true);
    expect(result.errors.length, JSON.stringify(result)).toBe(errors);
    expect(result.warnings.length, JSON.stringify(result)).toBe(warnings);
  });

  it('names the field to use instead of an owned flag', () => {
    expect(checkExtraArgs(vllm, ['--max-model-len=4096'], true).errors[0]!.message).toContain('spec.serving.maxModelLen');
  });

  it('makes an unknown flag a warning with a user-chosen image', () => {
    const report = buildPlanReport(lfmDeployment().image('registry.example/vllm:nightly').extraArgs('--turbo').build());
    expect(report.invalid).toBe(false);
    expect(report.warnings.join('\n')).toContain('--turbo is not a VLLM flag');
    const strict = buildPlanReport(lfmDeployment().extraArgs('--turbo').build());
    expect(strict.invalid).toBe(true);
  });
});
