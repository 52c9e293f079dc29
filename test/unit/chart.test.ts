// The Helm chart, dist/install.yaml and the image definition, without a cluster: generated files are current, every
// value is documented and typed by values.schema.json, defaults agree with the operator, the engines and the image.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { buildValueDocs, escapeHelm, renderCrdTemplate, renderEnginePorts, renderRbacTemplate } from '../../cdk8s/chart-files.js';
import { buildGeneratedFiles, buildInstallInputs, ENGINE_PORTS, readSources } from '../../cdk8s/generate.js';
import { buildOperatorEnv } from '../../cdk8s/install.js';
import { OperatorConfig, parseOperatorConfig } from '../../src/controller/config.js';
import { ENGINES } from '../../src/engines/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const CHART = 'charts/lfm-operator';
const values = parse(read(`${CHART}/values.yaml`)) as Record<string, unknown>;
const schema = JSON.parse(read(`${CHART}/values.schema.json`)) as Schema;

interface Schema { type?: string | string[]; properties?: Record<string, Schema>; additionalProperties?: boolean | Schema; $ref?: string; items?: Schema }

function resolve(s: Schema): Schema {
  if (!s.$ref) return s;
  const name = s.$ref.replace('#/definitions/', '');
  return (schema as unknown as { definitions: Record<string, Schema> }).definitions[name]!;
}

describe('generated install files', () => {
  it('are what make manifests writes (none is stale)', () => {
    const files = buildGeneratedFiles(readSources(ROOT));
    for (const [path, content] of Object.entries(files)) expect(read(path), `${path} is stale: run make manifests`).toBe(content);
  });

  it('the chart RBAC template carries the rules of config/rbac/role.yaml verbatim', () => {
    const source = parseAllDocuments(read('config/rbac/role.yaml')).map((d) => d.toJS() as { kind: string; rules: unknown[] });
    // Strip the template actions to read the rules back.
    const rendered = renderRbacTemplate(read('config/rbac/role.yaml'))
      .split('\n').filter((l) => !l.includes('{{')).join('\n');
    const docs = parseAllDocuments(rendered).map((d) => d.toJS() as { kind: string; rules: unknown[] } | null).filter((d) => d !== null);
    expect(docs.map((d) => [d.kind, d.rules])).toEqual(source.map((d) => [d.kind, d.rules]));
  });

  it('the chart CRD template is the generated CRD behind crds.install, kept with crds.keep', () => {
    const crdYaml = read('crds/serving.lfm-operator.io_lfmdeployments.yaml');
    const template = renderCrdTemplate(crdYaml);
    expect(template).toMatch(/^{{- if .Values.crds.install }}$/m);
    expect(template).toMatch(/{{- if .Values.crds.keep }}\n {2}annotations:\n {4}helm.sh\/resource-policy: keep/);
    const body = parse(template.split('\n').filter((l) => !l.includes('{{')).join('\n')) as { spec: unknown };
    expect(body.spec).toEqual((parse(crdYaml) as { spec: unknown }).spec);
  });

  it('escapes text Helm would read as an action', () => {
    expect(escapeHelm('a {{ b }}')).toBe('a {{ "{{" }} b }}');
  });
});

describe('values.yaml and values.schema.json', () => {
  it('documents every value with a "# --" comment', () => {
    const rows = buildValueDocs(read(`${CHART}/values.yaml`));
    expect(rows.map((r) => r.key)).toContain('replicaCount');
    for (const r of rows) expect(r.description.length, r.key).toBeGreaterThan(10);
  });

  it('refuses an undocumented value', () => {
    expect(() => buildValueDocs('# -- fine\na: 1\nb: 2\n')).toThrow(/b has no "# --" description/);
  });

  it('types every default value, and closes every object the templates read key by key', () => {
    const walk = (value: unknown, s: Schema, path: string) => {
      const node = resolve(s);
      expect(node, `${path} is in the schema`).toBeDefined();
      if (value && typeof value === 'object' && !Array.isArray(value) && node.properties) {
        expect(node.additionalProperties, `${path} rejects misspelt keys`).toBe(false);
        for (const [k, v] of Object.entries(value)) {
          expect(node.properties[k], `${path}.${k} is in the schema`).toBeDefined();
          walk(v, node.properties[k]!, `${path}.${k}`);
        }
      }
    };
    walk(values, schema, 'values');
  });

  it('replicaCount defaults to 2 and must be an integer', () => {
    expect(values['replicaCount']).toBe(2);
    expect(schema.properties!['replicaCount']!.type).toBe('integer');
  });

  it('the operator settings are valid operator configuration', () => {
    const o = values['operator'] as Record<string, unknown>;
    const parsed = OperatorConfig.safeParse({
      leaderElectionNamespace: 'ns', identity: 'pod',
      concurrency: o['concurrency'], resyncSeconds: o['resyncSeconds'], logLevel: o['logLevel'], autoscaler: o['autoscaler'],
      metricsBindAddress: `:${(values['metrics'] as { port: number }).port}`, healthProbeBindAddress: `:${String(values['healthPort'])}`,
    });
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    const logLevels = (schema.properties!['operator']!.properties!['logLevel'] as { enum: string[] }).enum;
    expect(logLevels).toEqual(OperatorConfig.shape.logLevel.unwrap().options);
  });

  it('passes each engine image value to the operator as the variable its configuration reads, in the chart and in dist/install.yaml', () => {
    const images = { vllmImage: 'v:1', sglangImage: 's:1', llamacppImage: 'l:cpu', llamacppGpuImage: 'l:cuda' };
    const inputs = buildInstallInputs(readSources(ROOT));
    const env = buildOperatorEnv({ ...inputs.values, operator: { ...inputs.values.operator, ...images } });
    const vars = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    const parsed = parseOperatorConfig({ flags: {}, env: vars, randomSuffix: 'x' });
    expect(parsed.ok && parsed.config).toMatchObject(images);
    const template = read(`${CHART}/templates/deployment.yaml`);
    for (const [key, name] of [['llamacppImage', 'LFM_OPERATOR_LLAMACPP_IMAGE'], ['llamacppGpuImage', 'LFM_OPERATOR_LLAMACPP_GPU_IMAGE']]) {
      expect(template).toContain(`{{- with .Values.operator.${key} }}\n            - name: ${name}\n`);
      expect(env.find((e) => e.name === name)?.value).toBe(images[key as keyof typeof images]);
    }
  });

  it('the restricted security context: non-root, no privilege escalation, no capabilities, read-only root, seccomp', () => {
    expect(values['podSecurityContext']).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(values['securityContext']).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  it('the engine PodMonitor keeps queue depth, running, token counters, time to first token and KV cache usage of every engine, all real names', () => {
    const kept = (values['engineMetrics'] as { podMonitor: { metrics: string[] } }).podMonitor.metrics;
    for (const engine of Object.values(ENGINES)) {
      const m = engine.table.metrics as Record<string, string | null>;
      for (const wanted of ['queueDepth', 'running', 'timeToFirstToken', 'kvCacheUsage', 'promptTokensTotal', 'generationTokensTotal']) {
        // null: the engine's table says it exports no such metric (llama.cpp: no time to first token, no KV cache usage).
        if (m[wanted] === null) continue;
        expect(kept, `${wanted} of ${engine.name}`).toContain(m[wanted]);
      }
    }
    const known = new Set(Object.values(ENGINES).flatMap((e) => Object.keys((e.table.metrics as { all: Record<string, string> }).all)));
    for (const name of kept) expect(known.has(name), `${name} is exported by an engine`).toBe(true);
  });

  it('the network policy allows every engine\'s port, which make manifests writes from the engine modules', () => {
    const ports = [...new Set(Object.values(ENGINES).map((e) => e.port))].sort((a, b) => a - b);
    expect(ports).toContain(ENGINES.LlamaCpp.port);
    expect(ENGINE_PORTS).toEqual(ports);
    expect((values['networkPolicy'] as { enginePorts: number[] }).enginePorts).toEqual(ports);
  });

  it('rewrites only the enginePorts line of values.yaml, and refuses a values.yaml without exactly one', () => {
    const text = read(`${CHART}/values.yaml`);
    const stale = text.replace(/^ {2}enginePorts: .*$/m, '  enginePorts: [8000, 30000]');
    expect(stale).not.toBe(text);
    expect(renderEnginePorts(stale, ENGINE_PORTS)).toBe(text);
    expect(() => renderEnginePorts(text.replace(/^ {2}enginePorts: .*$/m, ''), ENGINE_PORTS)).toThrow(/found 0/);
    expect(() => renderEnginePorts('networkPolicy:\n  enginePorts: [1]\nother:\n  enginePorts: [2]\n', ENGINE_PORTS)).toThrow(/found 2/);
    expect(() => renderEnginePorts('other:\n  enginePorts: [1]\n', ENGINE_PORTS)).toThrow(/is not networkPolicy.enginePorts/);
  });
});

describe('the image the chart points at', () => {
  const pkg = JSON.parse(read('package.json')) as { version: string };
  const chart = parse(read(`${CHART}/Chart.yaml`)) as { appVersion: string };
  const dockerfile = read('Dockerfile');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('is the one make image builds: same repository, tag = appVersion = package.json version', () => {
    expect(chart.appVersion).toBe(pkg.version);
    const repo = /^IMAGE_REPO \?= (\S+)$/m.exec(read('mk/install.mk'))?.[1];
    expect((values['image'] as { repository: string }).repository).toBe(repo);
    expect((values['image'] as { tag: string }).tag).toBe('');
  });

  it('runs as a numeric non-root user (runAsNonRoot can verify it) matching the chart', () => {
    const user = /^USER (\d+):(\d+)$/m.exec(finalStage);
    expect(user).not.toBeNull();
    expect(Number(user![1])).toBeGreaterThan(0);
    expect((values['podSecurityContext'] as { runAsUser: number }).runAsUser).toBe(Number(user![1]));
  });

  it('copies exactly the production dependencies, package.json and dist/src, as hack/image-tree.sh assembles them', () => {
    const copies = [...finalStage.matchAll(/^COPY (?:--from=\S+ )?\S+ (\S+)$/gm)].map((m) => m[1]!.replace(/^\.\//, '')).sort();
    expect(copies).toEqual(['dist/src', 'node_modules', 'package.json']);
    const npmCi = (text: string) => /npm ci (--omit=dev --ignore-scripts)/.exec(text)?.[1];
    expect(npmCi(dockerfile)).toBe('--omit=dev --ignore-scripts');
    expect(npmCi(read('hack/image-tree.sh'))).toBe(npmCi(dockerfile));
    expect(read('hack/image-tree.sh')).toContain('cp -R "$ROOT/dist/src" "$STAGE/dist/src"');
  });

  it('uses Node 24, as package.json "engines" and hack/node.sh', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24\.\d+\.\d+-/m);
    const pinned = /NODE_PKG_VERSION="\$\{LFM_NODE_VERSION:-([\d.]+)\}"/.exec(read('hack/node.sh'))?.[1];
    expect(dockerfile).toContain(`node:${pinned}-`);
  });
});

describe('dist/install.yaml', () => {
  const inputs = buildInstallInputs(readSources(ROOT));
  const docs = parseAllDocuments(read('dist/install.yaml')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });

  it('holds the Namespace, CRD, ServiceAccount, RBAC, operator Deployment, metrics Service and PodDisruptionBudget', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Role',
      'RoleBinding', 'Service', 'ServiceAccount',
    ]);
  });

  it('runs the chart\'s default replica count with leader election', () => {
    const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as { spec: { replicas: number; template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
    expect(deployment.spec.replicas).toBe(inputs.values.replicaCount);
    expect(deployment.spec.template.spec.containers[0]!.env).toContainEqual({ name: 'LFM_OPERATOR_LEADER_ELECT', value: 'true' });
  });
});
