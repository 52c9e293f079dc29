import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const shared = new URL('../../../shared/', import.meta.url);
const files = [
  ['catalog/models.json', 'src/catalog/data/models.json'],
  ['catalog/gpus.json', 'src/catalog/data/gpus.json'],
  ['engines/vllm.json', 'src/engines/data/vllm.json'],
  ['engines/sglang.json', 'src/engines/data/sglang.json'],
  ['engines/llamacpp.json', 'src/engines/data/llamacpp.json'],
] as const;

describe.runIf(existsSync(shared))('vendored data matches ../shared (refresh with make vendor)', () => {
  it.each(files)('%s', (from, to) => {
    const upstream = readFileSync(new URL(from, shared), 'utf8');
    const vendored = readFileSync(new URL(`../../${to}`, import.meta.url), 'utf8');
    expect(vendored).toBe(upstream);
  });

  it('covers every vendored JSON file, and make vendor copies each', () => {
    const vendoredFiles = ['src/catalog/data', 'src/engines/data'].flatMap((dir) =>
      readdirSync(new URL(`../../${dir}`, import.meta.url)).filter((f) => f.endsWith('.json')).map((f) => `${dir}/${f}`));
    expect(vendoredFiles.sort()).toEqual(files.map(([, to]) => to).sort());
    const makefile = readFileSync(new URL('../../Makefile', import.meta.url), 'utf8');
    for (const [from] of files) expect(makefile).toContain(`../shared/${from}`);
  });
});
