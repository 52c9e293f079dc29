// The real API server refuses every spelling of every flag the operator owns in spec.engine.extraArgs, in the planner's
// own words (checkExtraArgs), for each engine; a flag the operator does not own passes. Server-side dry-run creates:
// nothing is stored, so one namespace serves every spelling of an engine.
import { beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_NAMES } from '../../src/api/v1alpha1.js';
import { checkExtraArgs, ENGINES, type Engine } from '../../src/engines/index.js';
import { type KubeObject, RESOURCES } from '../../src/kube/client.js';
import { lfmDeployment } from '../support/builders.js';
import { applyCrds, captureApiError, kubeClient, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';

/** Every spelling of the owned flags, read from the engine's flag table: names, aliases, --no- forms, =value, "_". */
function ownedSpellings(engine: Engine): string[] {
  return Object.keys(engine.ownedFlags).flatMap((flag) => {
    const spec = engine.table.flags[flag]!;
    const names = [flag, ...(spec.aliases ?? []), ...(spec.negatable ? [`--no-${flag.slice(2)}`] : [])];
    const underscored = names.filter((n) => n.startsWith('--') && n.slice(2).includes('-')).map((n) => `--${n.slice(2).replaceAll('-', '_')}`);
    return [...names, ...underscored].flatMap((n) => [n, `${n}=1`]);
  });
}

/** What the API server answers a dry-run create of one LfmDeployment with these extraArgs: undefined = accepted. */
async function dryRunCreate(namespace: string, engine: Engine, extraArgs: string[]): Promise<{ status: number; message: string } | undefined> {
  const base = lfmDeployment('owned-flags').engine(engine.name);
  // LlamaCpp serves one file of a GGUF repository, named by a GGUF quantization, on CPU nodes here.
  if (engine.name === 'LlamaCpp') base.model('hf://LiquidAI/LFM2-24B-A2B-GGUF').quantization('Q4_0').noGpu().cpu({ memoryGiB: 30, cores: 8 });
  const doc = base.extraArgs(...extraArgs).namespace(namespace).input();
  return captureApiError(kubeClient().create(RESOURCES.lfmDeployment, doc as unknown as KubeObject, {
    dryRun: 'All', fieldManager: TEST_FIELD_MANAGER, fieldValidation: 'Strict',
  }));
}

describe('owned engine flags in spec.engine.extraArgs', () => {
  const ns = useNamespace('owned-flags');
  beforeAll(async () => { await applyCrds(); });

  describe.each(ENGINE_NAMES)('%s', (engineName) => {
    const engine = ENGINES[engineName];

    it('refuses every spelling of every owned flag with the planner\'s message', async () => {
      const spellings = ownedSpellings(engine);
      expect(spellings.length).toBeGreaterThan(Object.keys(engine.ownedFlags).length);
      const answers: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const arg of spellings) {
        const planner = checkExtraArgs(engine, [arg], true).errors;
        expect(planner, arg).toHaveLength(1);
        expected[arg] = planner[0]!.message;
        const refusal = await dryRunCreate(ns.name, engine, [arg]);
        expect(refusal?.status, `${arg}: ${refusal?.message}`).toBe(422);
        // The API server words a CEL refusal as `...: spec.engine.extraArgs: Invalid value: "array": <message>`.
        answers[arg] = refusal?.message.includes(expected[arg]) ? expected[arg] : (refusal?.message ?? 'accepted');
      }
      expect(answers).toEqual(expected);
    });

    it('accepts flags the operator does not own', async () => {
      const notOwned: Record<typeof engineName, string[]> = {
        VLLM: ['--enable-prefix-caching', '--max-num-batched-tokens=8192'],
        SGLang: ['--enable-mixed-chunk', '--chunked-prefill-size=8192'],
        LlamaCpp: ['--jinja', '--batch-size=1024'],
      };
      const extraArgs = notOwned[engineName];
      expect(checkExtraArgs(engine, extraArgs, true).errors).toEqual([]);
      expect(await dryRunCreate(ns.name, engine, extraArgs)).toBeUndefined();
    });
  });
});
