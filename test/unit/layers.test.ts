// The layering checker of `make lint` (.dependency-cruiser.cjs) on small trees built for each rule: it must refuse
// what the rule says, and accept the same tree without the offending import.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs the checker over a tree of files (path -> source) and returns the rule names it reports. */
function check(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'lfm-layers-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [] } }));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs'), 'src', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'], { cwd: dir, encoding: 'utf8' });
  const out = JSON.parse(r.stdout) as { summary: { violations: { rule: { name: string } }[] } };
  return [...new Set(out.summary.violations.map((v) => v.rule.name))].sort();
}

const api = { 'src/api/types.ts': 'export interface Spec { replicas: number }\n' };

describe('the layering checker', () => {
  it('accepts imports down the layer order', () => {
    expect(check({ ...api, 'src/sizing/plan.ts': "import type { Spec } from '../api/types.js';\nexport const plan = (s: Spec): number => s.replicas;\n" })).toEqual([]);
  });

  it('refuses an import up the layer order, type-only included', () => {
    expect(check({ 'src/api/types.ts': "import type { Plan } from '../sizing/plan.js';\nexport type P = Plan;\n", 'src/sizing/plan.ts': 'export interface Plan { n: number }\n' }))
      .toEqual(['layer-order:api']);
  });

  it('refuses a cycle of type-only imports inside one layer', () => {
    expect(check({
      'src/status/a.ts': "import type { B } from './b.js';\nexport type A = B | 1;\n",
      'src/status/b.ts': "import type { A } from './a.js';\nexport type B = A[];\n",
    })).toEqual(['no-cycles']);
  });

  it('refuses I/O in a pure layer: an I/O layer, an io/ folder, a Node built-in, or the Kubernetes client at run time', () => {
    expect(check({ 'src/render/r.ts': "import { x } from '../kube/client.js';\nexport const y = x;\n", 'src/kube/client.ts': 'export const x = 1;\n' }))
      .toEqual(['layer-order:render', 'pure-no-io-layer']);
    expect(check({ 'src/autoscaler/decide.ts': "import { x } from './io/loop.js';\nexport const y = x;\n", 'src/autoscaler/io/loop.ts': 'export const x = 1;\n' }))
      .toEqual(['layer-order:autoscaler', 'pure-no-io-layer']);
    expect(check({ 'src/metrics/m.ts': "import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n" })).toEqual(['pure-no-node-io']);
  });

  it('lets an io/ folder do I/O and import its own pure layer', () => {
    expect(check({
      'src/autoscaler/decide.ts': 'export const decide = (): number => 1;\n',
      'src/autoscaler/io/loop.ts': "import { readFileSync } from 'node:fs';\nimport { decide } from '../decide.js';\nexport const y = [readFileSync, decide];\n",
    })).toEqual([]);
  });

  it('refuses a folder of src/ that is in no layer, and src/ importing the test harness', () => {
    expect(check({ ...api, 'src/newthing/n.ts': "import type { Spec } from '../api/types.js';\nexport type N = Spec;\n" })).toEqual(['known-layer']);
    expect(check({ 'src/cli/c.ts': "import { h } from '../../test/h.js';\nexport const y = h;\n", 'test/h.ts': 'export const h = 1;\n' })).toEqual(['src-not-harness']);
  });
});
