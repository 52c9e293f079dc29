// The accepted-findings judge of `make scan` (hack/scan.sh --match): which kube-score findings an entry of the list
// accepts (globs over source, object and message; the check id exactly), and that an unaccepted finding, a stale entry
// or an entry without a reason fails. The committed list is read by the same code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'lfm-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Finding = [source: string, check: string, object: string, grade: 'CRITICAL' | 'WARNING', message: string];

function judge(list: string, findings: Finding[]): { code: number | null; stdout: string; stderr: string } {
  const file = join(dir, `list-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, list);
  const res = spawnSync('bash', ['hack/scan.sh', '--match', file], { input: findings.map((f) => `${f.join('\t')}\n`).join(''), encoding: 'utf8' });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

const CPU_LIMIT = `# GPU engines
container-resources | engine-gpu:* | Deployment/* | (engine) CPU limit is not set
    no CFS quota on the GPU launch threads
      (a reason may span lines)
`;
const gpuCpuLimit: Finding = ['engine-gpu:a.yaml', 'container-resources', 'Deployment/a', 'CRITICAL', '(engine) CPU limit is not set'];

describe('hack/scan.sh --match', () => {
  it('accepts a finding that an entry matches, and counts it', () => {
    const res = judge(CPU_LIMIT, [gpuCpuLimit, ['engine-gpu:b.yaml', 'container-resources', 'Deployment/b', 'CRITICAL', '(engine) CPU limit is not set']]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('scan: 2 findings (2 CRITICAL, 0 WARNING): 2 accepted by the 1 entries');
  });

  it.each<[string, Finding]>([
    ['another source', ['engine-cpu:a.yaml', 'container-resources', 'Deployment/a', 'CRITICAL', '(engine) CPU limit is not set']],
    ['another check', ['engine-gpu:a.yaml', 'container-resources-x', 'Deployment/a', 'CRITICAL', '(engine) CPU limit is not set']],
    ['another kind', ['engine-gpu:a.yaml', 'container-resources', 'StatefulSet/a', 'CRITICAL', '(engine) CPU limit is not set']],
    ['another message of the same check', ['engine-gpu:a.yaml', 'container-resources', 'Deployment/a', 'CRITICAL', '(engine) Memory limit is not set']],
    ['another container', ['engine-gpu:a.yaml', 'container-resources', 'Deployment/a', 'CRITICAL', '(sidecar) CPU limit is not set']],
  ])('fails on a finding no entry accepts: %s, printed in the list\'s form', (_n, finding) => {
    const res = judge(CPU_LIMIT, [gpuCpuLimit, finding]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`NOT ACCEPTED (${finding[3]}): ${finding[1]} | ${finding[0]} | ${finding[2]} | ${finding[4]}`);
    expect(res.stdout).toContain('1 accepted by the 1 entries of');
  });

  it('fails on an entry that accepts nothing', () => {
    const res = judge(CPU_LIMIT, []);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('STALE accepted entry (it accepts nothing: remove it): container-resources | engine-gpu:* | Deployment/* | (engine) CPU limit is not set');
  });

  it.each([
    ['an entry without a reason', 'container-resources | * | * | *\n', 'no reason under container-resources'],
    ['an entry of three fields', 'container-resources | * | *\n    why\n', 'not CHECK | SOURCE | OBJECT | MESSAGE'],
    ['a reason before any entry', '    why\n', 'a reason before any entry'],
  ])('refuses %s', (_n, list, message) => {
    const res = judge(list, [gpuCpuLimit]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
  });

  it('reads the committed list: well formed, every entry with a reason (with no findings, every entry is stale)', () => {
    const res = spawnSync('bash', ['hack/scan.sh', '--match', 'hack/scan-accepted.txt'], { input: '', encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(1);
    const entries = Number(/accepted by the (\d+) entries/.exec(res.stdout)?.[1]);
    expect(entries).toBeGreaterThan(0);
    expect(res.stdout.match(/^STALE /gm)).toHaveLength(entries);
  });
});
