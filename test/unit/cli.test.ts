import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, parseBooleanArgument, type CliIo } from '../../src/cli/program.js';
import { parseOperatorConfig } from '../../src/controller/config.js';
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

// The commands from src, in process: a stdin that drains after one read, output captured, `run` stubbed.
async function cliInProcess(args: string[], stdin = '') {
  const r = { code: 0, stdout: '', stderr: '', stdinReads: 0, runFlags: undefined as Record<string, unknown> | undefined, activatorFlags: undefined as Record<string, unknown> | undefined };
  const io: CliIo = {
    readText: (file) => (file === '-' ? (r.stdinReads++ === 0 ? stdin : '') : readFileSync(file, 'utf8')),
    stdout: (text) => { r.stdout += text; },
    stderr: (text) => { r.stderr += text; },
    setExitCode: (code) => { r.code = code; },
    runOperator: async (flags) => { r.runFlags = flags; },
    runActivator: async (flags) => { r.activatorFlags = flags; },
  };
  const program = buildProgram(io);
  for (const command of [program, ...program.commands]) command.exitOverride();
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    r.code = err.exitCode;
  }
  return r;
}

describe('standard input (in process)', () => {
  const example = readFileSync('examples/lfm2-24b-h100-vllm.yaml', 'utf8');

  it.each([
    ['render', ['render', '-f', '-'], /kind: Deployment[\s\S]*kind: Service/],
    ['plan', ['plan', '-f', '-', '-o', 'json'], /"name": "lfm2-24b"/],
  ])('%s -f - reads stdin once', async (_name, args, expected) => {
    const r = await cliInProcess(args, example);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(expected);
    expect(r.stdinReads).toBe(1);
  });

  it('render -f - of an empty stdin exits 2: no documents found', async () => {
    const r = await cliInProcess(['render', '-f', '-'], '');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: -: no documents found\n');
  });

  it('render -f - renders each resource from its own plan, also with one name in two namespaces', async () => {
    const doesNotFit = readFileSync('examples/lfm2-24b-l4-bf16-does-not-fit.yaml', 'utf8')
      .replace('name: lfm2-24b-l4-bf16', 'name: lfm2-24b').replace('namespace: default', 'namespace: other');
    const r = await cliInProcess(['render', '-f', '-'], `${example}\n---\n${doesNotFit}`);
    expect(r.code).toBe(1);
    expect(r.stdout.match(/^kind: Deployment$/gm)).toHaveLength(1);
    expect(r.stdout).not.toContain('namespace: other');
    expect(r.stderr).toMatch(/^error: lfm2-24b: .*does not fit/);
    expect(r.stdinReads).toBe(1);
  });
});

describe('run: boolean options (in process)', () => {
  const config = (flags: Record<string, unknown>) => {
    const c = parseOperatorConfig({ flags, env: {}, randomSuffix: 'abcd' });
    if (!c.ok) throw new Error(c.message);
    return { leaderElect: c.config.leaderElect, autoscaler: c.config.autoscaler };
  };

  it.each([
    ['left out: the environment, then the default, apply', [], { leaderElect: true, autoscaler: true }],
    ['--leader-elect=true (test/integration/install-support.ts)', ['--leader-elect=true'], { leaderElect: true, autoscaler: true }],
    ['--leader-elect false (hack/demo.sh)', ['--leader-elect', 'false'], { leaderElect: false, autoscaler: true }],
    ['--leader-elect=false', ['--leader-elect=false'], { leaderElect: false, autoscaler: true }],
    ['bare --leader-elect', ['--leader-elect'], { leaderElect: true, autoscaler: true }],
    ['--no-leader-elect', ['--no-leader-elect'], { leaderElect: false, autoscaler: true }],
    ['1 and 0', ['--leader-elect=0', '--autoscaler', '1'], { leaderElect: false, autoscaler: true }],
    ['--no-autoscaler before another option', ['--no-autoscaler', '--log-level', 'debug'], { leaderElect: true, autoscaler: false }],
    ['--autoscaler=FALSE', ['--autoscaler=FALSE'], { leaderElect: true, autoscaler: false }],
  ])('%s', async (_name, args, expected) => {
    const r = await cliInProcess(['run', ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(config(r.runFlags!)).toEqual(expected);
  });

  it.each([
    ['--leader-elect=yes', 'leader-elect', 'yes'],
    ['--leader-elect=on', 'leader-elect', 'on'],
    ['--leader-elect=', 'leader-elect', ''],
    ['--autoscaler=maybe', 'autoscaler', 'maybe'],
  ])('refuses %s, naming the option and the accepted values', async (arg, name, value) => {
    const r = await cliInProcess(['run', arg]);
    expect(r.code).toBe(1);
    expect(r.runFlags).toBeUndefined();
    expect(r.stderr).toContain(`error: option '--${name} [bool]' argument '${value}' is invalid. --${name} accepts true or false (or 1 or 0); --${name} alone means true, --no-${name} false.`);
  });

  it('parseBooleanArgument reads true, false, 1 and 0 only', () => {
    const parse = parseBooleanArgument('leader-elect');
    expect(['true', 'True', 'false', '1', '0'].map(parse)).toEqual([true, true, false, true, false]);
    for (const v of ['yes', 'no', 'y', 'off', '2', ' true']) expect(() => parse(v), v).toThrow('--leader-elect accepts true or false');
  });

  it.each([
    ['test/support/operator.ts', ['--kubeconfig', 'k', '--namespaces', 'ns', '--leader-election-namespace', 'ns', '--identity', 'op-1', '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0', '--log-level', 'debug']],
    ['test/integration/install-support.ts', ['--kubeconfig=k', '--leader-elect=true', '--leader-election-namespace=ns', '--namespaces=a,b', '--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0', '--log-level=debug']],
    ['bench/reconcile/main.ts', ['--kubeconfig', 'k', '--namespaces', 'ns', '--leader-election-namespace', 'ns', '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0', '--concurrency', '4', '--log-level', 'info']],
    ['hack/demo.sh', ['--kubeconfig', 'k', '--leader-elect', 'false', '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0']],
  ])('keeps the invocation of %s valid', async (_file, args) => {
    const r = await cliInProcess(['run', ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseOperatorConfig({ flags: r.runFlags!, env: {}, randomSuffix: 'abcd' }).ok).toBe(true);
  });
});

describe('newcomer papercuts', () => {
  it('lfm-operator --version prints the package version', () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-v']) {
      const r = cli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('every npm script runs on a Node that package.json accepts, even with an older node first on PATH', () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const [name, command] of Object.entries(scripts)) expect(command, name).toMatch(/^hack\/with-node\.sh /);
    // /usr/bin/node is the machine's Node 20 here; the wrapper must put a newer one first.
    const r = spawnSync('hack/with-node.sh', ['node', '-p', 'process.versions.node'], { encoding: 'utf8', env: { ...process.env, PATH: `/usr/bin:${process.env['PATH'] ?? ''}` } });
    expect(r.status, r.stderr).toBe(0);
    const [major = 0, minor = 0] = r.stdout.trim().split('.').map(Number);
    expect(major > 22 || (major === 22 && minor >= 19), r.stdout).toBe(true);
  });
});

describe('lfm-operator render and plan over several files', () => {
  it('render prints the request path of an example with spec.routing, and nothing of it without', () => {
    const kinds = (out: string) => out.split('\n').filter((l) => l.startsWith('kind: ')).map((l) => l.slice(6));
    const routed = cli(['render', '-f', 'examples/lfm2-24b-routing.yaml']);
    expect(routed.code).toBe(0);
    expect(kinds(routed.stdout)).toEqual(expect.arrayContaining(['InferencePool', 'InferenceObjective', 'HTTPRoute', 'ConfigMap', 'Role', 'RoleBinding', 'ServiceAccount']));
    expect(kinds(cli(['render', '-f', 'examples/lfm2-24b-h100-vllm.yaml']).stdout)).toEqual(['Deployment', 'Service']);
  });

  it('plan takes -f more than once and plans every file', () => {
    const r = cli(['plan', '-f', 'examples/lfm2-24b-h100-vllm.yaml', '-f', 'examples/lfm2-8b-l4-vllm.yaml', '-o', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string }[]).map((p) => p.name)).toEqual(['lfm2-24b', 'lfm2-8b-l4']);
  });
});
