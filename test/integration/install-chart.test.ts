// The Helm chart against the real API server: lint, templates validated by server-side dry-run (default and
// non-default values), values.schema.json refusals, the same install as dist/install.yaml, and a helm install /
// upgrade (with a CRD change) / uninstall whose operator and activator pods land on the untainted CPU node under Pod
// Security "restricted".
import type { V1Deployment, V1EnvVar, V1Node, V1Pod } from '@kubernetes/client-node';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { parseOperatorConfig } from '../../src/controller/config.js';
import { coreApi, eventually, useNamespace } from '../support/cluster.js';
import { ACTIVATOR_POD_LABELS, ACTIVATOR_RULES, adoptCrdForHelm, CHART_DIR, CRD_NAME, ENDPOINTSLICE_RULE, helm, kubectl, restoreCrd, ROOT } from './install-support.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown>; status?: unknown; rules?: unknown[]; roleRef?: unknown; subjects?: unknown[] };

const parseDocs = (yaml: string): Obj[] => parseAllDocuments(yaml).map((d) => d.toJS() as Obj | null).filter((d): d is Obj => d !== null);
const HELM_OK = (args: string[], input?: string) => {
  const res = helm(args, input === undefined ? {} : { input });
  if (res.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${res.code}:\n${res.stderr}`);
  return res.stdout;
};

// Minimal stand-ins for the Prometheus Operator CRDs, so that the ServiceMonitor and PodMonitor can be dry-run
// (their schema is not checked beyond being objects of those kinds).
const monitoringCrds = ['ServiceMonitor', 'PodMonitor'].map((kind) => ({
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: `${kind.toLowerCase()}s.monitoring.coreos.com` },
  spec: {
    group: 'monitoring.coreos.com', scope: 'Namespaced',
    names: { kind, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(), listKind: `${kind}List` },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
}));

/** Every option switched away from its default. */
function nonDefaultValues(watch: string[]): Record<string, unknown> {
  return {
    replicaCount: 3,
    fullnameOverride: 'lfm-custom',
    image: { repository: 'registry.example.com/ml/lfm-operator', digest: `sha256:${'ab'.repeat(32)}`, pullPolicy: 'Always' },
    imagePullSecrets: [{ name: 'regcred' }],
    crds: { install: false },
    serviceAccount: { name: 'lfm-custom-sa', annotations: { 'example.com/role': 'operator' } },
    operator: {
      watchNamespaces: watch, vllmImage: 'vllm/vllm-openai:v0.11.2', sglangImage: 'lmsysorg/sglang:v0.5.9', autoscaler: false,
      concurrency: 8, resyncSeconds: 120, logLevel: 'debug', extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=384' }],
    },
    leaderElection: { leaseName: 'lfm-custom-leader' },
    podAnnotations: { 'example.com/scrape': 'false' },
    podLabels: { team: 'inference' },
    resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
    healthPort: 9081,
    metrics: { port: 9080, service: { port: 9090, annotations: { 'example.com/metrics': 'true' } }, serviceMonitor: { enabled: true, interval: '1m', labels: { release: 'prometheus' } } },
    engineMetrics: { podMonitor: { enabled: true, labels: { release: 'prometheus' } } },
    podDisruptionBudget: { minAvailable: '50%' },
    networkPolicy: {
      enabled: true, apiServerCIDRs: ['10.0.0.1/32'],
      metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      extraEgress: [{ ports: [{ port: 53, protocol: 'UDP' }] }],
    },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] } } },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'lfm-operator' } } }],
    activator: {
      replicaCount: 3, port: 9085,
      serviceAccount: { name: 'lfm-custom-activator-sa', annotations: { 'example.com/role': 'activator' } },
      extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=192' }],
      podAnnotations: { 'example.com/scrape': 'true' }, podLabels: { team: 'inference' },
      resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '1', memory: '192Mi' } },
      probes: { liveness: { periodSeconds: 20 }, readiness: { periodSeconds: 3 } },
      podDisruptionBudget: { minAvailable: '50%' },
      priorityClassName: '', nodeSelector: { 'kubernetes.io/os': 'linux', 'example.com/pool': 'edge' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'edge', effect: 'NoSchedule' }],
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: ACTIVATOR_POD_LABELS } }],
    },
  };
}

/** The Deployment named so. */
const deploymentNamed = (docs: Obj[], name: string) => {
  const d = docs.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
  if (!d) throw new Error(`no Deployment ${name} among ${docs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return d;
};
const podSpecOf = (d: Obj) => (d.spec as unknown as V1Deployment['spec'])!.template;

/** The operator configuration the rendered Deployment's environment gives the operator process. */
function configOf(deployment: Obj, namespace: string) {
  const env = ((deployment.spec as unknown as V1Deployment['spec'])!.template.spec!.containers[0]!.env ?? []) as V1EnvVar[];
  const vars = Object.fromEntries(env.map((e) => [e.name, e.value ?? (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace' ? namespace : undefined)]));
  const parsed = parseOperatorConfig({ flags: {}, env: vars, podNamespace: namespace, randomSuffix: 'x' });
  if (!parsed.ok) throw new Error(`the chart's environment is not a valid operator configuration: ${parsed.message}`);
  return { vars, config: parsed.config };
}

/**
 * Server-side dry-run of rendered manifests (every namespaced object carries its namespace); returns kubectl's stderr
 * (warnings). Conflicts are forced: the shared CRD has other managers, and only its acceptance matters here.
 */
function dryRun(manifests: string): string {
  const res = kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '--validate=strict', '--field-manager=install-test', '-f', '-'], { input: manifests });
  if (res.code !== 0) throw new Error(`server-side dry-run refused the chart:\n${res.stderr}`);
  return res.stderr;
}

describe('the chart, rendered', () => {
  const ns = useNamespace('chart');
  let valuesDir: string;

  beforeAll(() => {
    valuesDir = mkdtempSync(join(tmpdir(), 'lfm-chart-values-'));
    const res = kubectl(['apply', '--server-side', '--field-manager=install-test', '-f', '-'], { input: monitoringCrds.map((c) => stringify(c)).join('---\n') });
    if (res.code !== 0) throw new Error(`installing the monitoring CRD stand-ins: ${res.stderr}`);
  });
  afterAll(() => {
    rmSync(valuesDir, { recursive: true, force: true });
    kubectl(['delete', 'crd', ...monitoringCrds.map((c) => c.metadata.name), '--ignore-not-found']);
  });

  it('passes helm lint --strict with default and with non-default values', () => {
    const file = join(valuesDir, 'values.yaml');
    writeFileSync(file, stringify(nonDefaultValues(['team-a', 'team-b'])));
    expect(HELM_OK(['lint', '--strict', CHART_DIR])).toContain('0 chart(s) failed');
    expect(HELM_OK(['lint', '--strict', CHART_DIR, '-f', file])).toContain('0 chart(s) failed');
  });

  it('renders with default values what the API server accepts, with no Pod Security "restricted" warning', async () => {
    labelNamespace(ns.name, 'pod-security.kubernetes.io/warn=restricted', 'pod-security.kubernetes.io/enforce=restricted');
    const manifests = HELM_OK(['template', 'lfm-dry', CHART_DIR, `--namespace=${ns.name}`]);
    const warnings = dryRun(manifests);
    expect(warnings).not.toMatch(/PodSecurity|Warning/);
    const docs = parseDocs(manifests);
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'ClusterRole/lfm-dry-lfm-operator', 'ClusterRole/lfm-dry-lfm-operator-activator',
      'ClusterRoleBinding/lfm-dry-lfm-operator', 'ClusterRoleBinding/lfm-dry-lfm-operator-activator',
      `CustomResourceDefinition/${CRD_NAME}`,
      'Deployment/lfm-dry-lfm-operator', 'Deployment/lfm-dry-lfm-operator-activator',
      'PodDisruptionBudget/lfm-dry-lfm-operator', 'PodDisruptionBudget/lfm-dry-lfm-operator-activator',
      'Role/lfm-dry-lfm-operator-activator-pods', 'Role/lfm-dry-lfm-operator-leader-election',
      'RoleBinding/lfm-dry-lfm-operator-activator-pods', 'RoleBinding/lfm-dry-lfm-operator-leader-election',
      'Service/lfm-dry-lfm-operator-metrics',
      'ServiceAccount/lfm-dry-lfm-operator', 'ServiceAccount/lfm-dry-lfm-operator-activator',
    ]);
    const deployment = deploymentNamed(docs, 'lfm-dry-lfm-operator');
    expect((deployment.spec as { replicas: number }).replicas).toBe(2);
    const { vars, config } = configOf(deployment, ns.name);
    expect(config).toMatchObject({ leaderElect: true, leaderElectionNamespace: ns.name, namespaces: [], autoscaler: true, metricsBindAddress: ':8080', healthProbeBindAddress: ':8081' });
    expect(vars['LFM_OPERATOR_ACTIVATOR_NAMESPACE']).toBe(ns.name);
    expect(config).toMatchObject({ activatorNamespace: ns.name });
    expect(docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'lfm-dry-lfm-operator')!.rules).toContainEqual(ENDPOINTSLICE_RULE);

    // The activator: its own Deployment of two replicas, selected by the labels the operator finds it by, its own
    // ServiceAccount, exactly its rules, bound cluster-wide to that ServiceAccount, and a budget of one.
    const activator = deploymentNamed(docs, 'lfm-dry-lfm-operator-activator');
    expect(activator.metadata.namespace).toBe(ns.name);
    expect((activator.spec as { replicas: number; selector: { matchLabels: Record<string, string> } })).toMatchObject({ replicas: 2, selector: { matchLabels: ACTIVATOR_POD_LABELS } });
    const pod = podSpecOf(activator);
    expect(pod.metadata!.labels).toMatchObject({ ...ACTIVATOR_POD_LABELS, 'app.kubernetes.io/instance': 'lfm-dry', 'app.kubernetes.io/part-of': 'lfm-operator' });
    expect(pod.spec!.serviceAccountName).toBe('lfm-dry-lfm-operator-activator');
    expect(pod.spec!.containers.map((c) => [c.name, c.args, c.ports?.map((p) => [p.name, p.containerPort])])).toEqual([['activator', ['activator', '--listen', ':8080'], [['http', 8080]]]]);
    expect(pod.spec!.securityContext).toEqual(podSpecOf(deployment).spec!.securityContext);
    expect(pod.spec!.containers[0]!.securityContext).toEqual(podSpecOf(deployment).spec!.containers[0]!.securityContext);
    expect(docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'lfm-dry-lfm-operator-activator')!.rules).toEqual(ACTIVATOR_RULES);
    expect(docs.find((d) => d.kind === 'ClusterRoleBinding' && d.metadata.name === 'lfm-dry-lfm-operator-activator')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'lfm-dry-lfm-operator-activator' },
      subjects: [{ kind: 'ServiceAccount', name: 'lfm-dry-lfm-operator-activator', namespace: ns.name }],
    });
    expect(docs.find((d) => d.kind === 'PodDisruptionBudget' && d.metadata.name === 'lfm-dry-lfm-operator-activator')!.spec).toMatchObject({ minAvailable: 1 });
  });

  it('renders no activator object with activator.enabled=false, and still tells the operator its namespace', () => {
    const docs = parseDocs(HELM_OK(['template', 'lfm-off', CHART_DIR, `--namespace=${ns.name}`, '--set=activator.enabled=false', '--set=networkPolicy.enabled=true', '--set=metrics.serviceMonitor.enabled=true']));
    expect(docs.filter((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'activator')).toEqual([]);
    expect(docs.filter((d) => d.metadata.name.includes('activator')).map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual(['Role/lfm-off-lfm-operator-activator-pods', 'RoleBinding/lfm-off-lfm-operator-activator-pods']);
    expect(configOf(deploymentNamed(docs, 'lfm-off-lfm-operator'), ns.name).vars['LFM_OPERATOR_ACTIVATOR_NAMESPACE']).toBe(ns.name);
  });

  it('renders with every option changed what the API server accepts, and configures the operator from it', async () => {
    const watch = ['team-a', 'team-b'].map((n) => `${ns.name}-${n}`);
    for (const w of watch) await coreApi().createNamespace({ body: { metadata: { name: w, labels: { 'devcluster.lfm-operator.io/test': 'true' } } } });
    try {
      const file = join(valuesDir, 'values.yaml');
      writeFileSync(file, stringify(nonDefaultValues(watch)));
      const manifests = HELM_OK(['template', 'lfm-dry', CHART_DIR, `--namespace=${ns.name}`, '-f', file]);
      dryRun(manifests);
      const docs = parseDocs(manifests);
      const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
      expect(byKind('CustomResourceDefinition')).toEqual([]);
      expect(byKind('ClusterRoleBinding')).toEqual([]);
      // The operator's and the activator's ClusterRoles in each watched namespace; the operator's Roles in its own.
      expect(byKind('RoleBinding').map((b) => `${b.metadata.namespace}/${b.metadata.name}`).sort()).toEqual([
        `${ns.name}/lfm-custom-activator-pods`, `${ns.name}/lfm-custom-leader-election`,
        ...watch.flatMap((w) => [`${w}/lfm-custom`, `${w}/lfm-custom-activator`]),
      ].sort());
      for (const b of byKind('RoleBinding').filter((r) => r.metadata.name === 'lfm-custom-activator')) {
        expect(b).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'lfm-custom-activator' }, subjects: [{ kind: 'ServiceAccount', name: 'lfm-custom-activator-sa', namespace: ns.name }] });
      }
      expect(byKind('ServiceMonitor').map((m) => m.metadata.name).sort()).toEqual(['lfm-custom', 'lfm-custom-activator']);
      expect(byKind('Service').find((v) => v.metadata.name === 'lfm-custom-activator-metrics')!.spec).toMatchObject({
        clusterIP: 'None', selector: ACTIVATOR_POD_LABELS, ports: [{ name: 'metrics', port: 9085, targetPort: 'http' }],
      });
      expect(byKind('PodMonitor')[0]!.spec).toMatchObject({ namespaceSelector: { matchNames: watch }, selector: { matchLabels: { 'app.kubernetes.io/component': 'engine' } } });
      expect(byKind('NetworkPolicy').map((p) => p.metadata.name).sort()).toEqual(['lfm-custom', 'lfm-custom-activator']);
      const activatorPolicy = byKind('NetworkPolicy').find((p) => p.metadata.name === 'lfm-custom-activator')!.spec as { podSelector: unknown; ingress: unknown[]; egress: { to?: unknown[] }[] };
      expect(activatorPolicy.podSelector).toMatchObject({ matchLabels: ACTIVATOR_POD_LABELS });
      expect(activatorPolicy.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
      expect(activatorPolicy.egress.map((e) => e.to)).toEqual([
        [{ ipBlock: { cidr: '10.0.0.1/32' } }],
        [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/managed-by': 'lfm-operator', 'app.kubernetes.io/component': 'engine' } } }],
      ]);
      const activator = podSpecOf(deploymentNamed(docs, 'lfm-custom-activator'));
      expect((deploymentNamed(docs, 'lfm-custom-activator').spec as { replicas: number }).replicas).toBe(3);
      expect(activator.spec!.serviceAccountName).toBe('lfm-custom-activator-sa');
      expect(activator.spec!.containers[0]).toMatchObject({
        image: `registry.example.com/ml/lfm-operator@sha256:${'ab'.repeat(32)}`, args: ['activator', '--listen', ':9085'],
        ports: [{ name: 'http', containerPort: 9085 }], resources: { limits: { cpu: '1', memory: '192Mi' } },
      });
      expect(activator.spec!.containers[0]!.env).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=192' });
      expect(activator.spec!.containers[0]!.env).toContainEqual({ name: 'LFM_OPERATOR_NAMESPACES', value: watch.join(',') });
      expect(activator.metadata!.labels).toMatchObject({ team: 'inference', ...ACTIVATOR_POD_LABELS });
      expect(byKind('PodDisruptionBudget').find((p) => p.metadata.name === 'lfm-custom-activator')!.spec).toMatchObject({ minAvailable: '50%' });
      const deployment = deploymentNamed(docs, 'lfm-custom');
      const pod = (deployment.spec as unknown as V1Deployment['spec'])!.template;
      expect(pod.spec!.containers[0]!.image).toBe(`registry.example.com/ml/lfm-operator@sha256:${'ab'.repeat(32)}`);
      expect(pod.spec!.serviceAccountName).toBe('lfm-custom-sa');
      expect(pod.spec!.containers[0]!.ports!.map((p) => p.containerPort)).toEqual([9080, 9081]);
      const { vars, config } = configOf(deployment, ns.name);
      expect(config).toMatchObject({
        namespaces: watch, vllmImage: 'vllm/vllm-openai:v0.11.2', sglangImage: 'lmsysorg/sglang:v0.5.9', autoscaler: false,
        concurrency: 8, resyncSeconds: 120, logLevel: 'debug', leaderElectionId: 'lfm-custom-leader',
        metricsBindAddress: ':9080', healthProbeBindAddress: ':9081',
      });
      expect(vars['NODE_OPTIONS']).toBe('--max-old-space-size=384');
    } finally {
      for (const w of watch) await coreApi().deleteNamespace({ name: w });
    }
  });

  it('refuses bad values with a message naming the value', () => {
    for (const [set, message] of [
      ['replicaCount=notanumber', "at '/replicaCount': got string, want integer"],
      ['operator.logLevel=loud', '/operator/logLevel'],
      ['operator.concurrency=0', '/operator/concurrency'],
      ['replicaCont=3', 'replicaCont'],
      ['activator.replicaCount=two', "at '/activator/replicaCount': got string, want integer"],
      ['activator.port=0', '/activator/port'],
      ['activator.replicas=2', 'replicas'],
    ] as const) {
      const res = helm(['template', 'lfm-bad', CHART_DIR, '--set', set]);
      expect(res.code, set).not.toBe(0);
      expect(res.stderr, set).toContain(message);
    }
  });

  it('is the same install as dist/install.yaml (the cdk8s app), apart from Helm\'s labels and the Namespace', () => {
    const strip = (o: Obj): Obj => {
      for (const labels of [o.metadata.labels, (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template?.metadata?.labels]) {
        if (labels) { delete labels['helm.sh/chart']; delete labels['app.kubernetes.io/managed-by']; }
      }
      if (o.metadata.annotations) {
        delete o.metadata.annotations['helm.sh/resource-policy'];
        if (Object.keys(o.metadata.annotations).length === 0) delete o.metadata.annotations;
      }
      return o;
    };
    const key = (o: Obj) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const fromHelm = new Map(parseDocs(HELM_OK(['template', 'lfm-operator', CHART_DIR, '--namespace=lfm-operator-system'])).map((o) => [key(o), strip(o)]));
    const plain = parseDocs(readFileSync(join(ROOT, 'dist/install.yaml'), 'utf8')).filter((o) => o.kind !== 'Namespace');
    expect(plain.map(key).sort()).toEqual([...fromHelm.keys()].sort());
    for (const o of plain) {
      const h = JSON.parse(JSON.stringify(fromHelm.get(key(o)))) as unknown;
      expect(isDeepStrictEqual(h, JSON.parse(JSON.stringify(o))) ? key(o) : { [key(o)]: { helm: h, plain: o } }).toBe(key(o));
    }
  });

  it('declares nothing the operator or the autoscaler owns, with every option on', () => {
    const file = join(valuesDir, 'values.yaml');
    writeFileSync(file, stringify({ ...nonDefaultValues(['a']), crds: { install: true } }));
    const docs = parseDocs(HELM_OK(['template', 'lfm-own', CHART_DIR, '-f', file]));
    for (const d of docs) {
      expect(d.kind, 'no LfmDeployment').not.toBe('LfmDeployment');
      expect(d.status, `${d.kind} ${d.metadata.name} has no status`).toBeUndefined();
      expect(d.metadata.labels?.['app.kubernetes.io/managed-by'], 'nothing looks like an operator child').not.toBe('lfm-operator');
      expect(JSON.stringify(d)).not.toContain('controller.kubernetes.io/pod-deletion-cost');
    }
  });
});

function labelNamespace(name: string, ...labels: string[]): void {
  const res = kubectl(['label', 'namespace', name, ...labels, '--overwrite']);
  if (res.code !== 0) throw new Error(`labelling namespace ${name}: ${res.stderr}`);
}

describe('helm install, upgrade and uninstall', () => {
  const ns = useNamespace('helm');
  const release = 'lfm-chart';
  let chartCopy: string | undefined;

  afterAll(async () => {
    if (chartCopy) rmSync(chartCopy, { recursive: true, force: true });
    await restoreCrd();
  });

  it('installs under Pod Security "restricted" with pods on the untainted CPU node, upgrades the CRD, and uninstalls keeping it', async () => {
    const core = coreApi();
    labelNamespace(ns.name, 'pod-security.kubernetes.io/enforce=restricted');
    adoptCrdForHelm(release, ns.name);
    try {
      HELM_OK(['install', release, CHART_DIR, `--namespace=${ns.name}`, '--wait', '--timeout=90s']);

      const selector = `app.kubernetes.io/instance=${release}`;
      // Two operator pods and two activator pods.
      const pods = await eventually(async () => {
        const list = (await core.listNamespacedPod({ namespace: ns.name, labelSelector: selector })).items;
        expect(list.map((p) => p.metadata!.labels!['app.kubernetes.io/component']).sort()).toEqual(['activator', 'activator', 'controller', 'controller']);
        for (const p of list) expect(p.status?.phase, p.metadata?.name).toBe('Running');
        return list;
      }, { timeoutMs: 60_000 });
      const nodes = new Map((await core.listNode()).items.map((n): [string, V1Node] => [n.metadata!.name!, n]));
      for (const p of pods as V1Pod[]) {
        const node = nodes.get(p.spec!.nodeName!)!;
        expect(node.spec?.taints ?? [], `${p.metadata!.name} on ${node.metadata!.name}`).toEqual([]);
        expect(node.status?.capacity?.['nvidia.com/gpu'], 'a CPU-only node').toBeUndefined();
      }
      const crd = JSON.parse(kubectl(['get', 'crd', CRD_NAME, '-o', 'json']).stdout) as Obj & { spec: { versions: { additionalPrinterColumns: { name: string }[] }[] } };
      expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');

      // The next chart version adds a printer column to the CRD: helm upgrade must apply it (it would not from crds/).
      chartCopy = mkdtempSync(join(tmpdir(), 'lfm-chart-next-'));
      cpSync(CHART_DIR, chartCopy, { recursive: true });
      const crdTemplate = join(chartCopy, 'templates/crd.yaml');
      writeFileSync(crdTemplate, readFileSync(crdTemplate, 'utf8').replace('      additionalPrinterColumns:\n',
        '      additionalPrinterColumns:\n        - name: Endpoint\n          type: string\n          jsonPath: .status.endpoint\n          priority: 1\n'));
      const chartYaml = join(chartCopy, 'Chart.yaml');
      writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version: .*$/m, 'version: 0.1.1-next'));
      HELM_OK(['upgrade', release, chartCopy, `--namespace=${ns.name}`, '--wait', '--timeout=90s']);
      await eventually(() => {
        const live = JSON.parse(kubectl(['get', 'crd', CRD_NAME, '-o', 'json']).stdout) as typeof crd;
        expect(live.spec.versions[0]!.additionalPrinterColumns.map((c) => c.name)).toContain('Endpoint');
      });
      expect(HELM_OK(['history', release, `--namespace=${ns.name}`])).toMatch(/lfm-operator-0\.1\.1-next/);

      const out = HELM_OK(['uninstall', release, `--namespace=${ns.name}`, '--wait']);
      expect(out).toContain('kept due to the resource policy');
      expect(kubectl(['get', 'deployment', '-n', ns.name, '-l', selector, '-o', 'name']).stdout.trim()).toBe('');
      expect(kubectl(['get', 'clusterrole', `${release}-lfm-operator`]).code).not.toBe(0);
      expect(kubectl(['get', 'clusterrolebinding', `${release}-lfm-operator`]).code).not.toBe(0);
      expect(kubectl(['get', 'clusterrole', `${release}-lfm-operator-activator`]).code).not.toBe(0);
      expect(kubectl(['get', 'clusterrolebinding', `${release}-lfm-operator-activator`]).code).not.toBe(0);
      expect(kubectl(['get', 'crd', CRD_NAME]).code).toBe(0);
    } finally {
      helm(['uninstall', release, `--namespace=${ns.name}`]);
    }
  });
});
