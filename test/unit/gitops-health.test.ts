// The Argo CD health check (charts/lfm-operator/argocd-health.lua, run in gopher-lua the way Argo CD runs argocd-cm
// checks) and Flux's verdict (kstatus from sigs.k8s.io/cli-utils) on statuses recorded from the controller's
// integration tests (test/fixtures/statuses/<case>.json). Both tools are small Go programs in tools/gitops, built and
// cached by hack/gitops-tools.sh.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STATUSES = join(ROOT, 'test/fixtures/statuses');
const LUA = join(ROOT, 'charts/lfm-operator/argocd-health.lua');

type KubeObject = { metadata: Record<string, unknown>; spec?: Record<string, unknown>; status?: Record<string, unknown> };
interface Verdict { status?: string; message?: string; error?: string }

/** Expected verdicts by case-name prefix: [Argo CD, kstatus]. */
const EXPECTED: [prefix: string, argo: string, kstatus: string][] = [
  ['ready', 'Healthy', 'Current'],
  ['progressing', 'Progressing', 'InProgress'],
  ['stalled', 'Degraded', 'Failed'],
  ['scaled', 'Healthy', 'Current'],
  ['not-observed', 'Progressing', 'InProgress'],
];
/** The cases the controller's integration tests record. */
const REQUIRED_CASES = ['ready', 'progressing-rollout', 'stalled-does-not-fit', 'stalled-name-conflict', 'scaled-autoscaling', 'scaled-to-zero', 'not-observed'];

const recorded: { name: string; obj: KubeObject }[] = existsSync(STATUSES)
  ? readdirSync(STATUSES).filter((f) => f.endsWith('.json')).sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), obj: JSON.parse(readFileSync(join(STATUSES, f), 'utf8')) as KubeObject }))
  : [];

let toolsDir = '';

/** Runs a tool on objects (one process for all of them); returns one verdict per object. */
function run(tool: 'argocd-lua-health' | 'kstatus', objects: KubeObject[]): Verdict[] {
  const args = tool === 'argocd-lua-health' ? [LUA] : [];
  return JSON.parse(execFileSync(join(toolsDir, tool), args, { input: JSON.stringify(objects), encoding: 'utf8' })) as Verdict[];
}
const argo = (objects: KubeObject[]) => run('argocd-lua-health', objects);
const kstatus = (objects: KubeObject[]) => run('kstatus', objects);

function find(prefix: string): KubeObject {
  const c = recorded.find((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
  if (!c) throw new Error(`no recorded status ${prefix}*.json in ${STATUSES}`);
  return structuredClone(c.obj);
}

beforeAll(() => {
  // Builds the tools on first use (about 30 s cold; a no-op afterwards). Progress goes to stderr.
  execFileSync(join(ROOT, 'hack/gitops-tools.sh'), { stdio: ['ignore', 'inherit', 'inherit'] });
  toolsDir = execFileSync(join(ROOT, 'hack/gitops-tools.sh'), ['--print-dir'], { encoding: 'utf8' }).trim();
}, 600_000);

describe('recorded statuses', () => {
  it('cover every case the controller records', () => {
    expect(recorded.map((r) => r.name)).toEqual(expect.arrayContaining(REQUIRED_CASES));
  });

  it('are full LfmDeployments with a generation and a status', () => {
    for (const { name, obj } of recorded) {
      expect(obj, name).toMatchObject({ apiVersion: 'serving.lfm-operator.io/v1alpha1', kind: 'LfmDeployment' });
      expect(typeof obj.metadata['generation'], name).toBe('number');
      expect(obj.status, name).toBeDefined();
    }
  });
});

describe('health of recorded statuses', () => {
  it.each(recorded.map((r) => [r.name, r.obj] as const))('%s: Argo CD and Flux report the expected health', (name, obj) => {
    const expected = EXPECTED.find(([prefix]) => name === prefix || name.startsWith(`${prefix}-`));
    if (!expected) throw new Error(`no expected health for case ${name}: name it ${EXPECTED.map(([p]) => `${p}*`).join(', ')}`);
    const [a] = argo([obj]);
    const [k] = kstatus([obj]);
    expect(a, `Argo CD on ${name}`).toMatchObject({ status: expected[1] });
    expect(k, `kstatus on ${name}`).toMatchObject({ status: expected[2] });
    expect(a?.message, `Argo CD message on ${name}`).toBeTruthy();
  });

  it('Degraded names the Stalled reason and message, so the Argo CD UI says why', () => {
    const stalled = recorded.filter((r) => r.name.startsWith('stalled'));
    expect(stalled.length).toBeGreaterThan(0);
    const verdicts = argo(stalled.map((s) => s.obj));
    stalled.forEach((s, i) => {
      const c = (s.obj.status!['conditions'] as { type: string; reason: string; message: string }[]).find((x) => x.type === 'Stalled')!;
      expect(verdicts[i]!.message).toContain(c.reason);
      expect(verdicts[i]!.message).toContain(c.message);
    });
  });
});

// Variations of recorded objects: the status stays the controller's, one field around it changes.
describe('health around the recorded statuses', () => {
  it('a new spec generation the operator has not observed yet is Progressing, even over Ready=True', () => {
    const obj = find('ready');
    obj.metadata['generation'] = Number(obj.metadata['generation']) + 1;
    expect(argo([obj])[0]).toMatchObject({ status: 'Progressing' });
    expect(kstatus([obj])[0]).toMatchObject({ status: 'InProgress' });
  });

  it('a stalled resource whose fix is not yet observed is Progressing, not Degraded', () => {
    const obj = find('stalled');
    obj.metadata['generation'] = Number(obj.metadata['generation']) + 1;
    expect(argo([obj])[0]).toMatchObject({ status: 'Progressing' });
    expect(kstatus([obj])[0]).toMatchObject({ status: 'InProgress' });
  });

  it('without any status (never reconciled) Argo CD waits: Progressing', () => {
    const obj = find('ready');
    delete obj.status;
    expect(argo([obj])[0]).toMatchObject({ status: 'Progressing' });
  });

  it('scaled to zero by hand is Suspended in Argo CD and Current in kstatus', () => {
    const obj = find('ready');
    obj.spec = { ...obj.spec, replicas: 0, autoscaling: { enabled: false } };
    expect(argo([obj])[0]).toMatchObject({ status: 'Suspended' });
    expect(kstatus([obj])[0]).toMatchObject({ status: 'Current' });
  });

  it('kstatus reports a resource being deleted as Terminating', () => {
    const obj = find('ready');
    obj.metadata['deletionTimestamp'] = '2026-01-01T00:00:00Z';
    expect(kstatus([obj])[0]).toMatchObject({ status: 'Terminating' });
  });
});

describe('the Argo CD environment', () => {
  it('has no string library, as argocd-cm checks run without useOpenLibs (the script must not need it)', () => {
    const script = readFileSync(LUA, 'utf8');
    expect(script).not.toMatch(/\bstring\.|:format\(|:sub\(|:find\(|:match\(|\bmath\.|\bos\./);
  });

  const runScript = (script: string): Verdict => {
    const dir = mkdtempSync(join(tmpdir(), 'argocd-lua-'));
    try {
      writeFileSync(join(dir, 'health.lua'), script);
      return (JSON.parse(execFileSync(join(toolsDir, 'argocd-lua-health'), [join(dir, 'health.lua')], { input: '[{}]', encoding: 'utf8' })) as Verdict[])[0]!;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('maps a status outside Argo CD health codes to Unknown, as Argo CD does', () => {
    expect(runScript('return { status = "Fine" }')).toEqual({ status: 'Unknown', message: 'Lua returned an invalid health status' });
  });

  it('has the string library closed, as Argo CD has for argocd-cm checks', () => {
    expect(runScript('return { status = string.upper("healthy") }').error).toMatch(/string/);
  });
});
