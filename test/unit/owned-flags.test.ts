// Owned engine flags in spec.engine.extraArgs: the CRD's CEL rule (evaluated offline, as `lfm-operator plan` does) and
// the planner's checkExtraArgs refuse every spelling the engine's flag table knows, with the same message; and the
// owned-flag table of src/api/owned-flags.ts is exactly what the vendored flag tables say.
import { describe, expect, it } from 'vitest';
import { evaluateCelRules } from '../../src/api/cel.js';
import type { JsonSchema } from '../../src/api/crd.js';
import { buildOwnedSpellings, OWNED_FLAGS } from '../../src/api/owned-flags.js';
import { parseLfmDeployment } from '../../src/api/parse.js';
import { ENGINE_NAMES } from '../../src/api/v1alpha1.js';
import { checkExtraArgs, ENGINES, findFlag, type Engine } from '../../src/engines/index.js';
import { buildPlanReport } from '../../src/render/plan-report.js';
import { lfmDeployment } from '../support/builders.js';

/** A resource the engine accepts as is: LlamaCpp serves a GGUF repository's file of a named type. */
const validFor = (engineName: Engine['name']) => (engineName === 'LlamaCpp'
  ? lfmDeployment().engine(engineName).model('hf://LiquidAI/LFM2-24B-A2B-GGUF').quantization('Q4_0')
  : lfmDeployment().engine(engineName));

/** A flag of the engine that the operator owns and that takes a value, to precede an owned flag. */
const SERVED_NAME_FLAG: Record<Engine['name'], string> = { VLLM: '--served-model-name', SGLang: '--served-model-name', LlamaCpp: '--alias' };

/** Every spelling of the owned flags, read from the engine's flag table: names, aliases, --no- forms, =value, "_". */
function ownedSpellings(engine: Engine): { arg: string; flag: string }[] {
  return Object.keys(engine.ownedFlags).flatMap((flag) => {
    const spec = engine.table.flags[flag]!;
    const names = [flag, ...(spec.aliases ?? []), ...(spec.negatable ? [`--no-${flag.slice(2)}`] : [])];
    const underscored = names.filter((n) => n.startsWith('--') && n.slice(2).includes('-')).map((n) => `--${n.slice(2).replaceAll('-', '_')}`);
    return [...names, ...underscored].flatMap((n) => [{ arg: n, flag }, { arg: `${n}=1`, flag }]);
  });
}

/** The offline judgement of the CRD's CEL rules (parse.ts, the path `plan` takes) on one extraArgs list. */
function celProblems(engine: Engine, extraArgs: string[]): { field: string; message: string }[] {
  const result = parseLfmDeployment(validFor(engine.name).extraArgs(...extraArgs).input());
  return result.ok ? [] : result.problems;
}

describe.each(ENGINE_NAMES)('%s owned flags', (engineName) => {
  const engine = ENGINES[engineName];
  const spellings = ownedSpellings(engine);

  it.each(spellings.map(({ arg, flag }) => [arg, flag] as const))('%s (%s): CEL and the planner refuse it alike', (arg, flag) => {
    const planner = checkExtraArgs(engine, [arg], true).errors;
    expect(planner).toEqual([{ field: 'spec.engine.extraArgs[0]', message: expect.stringContaining(`${arg.split('=')[0]} is set by the operator`) }]);
    expect(planner[0]!.message).toContain(engine.ownedFlags[flag]!.use);
    expect(celProblems(engine, [arg])).toEqual([{ field: 'spec.engine.extraArgs', message: planner[0]!.message }]);
  });

  it('refuses through buildPlanReport too, and names the first owned flag when there are several', () => {
    const args = [SERVED_NAME_FLAG[engineName], 'x', `--port=1`];
    const report = buildPlanReport(validFor(engineName).extraArgs(...args).build());
    expect(report.invalid).toBe(true);
    const planner = report.reasons.filter((r) => r.field.startsWith('spec.engine.extraArgs'));
    expect(planner.map((r) => r.field)).toEqual(['spec.engine.extraArgs[0]', 'spec.engine.extraArgs[2]']);
    expect(celProblems(engine, args)).toEqual([{ field: 'spec.engine.extraArgs', message: planner[0]!.message }]);
  });

  it('lists in owned-flags.ts exactly the spellings the flag table has for each owned flag', () => {
    const fromTable = new Map<string, string>();
    for (const { arg, flag } of spellings) if (!arg.includes('=') && !arg.includes('_')) fromTable.set(arg, flag);
    expect(new Map([...buildOwnedSpellings(engineName)].sort())).toEqual(new Map([...fromTable].sort()));
    for (const [spelling, flag] of buildOwnedSpellings(engineName)) expect(findFlag(engine.table, spelling)?.name, spelling).toBe(flag);
    expect(Object.keys(OWNED_FLAGS[engineName]).sort()).toEqual(Object.keys(engine.ownedFlags).sort());
  });
});

describe('owned flags, edge cases', () => {
  const vllm = ENGINES.VLLM;
  it.each([
    ['an owned flag after a flag that takes a value (argparse never reads a flag as a value)', ['--chat-template', '--port'], 1],
    ['a negative number as a value', ['--seed', '-1'], 0],
    ['an owned flag as the value of an owned flag', ['--port', '-tp'], 2],
    ['a flag that only starts like an owned one', ['--max-num-batched-tokens=8192', '--model-impl', 'vllm'], 0],
    ['a value that spells an owned flag after =', ['--chat-template=--port'], 0],
  ])('%s', (_name, args, owned) => {
    const planner = checkExtraArgs(vllm, args, true).errors.filter((e) => e.message.includes('is set by the operator'));
    expect(planner).toHaveLength(owned);
    const cel = celProblems(vllm, args);
    expect(cel).toEqual(owned ? [{ field: 'spec.engine.extraArgs', message: planner[0]!.message }] : []);
  });

  it.each([
    ['short flags that only start like owned ones (-tb is not -t, -cb is not -c)', ['-tb', '4', '-cb'], 0],
    ['a negative form of a boolean flag', ['-nocb', '--no-kv-unified'], 0],
    ['a short owned flag with its value', ['-c', '8192'], 1],
    ['an owned flag by its old long name', ['--n-gpu-layers=99'], 1],
  ])('llama.cpp: %s', (_name, args, owned) => {
    const llamacpp = ENGINES.LlamaCpp;
    const result = checkExtraArgs(llamacpp, args, true);
    expect(result.errors.filter((e) => !e.message.includes('is set by the operator')), JSON.stringify(result)).toEqual([]);
    expect(result.errors).toHaveLength(owned);
    const cel = celProblems(llamacpp, args);
    expect(cel).toEqual(owned ? [{ field: 'spec.engine.extraArgs', message: result.errors[0]!.message }] : []);
  });

  it('judges the engine named in spec.engine.name only: an SGLang-only flag passes for vLLM', () => {
    expect(celProblems(vllm, ['--context-length=4096'])).toEqual([]);
    expect(celProblems(ENGINES.SGLang, ['--context-length=4096'])).toHaveLength(1);
  });

  it('falls back to message when messageExpression fails, as the API server does', () => {
    const schema: JsonSchema = {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: 'false', message: 'static', messageExpression: 'self.missing' },
        { rule: 'false', message: 'static', messageExpression: "'two\\nlines'" },
        { rule: 'false', message: 'static', messageExpression: "'dynamic ' + self.name" },
      ],
    };
    expect(evaluateCelRules(schema, { name: 'x' }, 'spec').map((v) => v.message)).toEqual(['static', 'static', 'dynamic x']);
  });
});
