import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadInvalidFixtures } from '../support/fixtures.js';

// The built CLI (make test builds before running the unit tests).
const cli = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('lfm-operator plan', () => {
  it('prints the plan of the H100 example as a table and exits 0', () => {
    const r = cli(['plan', '-f', 'examples/lfm2-24b-h100-vllm.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+MODEL/);
    expect(r.stdout).toMatch(/lfm2-24b\s+LiquidAI\/LFM2-24B-A2B\s+VLLM\s+h100-sxm-80gb\s+FP8\s+1\s+1\s/);
  });

  it('--output json prints only a JSON array with the plan fields and the command line', () => {
    const r = cli(['plan', '-f', 'examples/lfm2-24b-h100-vllm.yaml', '--output', 'json']);
    expect(r.code).toBe(0);
    const plans = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(plans).toHaveLength(1);
    for (const key of ['name', 'fits', 'reasons', 'warnings', 'gpusPerReplica', 'weightsGiBPerGpu', 'kvCacheGiBPerGpu', 'kvBytesPerToken', 'maxSequencesAtMaxLen', 'image', 'command', 'args']) {
      expect(plans[0], key).toHaveProperty(key);
    }
    expect(plans[0]!['args']).toContain('--tensor-parallel-size');
  });

  it('exits 1 when one does not fit, with the reason', () => {
    const r = cli(['plan', '-f', 'examples/lfm2-24b-l4-bf16-does-not-fit.yaml', '-o', 'json']);
    expect(r.code).toBe(1);
    const [plan] = JSON.parse(r.stdout) as { fits: boolean; reasons: { field: string; message: string }[] }[];
    expect(plan!.fits).toBe(false);
    expect(plan!.reasons[0]!.message).toContain('does not fit');
  });

  it.each(loadInvalidFixtures().map((f) => [f.file, f] as const))('exits 2 on %s, naming the field on stderr', (_f, fixture) => {
    const r = cli(['plan', '-f', '-', '-o', 'json'], fixture.text);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(fixture.field);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('exits 2 on malformed YAML and on a missing file', () => {
    const bad = cli(['plan', '-f', '-'], 'spec: [unclosed\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('malformed YAML');
    const missing = cli(['plan', '-f', 'does/not/exist.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });
});

describe('lfm-operator render and crd', () => {
  it('render prints the Deployment and Service of a fitting resource', () => {
    const r = cli(['render', '-f', 'examples/lfm2-24b-h100-vllm.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kind: Deployment');
    expect(r.stdout).toContain('kind: Service');
  });
  it('crd prints the CRD', () => {
    const r = cli(['crd']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('name: lfmdeployments.serving.lfm-operator.io');
  });
});
