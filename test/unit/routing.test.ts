// The request path (issue 12): the InferencePool, the endpoint picker (EPP) and its configuration, the objectives and
// the route, rendered by src/render/routing.ts. Every rendered EndpointPickerConfig and every EPP argument is checked
// against the oracle of the pinned llm-d-router release, ../shared/reference/routing/epp-config.json (its decoding is
// strict: a key, plugin type, parameter, feature gate or flag it does not know stops the picker), and the pool and
// the objectives against the upstream CRDs in ../shared/thirdparty/crds/ (schema, defaults and CEL rules).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { evaluateCelRules } from '../../src/api/cel.js';
import type { JsonSchema } from '../../src/api/crd.js';
import { buildRootSchema, parseLfmDeployment } from '../../src/api/parse.js';
import { ENGINE_NAMES, EPP_DEFAULT_IMAGE, EPP_PROFILES, LfmDeployment, ROOT_CEL_RULES, ROUTING_NAME_MESSAGE, type EngineName, type LfmDeploymentInput } from '../../src/api/v1alpha1.js';
import { ENGINES } from '../../src/engines/index.js';
import { EPP_ENGINE_TYPES, LABEL_DEPLOYMENT, LABEL_EPP_ENGINE_TYPE, renderChildren, renderDeployment } from '../../src/render/children.js';
import { buildPlanReport } from '../../src/render/plan-report.js';
import {
  ANNOTATION_EPP_CONFIG_HASH, buildEndpointPickerArgs, computePrefixCaching, ENDPOINT_PICKER_KINDS, EPP_CONFIG_FILE, EPP_PORTS, LABEL_ENDPOINT_PICKER,
  LABEL_ROUTING, renderEndpointPickerConfig, renderRoutingChildren, resolveEppProfile, ROUTING_KINDS, type EndpointPickerConfig, type RoutingChild,
  type RoutingObject, type RoutingRenderOptions,
} from '../../src/render/routing.js';
import { lfmDeployment, llamaCppCpuDeployment, type LfmDeploymentBuilder } from '../support/builders.js';

const SHARED = new URL('../../../shared/', import.meta.url);

// ---- The oracle of the pinned release ------------------------------------------------------------------------------

interface Oracle {
  release: string;
  image: string;
  apiVersions: { accepted: string[]; deprecated: string[]; kind: string };
  topLevelKeys: Record<string, { deprecated?: boolean }>;
  featureGates: Record<string, unknown>;
  plugins: Record<string, { parametersDecoded: boolean; engineConfigFields?: Record<string, unknown>; builtInEngineConfigs?: Record<string, Record<string, string>>; parameters: Record<string, { constraint?: string }> }>;
  registeredPluginTypes: { types: Record<string, { stability: string; deprecated?: boolean }> };
  acceptedKeyPaths: { config: string[]; pluginParameters: string[] };
  notAtThisRelease: string[];
  flags: Record<string, { type: string; rejectedIfSet?: boolean; deprecated?: boolean }>;
  flagRules: { removedSinceV0_9_0: string[] };
  grpcHealthServices: { name: string }[];
}

const oracle = JSON.parse(readFileSync(new URL('reference/routing/epp-config.json', SHARED), 'utf8')) as Oracle;

/** The key paths of a value: a.b for objects, a[] for arrays; nothing below `stop` (plugins[].parameters). */
function collectKeyPaths(value: unknown, prefix: string, stop: (path: string) => boolean, out: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    out.add(`${prefix}[]`);
    for (const item of value) collectKeyPaths(item, `${prefix}[]`, stop, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.add(path);
      if (!stop(path)) collectKeyPaths(v, path, stop, out);
    }
  }
  return out;
}

const acceptedConfigPaths = oracle.acceptedKeyPaths.config.map((p) => p.replace(/ \(deprecated\)$/, ''));
/** Whether a key path of a configuration is accepted: listed, or the parent of a listed one. */
const isAcceptedPath = (path: string) => acceptedConfigPaths.some((a) => a === path || a.startsWith(`${path}.`) || a.startsWith(`${path}[]`));

/** "type: a.b[].c" entries of the oracle, as the parameter key paths each plugin type accepts. */
const acceptedParameterPaths = new Map<string, Set<string>>();
for (const entry of oracle.acceptedKeyPaths.pluginParameters) {
  const [type, path] = entry.split(': ') as [string, string];
  if (!acceptedParameterPaths.has(type)) acceptedParameterPaths.set(type, new Set());
  if (!path.startsWith('(')) acceptedParameterPaths.get(type)!.add(path);
}

/** A Prometheus metric spec as the extractor parses it: a legacy metric name, optionally with label matchers. */
const METRIC_SPEC = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="?[^,}"]*"?(,[a-zA-Z_][a-zA-Z0-9_]*="?[^,}"]*"?)*\})?$/;

function checkExtractorParameters(parameters: Record<string, unknown>, problems: string[]): void {
  const fields = oracle.plugins['core-metrics-extractor']!.engineConfigFields!;
  const configs = (parameters['engineConfigs'] ?? []) as Record<string, string>[];
  const names = configs.map((c) => c['name']);
  if (new Set(names).size !== names.length) problems.push('engineConfigs names are not unique');
  for (const c of configs) {
    if (!c['name'] || c['name'] === 'default') problems.push(`engineConfigs name ${c['name']} is empty or reserved`);
    for (const [k, v] of Object.entries(c)) {
      if (!(k in fields)) problems.push(`engineConfigs.${k} is not a field`);
      if (k.endsWith('Spec') && v !== '' && !METRIC_SPEC.test(v)) problems.push(`engineConfigs.${k} ${v} is not a metric spec`);
    }
  }
  const defaultEngine = parameters['defaultEngine'];
  const known = [...Object.keys(oracle.plugins['core-metrics-extractor']!.builtInEngineConfigs!), ...names];
  if (defaultEngine !== undefined && !known.includes(defaultEngine as string)) problems.push(`defaultEngine ${String(defaultEngine)} is not an engine`);
}

function checkPlugin(plugin: { name?: string; type: string; parameters?: Record<string, unknown> }, allowExperimental: boolean, problems: string[]): void {
  const registered = oracle.registeredPluginTypes.types[plugin.type];
  if (!registered) return void problems.push(`plugin type ${plugin.type} is not registered`);
  if (registered.stability !== 'Beta' && !allowExperimental) problems.push(`plugin type ${plugin.type} is ${registered.stability}: needs --allow-experimental-plugins`);
  if (registered.deprecated) problems.push(`plugin type ${plugin.type} is deprecated`);
  const documented = oracle.plugins[plugin.type];
  if (!documented) return void problems.push(`plugin type ${plugin.type} has no parameter table in the oracle`);
  if (plugin.parameters === undefined) return;
  if (!documented.parametersDecoded) return void problems.push(`${plugin.type} ignores its parameters: render none`);
  const accepted = acceptedParameterPaths.get(plugin.type) ?? new Set();
  for (const path of collectKeyPaths(plugin.parameters, '', () => false, new Set())) {
    if (!accepted.has(path.replace(/\[\]$/, ''))) problems.push(`${plugin.type} parameter ${path} is unknown`);
  }
  if (plugin.type === 'metrics-data-source' && !['http', 'https'].includes(plugin.parameters['scheme'] as string)) problems.push('metrics-data-source scheme');
  if (plugin.type === 'core-metrics-extractor') checkExtractorParameters(plugin.parameters, problems);
}

/** Everything the pinned EPP checks at load time that a rendered configuration can get wrong; [] when it loads. */
function checkConfigAgainstOracle(config: unknown, allowExperimental = false): string[] {
  const problems: string[] = [];
  const c = config as EndpointPickerConfig & Record<string, unknown>;
  if (!oracle.apiVersions.accepted.includes(c.apiVersion) || oracle.apiVersions.deprecated.includes(c.apiVersion)) problems.push(`apiVersion ${c.apiVersion}`);
  if (c.kind !== oracle.apiVersions.kind) problems.push(`kind ${c.kind}`);
  for (const key of Object.keys(c)) {
    if (!(key in oracle.topLevelKeys)) problems.push(`top-level key ${key} is unknown`);
    else if (oracle.topLevelKeys[key]!.deprecated) problems.push(`top-level key ${key} is deprecated`);
  }
  for (const path of collectKeyPaths(c, '', (p) => p === 'plugins[].parameters', new Set())) {
    if (!isAcceptedPath(path)) problems.push(`key ${path} is not accepted`);
    if (oracle.notAtThisRelease.includes(path)) problems.push(`key ${path} is newer than ${oracle.release}`);
  }
  for (const gate of c.featureGates ?? []) {
    const [name, value] = gate.split('=');
    if (!(name! in oracle.featureGates)) problems.push(`feature gate ${name} is unknown`);
    if (value !== undefined && !['true', 'false'].includes(value.trim().toLowerCase())) problems.push(`feature gate ${gate} value`);
  }
  const names = c.plugins.map((p) => p.name ?? p.type);
  if (new Set(names).size !== names.length) problems.push('plugin names are not unique');
  for (const plugin of c.plugins) checkPlugin(plugin, allowExperimental, problems);
  const profiles = c.schedulingProfiles.map((p) => p.name);
  if (profiles.some((p) => !p) || new Set(profiles).size !== profiles.length) problems.push('scheduling profile names');
  // One profile: the single-profile handler is injected; more would need a handler.
  if (profiles.length !== 1 && !c.plugins.some((p) => p.type.endsWith('profile-handler'))) problems.push('several profiles and no profile handler');
  for (const ref of c.schedulingProfiles.flatMap((p) => p.plugins)) {
    if (!names.includes(ref.pluginRef)) problems.push(`pluginRef ${ref.pluginRef} names no plugin`);
    if (typeof ref.weight !== 'number' || !(ref.weight > 0)) problems.push(`weight of ${ref.pluginRef}`);
  }
  return problems;
}

/** Every argument of the EPP's command line against the flags the pinned release defines; [] when it starts. */
function checkArgsAgainstOracle(args: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (!token.startsWith('--')) { problems.push(`${token} is not a flag`); continue; }
    const [name, value] = token.split('=') as [string, string | undefined];
    const flag = oracle.flags[name];
    if (!flag) { problems.push(`${name} is not a flag of ${oracle.release}`); continue; }
    if (seen.has(name)) problems.push(`${name} is repeated`);
    seen.add(name);
    if (flag.rejectedIfSet || flag.deprecated || oracle.flagRules.removedSinceV0_9_0.includes(name)) problems.push(`${name} is rejected or deprecated`);
    if (flag.type === 'bool') {
      if (value !== undefined && !['true', 'false'].includes(value)) problems.push(`${token}: a bool takes =true or =false`);
    } else if (value === undefined) {
      const next = args[++i];
      if (next === undefined || next.startsWith('--')) problems.push(`${name} has no value`);
      else if (flag.type === 'int' && !/^\d+$/.test(next)) problems.push(`${name} ${next} is not an int`);
    }
  }
  if (seen.has('--pool-name') === seen.has('--endpoint-selector')) problems.push('exactly one of --pool-name and --endpoint-selector');
  if (seen.has('--config-file') && seen.has('--config-text')) problems.push('--config-file and --config-text are exclusive');
  return problems;
}

// ---- Fixtures -----------------------------------------------------------------------------------------------------

type Routing = NonNullable<LfmDeploymentInput['spec']['routing']>;
const ENABLED: Routing = { inferencePool: { enabled: true } };

function withRouting(builder: LfmDeploymentBuilder, routing: Routing = ENABLED): LfmDeployment {
  const input = builder.input();
  input.spec.routing = routing;
  return LfmDeployment.parse(input);
}

const planOf = (lfmd: LfmDeployment) => {
  const report = buildPlanReport(lfmd);
  expect(report.fits, report.reasons.map((r) => r.message).join('; ')).toBe(true);
  return report.plan;
};

const render = (lfmd: LfmDeployment, options?: RoutingRenderOptions) => renderRoutingChildren(lfmd, planOf(lfmd), options);
const find = (children: RoutingChild[], kind: string) => children.filter((c) => c.object.kind === kind).map((c) => c.object);
const one = (children: RoutingChild[], kind: string) => {
  const found = find(children, kind);
  expect(found, kind).toHaveLength(1);
  return found[0]! as RoutingObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

/** Per engine: a deployment, and the extraArgs that turn prefix caching on and off for LFM2 (a hybrid model). */
const ENGINE_CASES: Record<EngineName, { builder: () => LfmDeploymentBuilder; on: string[]; off: string[] }> = {
  VLLM: { builder: () => lfmDeployment(), on: ['--enable-prefix-caching'], off: [] },
  SGLang: { builder: () => lfmDeployment().engine('SGLang'), on: [], off: ['--disable-radix-cache'] },
  LlamaCpp: { builder: () => llamaCppCpuDeployment(), on: [], off: ['--no-cache-prompt'] },
};

function buildCase(engine: EngineName, prefix: boolean, routing: Routing): LfmDeployment {
  const c = ENGINE_CASES[engine];
  const args = prefix ? c.on : c.off;
  const builder = c.builder();
  return withRouting(args.length > 0 ? builder.extraArgs(...args) : builder, routing);
}

const MATRIX = ENGINE_NAMES.flatMap((engine) => EPP_PROFILES.flatMap((profile) => [true, false].flatMap((prefix) =>
  [1, 2].flatMap((replicas) => [false, true].map((flowControl) => ({ engine, profile, prefix, replicas, flowControl }))))));

// ---- The configuration and arguments against the oracle ------------------------------------------------------------

describe('the oracle', () => {
  it('is the release the default image pins', () => {
    expect(oracle.release).toBe('v0.10.0');
    expect(oracle.image).toBe(EPP_DEFAULT_IMAGE);
  });

  it('catches what the pinned release refuses (the checker is not vacuous)', () => {
    const good = renderEndpointPickerConfig(withRouting(lfmDeployment()), planOf(withRouting(lfmDeployment())));
    expect(checkConfigAgainstOracle(good)).toEqual([]);
    expect(checkConfigAgainstOracle({ ...good, metadata: {} })).toContain('top-level key metadata is unknown');
    expect(checkConfigAgainstOracle({ ...good, flowControl: { noEndpointRequestTTL: '600s' } }).join()).toContain('flowControl.noEndpointRequestTTL');
    expect(checkConfigAgainstOracle({ ...good, featureGates: ['dataLayer'] })).toContain('feature gate dataLayer is unknown');
    expect(checkConfigAgainstOracle({ ...good, plugins: [...good.plugins, { type: 'sglanghttp-parser' }] })).toContain('plugin type sglanghttp-parser is not registered');
    expect(checkConfigAgainstOracle({ ...good, plugins: [{ type: 'prefix-cache-scorer', parameters: { blockSize: 16 } }] }).join()).toContain('prefix-cache-scorer parameter blockSize is unknown');
    expect(checkConfigAgainstOracle({ ...good, plugins: [{ type: 'core-metrics-extractor', parameters: { engineConfigs: [{ name: 'x', queueSpec: 'a' }] } }] }).join())
      .toContain('core-metrics-extractor parameter engineConfigs[].queueSpec is unknown');
    expect(checkArgsAgainstOracle(['--pool-name', 'a', '--model-server-metrics-port', '8000'])).toContain('--model-server-metrics-port is not a flag of v0.10.0');
    expect(checkArgsAgainstOracle(['--pool-name', 'a', '--total-queued-requests-metric', 'x'])).toContain('--total-queued-requests-metric is rejected or deprecated');
    expect(checkArgsAgainstOracle(['--pool-name', 'a', '--metrics-endpoint-auth', 'false'])).toContain('false is not a flag');
  });
});

describe('every rendered EPP configuration and command line loads in the pinned release', () => {
  it.each(MATRIX)('$engine, profile $profile, prefix caching $prefix, $replicas replica(s), flow control $flowControl', ({ engine, profile, prefix, replicas, flowControl }) => {
    const lfmd = buildCase(engine, prefix, { inferencePool: { enabled: true, endpointPicker: { profile, replicas } } });
    const children = render(lfmd, { flowControl });
    const configMap = one(children, 'ConfigMap');
    const text = Object.values(configMap['data'] as Record<string, string>);
    expect(text).toHaveLength(1);
    const config = parse(text[0]!) as EndpointPickerConfig;
    expect(checkConfigAgainstOracle(config)).toEqual([]);
    expect(config).toEqual(renderEndpointPickerConfig(lfmd, planOf(lfmd), { flowControl }));
    const container = one(children, 'Deployment')['spec'].template.spec.containers[0];
    expect(checkArgsAgainstOracle(container.args)).toEqual([]);
    expect(container.args.includes('--allow-experimental-plugins')).toBe(false);
    expect(computePrefixCaching(lfmd, planOf(lfmd))).toBe(prefix);
    const scorers = config.schedulingProfiles[0]!.plugins.map((p) => p.pluginRef);
    const effective = profile === 'Auto' ? (prefix ? 'Default' : 'LoadOnly') : profile;
    expect(resolveEppProfile(lfmd, planOf(lfmd))).toBe(effective);
    expect(scorers.includes('prefix-cache-scorer')).toBe(effective === 'Default');
    expect(config.featureGates).toEqual(flowControl ? ['flowControl'] : undefined);
  });

  it('passes extraArgs the engines accept (the matrix is made of valid deployments)', () => {
    for (const engine of ENGINE_NAMES) {
      for (const prefix of [true, false]) expect(buildPlanReport(buildCase(engine, prefix, ENABLED)).fits).toBe(true);
    }
  });
});

describe('the EPP configuration per engine (unit-tested values)', () => {
  const config = (lfmd: LfmDeployment) => renderEndpointPickerConfig(lfmd, planOf(lfmd));
  const scoring = (...plugins: [string, number][]) => [{ name: 'default', plugins: plugins.map(([pluginRef, weight]) => ({ pluginRef, weight })) }];
  const source = { type: 'metrics-data-source', parameters: { scheme: 'http', path: '/metrics' } };

  it('vLLM with prefix caching: the chart\'s default profile and the built-in vllm mapping', () => {
    expect(config(buildCase('VLLM', true, ENABLED))).toEqual({
      apiVersion: 'llm-d.ai/v1alpha1',
      kind: 'EndpointPickerConfig',
      plugins: [{ type: 'queue-scorer' }, { type: 'kv-cache-utilization-scorer' }, { type: 'prefix-cache-scorer' }, source,
        { type: 'core-metrics-extractor', parameters: { defaultEngine: 'vllm' } }],
      schedulingProfiles: scoring(['queue-scorer', 2], ['kv-cache-utilization-scorer', 2], ['prefix-cache-scorer', 3]),
    });
  });

  it('vLLM serving LFM2 (hybrid) without --enable-prefix-caching: Auto drops the prefix-cache scorer', () => {
    expect(config(buildCase('VLLM', false, ENABLED))).toEqual({
      apiVersion: 'llm-d.ai/v1alpha1',
      kind: 'EndpointPickerConfig',
      plugins: [{ type: 'queue-scorer' }, { type: 'kv-cache-utilization-scorer' }, source, { type: 'core-metrics-extractor', parameters: { defaultEngine: 'vllm' } }],
      schedulingProfiles: scoring(['queue-scorer', 2], ['kv-cache-utilization-scorer', 2]),
    });
    expect(resolveEppProfile(withRouting(lfmDeployment().extraArgs('--enable-prefix-caching', '--no-enable-prefix-caching')), planOf(withRouting(lfmDeployment())))).toBe('LoadOnly');
  });

  it('vLLM serving a model without convolution layers caches prefixes by default', () => {
    const gptOss = withRouting(lfmDeployment().model('hf://openai/gpt-oss-20b').quantization('MXFP4'));
    expect(computePrefixCaching(gptOss, planOf(gptOss))).toBe(true);
  });

  it('SGLang: the built-in sglang mapping, as defaultEngine too; --disable-radix-cache turns Auto to LoadOnly', () => {
    expect(config(buildCase('SGLang', true, ENABLED))).toEqual({
      apiVersion: 'llm-d.ai/v1alpha1',
      kind: 'EndpointPickerConfig',
      plugins: [{ type: 'queue-scorer' }, { type: 'kv-cache-utilization-scorer' }, { type: 'prefix-cache-scorer' }, source,
        { type: 'core-metrics-extractor', parameters: { defaultEngine: 'sglang' } }],
      schedulingProfiles: scoring(['queue-scorer', 2], ['kv-cache-utilization-scorer', 2], ['prefix-cache-scorer', 3]),
    });
    expect(config(buildCase('SGLang', false, ENABLED)).schedulingProfiles).toEqual(scoring(['queue-scorer', 2], ['kv-cache-utilization-scorer', 2]));
  });

  it('llama.cpp: a custom mapping of its unlabelled queue and running gauges, no KV scorer (no KV gauge)', () => {
    const extractor = {
      type: 'core-metrics-extractor',
      parameters: { defaultEngine: 'llamacpp', engineConfigs: [{ name: 'llamacpp', queuedRequestsSpec: 'llamacpp:requests_deferred', runningRequestsSpec: 'llamacpp:requests_processing' }] },
    };
    expect(config(buildCase('LlamaCpp', true, ENABLED))).toEqual({
      apiVersion: 'llm-d.ai/v1alpha1',
      kind: 'EndpointPickerConfig',
      plugins: [{ type: 'queue-scorer' }, { type: 'prefix-cache-scorer' }, source, extractor],
      schedulingProfiles: scoring(['queue-scorer', 2], ['prefix-cache-scorer', 3]),
    });
    expect(config(buildCase('LlamaCpp', false, ENABLED)).plugins).toEqual([{ type: 'queue-scorer' }, source, extractor]);
  });

  it('the built-in mappings read the metrics the engines export; the custom one is the oracle\'s accepted example', () => {
    const builtIn = oracle.plugins['core-metrics-extractor']!.builtInEngineConfigs!;
    for (const engine of ['VLLM', 'SGLang'] as const) {
      const mapping = builtIn[EPP_ENGINE_TYPES[engine]]!;
      expect(mapping['queuedRequestsSpec']).toBe(ENGINES[engine].metrics.queueDepth);
      expect(mapping['runningRequestsSpec']).toBe(ENGINES[engine].metrics.running);
      expect(mapping['kvUsageSpec']).toBe(ENGINES[engine].metrics.kvCacheUsage);
    }
    expect(EPP_ENGINE_TYPES.LlamaCpp in builtIn).toBe(false);
    const exampleAccepted = (oracle.plugins['core-metrics-extractor'] as unknown as { exampleAccepted: unknown }).exampleAccepted;
    const extractor = renderEndpointPickerConfig(buildCase('LlamaCpp', true, ENABLED), planOf(buildCase('LlamaCpp', true, ENABLED))).plugins.find((p) => p.type === 'core-metrics-extractor')!;
    expect({ engineConfigs: extractor.parameters!['engineConfigs'] }).toEqual(exampleAccepted);
  });

  it('an explicit profile wins over Auto', () => {
    const lfmd = buildCase('VLLM', false, { inferencePool: { enabled: true, endpointPicker: { profile: 'Default' } } });
    expect(resolveEppProfile(lfmd, planOf(lfmd))).toBe('Default');
    const loadOnly = buildCase('VLLM', true, { inferencePool: { enabled: true, endpointPicker: { profile: 'LoadOnly' } } });
    expect(resolveEppProfile(loadOnly, planOf(loadOnly))).toBe('LoadOnly');
  });
});

// ---- The objects --------------------------------------------------------------------------------------------------

describe('renderRoutingChildren', () => {
  it('renders nothing without spec.routing or with the pool disabled', () => {
    expect(render(lfmDeployment().build())).toEqual([]);
    expect(render(withRouting(lfmDeployment(), { inferencePool: { enabled: false } }))).toEqual([]);
  });

  it('renders the EPP objects, the pool, the objectives and the route, each with the kinds it needs', () => {
    const children = render(withRouting(lfmDeployment('chat').uid('u-1'), { ...ENABLED, objectives: [{ name: 'interactive', priority: 10 }, { name: 'batch', priority: -5 }], httpRoute: { parentRefs: [{ name: 'inference-gateway' }] } }));
    expect(children.map((c) => `${c.object.kind}/${c.object.metadata.name} ${c.needs.join('+')}`)).toEqual([
      'ServiceAccount/chat-epp inferencePool', 'Role/chat-epp inferencePool', 'RoleBinding/chat-epp inferencePool', 'ConfigMap/chat-epp inferencePool',
      'Service/chat-epp inferencePool', 'Deployment/chat-epp inferencePool', 'InferencePool/chat inferencePool',
      'InferenceObjective/interactive inferencePool+inferenceObjective', 'InferenceObjective/batch inferencePool+inferenceObjective', 'HTTPRoute/chat inferencePool+httpRoute',
    ]);
    for (const c of children) {
      expect(c.object.apiVersion).toBe(c.type.group ? `${c.type.group}/${c.type.version}` : c.type.version);
      expect(c.object.kind).toBe(c.type.kind);
      expect(c.object.metadata.namespace).toBe('default');
      expect(c.object.metadata.labels![LABEL_ROUTING]).toBe('chat');
      expect(c.object.metadata.ownerReferences).toEqual([{ apiVersion: 'serving.lfm-operator.io/v1alpha1', kind: 'LfmDeployment', name: 'chat', uid: 'u-1', controller: true, blockOwnerDeletion: true }]);
    }
    expect(children.filter((c) => c.object.kind.startsWith('Cluster'))).toEqual([]);
  });

  it('describes the optional kinds as the controller\'s client addresses them, as the upstream CRDs define them', () => {
    for (const [file, kind] of [['inference.networking.k8s.io_inferencepools.yaml', ROUTING_KINDS.inferencePool], ['llm-d.ai_inferenceobjectives.yaml', ROUTING_KINDS.inferenceObjective]] as const) {
      const crd = parse(readFileSync(new URL(`thirdparty/crds/${file}`, SHARED), 'utf8'));
      expect({ group: crd.spec.group, kind: crd.spec.names.kind, plural: crd.spec.names.plural, namespaced: crd.spec.scope === 'Namespaced' })
        .toEqual({ group: kind.group, kind: kind.kind, plural: kind.plural, namespaced: kind.namespaced });
      expect(crd.spec.versions.map((v: { name: string }) => v.name)).toContain(kind.version);
    }
    expect(ROUTING_KINDS.httpRoute).toEqual({ group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute', plural: 'httproutes', namespaced: true });
    expect(Object.values(ENDPOINT_PICKER_KINDS).every((k) => k.namespaced)).toBe(true);
  });

  it('is deterministic', () => {
    const lfmd = withRouting(lfmDeployment(), { ...ENABLED, objectives: [{ name: 'a' }] });
    expect(stringify(render(lfmd))).toBe(stringify(render(lfmd)));
  });
});

describe('the InferencePool', () => {
  it.each(ENGINE_NAMES)('%s: selects exactly the engine pods on the engine\'s port and names the EPP on 9002', (engine) => {
    const lfmd = buildCase(engine, true, ENABLED);
    const plan = planOf(lfmd);
    const pool = one(renderRoutingChildren(lfmd, plan), 'InferencePool');
    const deployment = renderDeployment(lfmd, plan);
    expect(pool['spec'].selector).toEqual({ matchLabels: deployment.spec!.selector.matchLabels });
    const podLabels = deployment.spec!.template.metadata!.labels!;
    for (const [k, v] of Object.entries(pool['spec'].selector.matchLabels as Record<string, string>)) expect(podLabels[k]).toBe(v);
    const containerPort = deployment.spec!.template.spec!.containers[0]!.ports![0]!.containerPort;
    expect(pool['spec'].targetPorts).toEqual([{ number: containerPort }]);
    expect(containerPort).toBe(ENGINES[engine].port);
    expect(pool['spec'].endpointPickerRef).toEqual({ name: `${lfmd.metadata.name}-epp`, port: { number: 9002 }, failureMode: 'FailOpen' });
    expect(pool.metadata.name).toBe(lfmd.metadata.name);
  });

  it('does not select the EPP\'s pods, and the engine Service does not either', () => {
    const lfmd = withRouting(lfmDeployment());
    const children = render(lfmd);
    const selector = one(children, 'InferencePool')['spec'].selector.matchLabels as Record<string, string>;
    const eppPod = one(children, 'Deployment')['spec'].template.metadata.labels as Record<string, string>;
    expect(Object.entries(selector).every(([k, v]) => eppPod[k] === v)).toBe(false);
    const service = renderChildren(lfmd, planOf(lfmd)).service.spec!.selector!;
    expect(Object.entries(service).every(([k, v]) => eppPod[k] === v)).toBe(false);
  });

  it('carries the failure mode chosen', () => {
    const pool = one(render(withRouting(lfmDeployment(), { inferencePool: { enabled: true, endpointPicker: { failureMode: 'FailClose' } } })), 'InferencePool');
    expect(pool['spec'].endpointPickerRef.failureMode).toBe('FailClose');
  });
});

describe('the engine pods', () => {
  it.each(ENGINE_NAMES)('%s: carry llm-d.ai/engine-type with routing on, and not without', (engine) => {
    const on = buildCase(engine, true, ENABLED);
    expect(renderDeployment(on, planOf(on)).spec!.template.metadata!.labels![LABEL_EPP_ENGINE_TYPE]).toBe({ VLLM: 'vllm', SGLang: 'sglang', LlamaCpp: 'llamacpp' }[engine]);
    const off = ENGINE_CASES[engine].builder().build();
    expect(renderDeployment(off, planOf(off)).spec!.template.metadata!.labels![LABEL_EPP_ENGINE_TYPE]).toBeUndefined();
    const disabled = buildCase(engine, true, { inferencePool: { enabled: false } });
    expect(renderDeployment(disabled, planOf(disabled)).spec!.template.metadata!.labels![LABEL_EPP_ENGINE_TYPE]).toBeUndefined();
  });

  it('the engine-type values are what the configuration maps (built in, or declared in engineConfigs)', () => {
    const builtIn = Object.keys(oracle.plugins['core-metrics-extractor']!.builtInEngineConfigs!);
    for (const engine of ENGINE_NAMES) {
      const lfmd = buildCase(engine, true, ENABLED);
      const extractor = renderEndpointPickerConfig(lfmd, planOf(lfmd)).plugins.find((p) => p.type === 'core-metrics-extractor')!;
      const declared = ((extractor.parameters?.['engineConfigs'] ?? []) as { name: string }[]).map((c) => c.name);
      expect([...builtIn, ...declared]).toContain(EPP_ENGINE_TYPES[engine]);
      expect(extractor.parameters?.['defaultEngine']).toBe(EPP_ENGINE_TYPES[engine]);
    }
  });
});

describe('the endpoint picker', () => {
  const children = render(withRouting(lfmDeployment('chat').namespace('models')));
  const deployment = one(children, 'Deployment');
  const pod = deployment['spec'].template;
  const container = pod.spec.containers[0];

  it('runs the reference\'s arguments against its pool and configuration file', () => {
    expect(container.args).toEqual([
      '--pool-name', 'chat', '--pool-namespace', 'models', '--pool-group', 'inference.networking.k8s.io', '--config-file', '/config/epp-config.yaml',
      '--grpc-port', '9002', '--grpc-health-port', '9003', '--metrics-port', '9090', '--metrics-endpoint-auth=false', '--tracing=false',
    ]);
    expect(container.image).toBe('ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0');
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'config');
    const volume = pod.spec.volumes.find((v: { name: string }) => v.name === 'config');
    expect(EPP_CONFIG_FILE.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(volume.configMap.name).toBe('chat-epp');
    expect(Object.keys(one(children, 'ConfigMap')['data'])).toEqual([EPP_CONFIG_FILE.slice(mount.mountPath.length + 1)]);
  });

  it('listens on ext-proc 9002, gRPC health 9003 and metrics 9090, probed by gRPC on 9003', () => {
    expect(container.ports).toEqual([
      { name: 'grpc', containerPort: 9002, protocol: 'TCP' },
      { name: 'grpc-health', containerPort: 9003, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(container.livenessProbe.grpc).toEqual({ port: 9003, service: 'inference-extension' });
    expect(container.readinessProbe.grpc).toEqual({ port: 9003, service: 'inference-extension' });
    expect(container.env).toEqual([
      { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ]);
    const args = container.args as string[];
    const flag = (name: string) => Number(args[args.indexOf(name) + 1]);
    expect([flag('--grpc-port'), flag('--grpc-health-port'), flag('--metrics-port')]).toEqual([EPP_PORTS.extProc, EPP_PORTS.grpcHealth, EPP_PORTS.metrics]);
  });

  it('answers the gRPC health service names of the release', () => {
    const names = oracle.grpcHealthServices.map((s) => s.name);
    const le = one(render(withRouting(lfmDeployment(), { inferencePool: { enabled: true, endpointPicker: { replicas: 2 } } })), 'Deployment')['spec'].template.spec.containers[0];
    expect(names).toContain(le.livenessProbe.grpc.service);
    expect(names).toContain(le.readinessProbe.grpc.service);
    expect([le.livenessProbe.grpc.service, le.readinessProbe.grpc.service]).toEqual(['liveness', 'readiness']);
  });

  it('runs under Pod Security restricted', () => {
    expect(pod.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(pod.spec.volumes.every((v: Record<string, unknown>) => v['hostPath'] === undefined)).toBe(true);
    expect(pod.spec.hostNetwork ?? false).toBe(false);
    expect(pod.spec.serviceAccountName).toBe('chat-epp');
  });

  it('never carries the engine pods\' label, and is selected by its own', () => {
    for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap']) {
      expect(JSON.stringify(one(children, kind)), kind).not.toContain(LABEL_DEPLOYMENT);
    }
    expect(deployment['spec'].selector).toEqual({ matchLabels: { [LABEL_ENDPOINT_PICKER]: 'chat' } });
    expect(pod.metadata.labels[LABEL_ENDPOINT_PICKER]).toBe('chat');
    expect(pod.metadata.labels['app.kubernetes.io/component']).toBe('endpoint-picker');
  });

  it('is replaced, not rolled (a rolling update would keep the old leader), one replica by default', () => {
    expect(deployment['spec'].strategy).toEqual({ type: 'Recreate' });
    expect(deployment['spec'].replicas).toBe(1);
    expect(container.args).not.toContain('--ha-enable-leader-election');
    const two = one(render(withRouting(lfmDeployment(), { inferencePool: { enabled: true, endpointPicker: { replicas: 2 } } })), 'Deployment');
    expect(two['spec'].replicas).toBe(2);
    expect(two['spec'].template.spec.containers[0].args).toContain('--ha-enable-leader-election');
  });

  it('restarts when its configuration changes (a hash of it on the pod template)', () => {
    const hash = (lfmd: LfmDeployment) => one(render(lfmd), 'Deployment')['spec'].template.metadata.annotations[ANNOTATION_EPP_CONFIG_HASH];
    const auto = hash(withRouting(lfmDeployment()));
    expect(auto).toMatch(/^[0-9a-f]{8}$/);
    expect(hash(withRouting(lfmDeployment(), { inferencePool: { enabled: true, endpointPicker: { profile: 'Default' } } }))).not.toBe(auto);
    expect(hash(withRouting(lfmDeployment()))).toBe(auto);
  });

  it('has a Service for ext-proc (h2c) and metrics, on the container\'s named ports', () => {
    const service = one(children, 'Service');
    expect(service['spec']).toEqual({
      type: 'ClusterIP',
      selector: { [LABEL_ENDPOINT_PICKER]: 'chat' },
      ports: [
        { name: 'grpc-ext-proc', port: 9002, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
        { name: 'http-metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' },
      ],
    });
    expect(service.metadata.name).toBe(one(children, 'InferencePool')['spec'].endpointPickerRef.name);
  });

  it('may read pods, its pool, objectives and rewrites in its namespace, and leases only with leader election', () => {
    const read = ['get', 'list', 'watch'];
    const base = [
      { apiGroups: [''], resources: ['pods'], verbs: read },
      { apiGroups: ['inference.networking.k8s.io'], resources: ['inferencepools'], verbs: read },
      { apiGroups: ['llm-d.ai', 'inference.networking.x-k8s.io'], resources: ['inferenceobjectives', 'inferencemodelrewrites'], verbs: read },
    ];
    expect(one(children, 'Role')['rules']).toEqual(base);
    const ha = render(withRouting(lfmDeployment('chat').namespace('models'), { inferencePool: { enabled: true, endpointPicker: { replicas: 3 } } }));
    expect(one(ha, 'Role')['rules']).toEqual([
      ...base,
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    expect(one(children, 'RoleBinding')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'chat-epp' },
      subjects: [{ kind: 'ServiceAccount', name: 'chat-epp', namespace: 'models' }],
    });
    // No ClusterRoleBinding to system:auth-delegator: the metrics endpoint runs without authentication.
    expect(buildEndpointPickerArgs(withRouting(lfmDeployment()))).toContain('--metrics-endpoint-auth=false');
  });
});

describe('the InferenceObjectives and the HTTPRoute', () => {
  it('renders one InferenceObjective per entry, pointing at the pool', () => {
    const objectives = find(render(withRouting(lfmDeployment('chat'), { ...ENABLED, objectives: [{ name: 'interactive', priority: 10 }, { name: 'background' }] })), 'InferenceObjective');
    expect(objectives.map((o) => [o.apiVersion, o.metadata.name, o['spec']])).toEqual([
      ['llm-d.ai/v1alpha2', 'interactive', { priority: 10, poolRef: { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'chat' } }],
      ['llm-d.ai/v1alpha2', 'background', { priority: 0, poolRef: { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'chat' } }],
    ]);
  });

  it('renders the HTTPRoute only with parentRefs, its backend the pool with group and kind set', () => {
    expect(find(render(withRouting(lfmDeployment())), 'HTTPRoute')).toEqual([]);
    const route = one(render(withRouting(lfmDeployment('chat'), { ...ENABLED, httpRoute: { parentRefs: [{ name: 'inference-gateway' }, { name: 'gw', namespace: 'infra', sectionName: 'https', port: 443 }] } })), 'HTTPRoute');
    expect(route.metadata.name).toBe('chat');
    expect(route['spec']).toEqual({
      parentRefs: [{ name: 'inference-gateway' }, { namespace: 'infra', name: 'gw', sectionName: 'https', port: 443 }],
      rules: [{
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'chat' }],
        timeouts: { request: '0s' },
      }],
    });
  });
});

// ---- The upstream CRDs accept what is rendered ----------------------------------------------------------------------

/** Applies the schema's defaults, as the API server does before validation. */
function applyDefaults(schema: JsonSchema, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => applyDefaults(schema.items ?? {}, v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, child] of Object.entries(schema.properties ?? {})) {
    if (out[k] === undefined && child['default'] !== undefined) out[k] = structuredClone(child['default']);
    if (out[k] !== undefined) out[k] = applyDefaults(child, out[k]);
  }
  return out;
}

/** Unknown fields (fieldValidation Strict), missing required fields, enums and types against a structural schema. */
function checkSchema(schema: JsonSchema, value: unknown, path: string, problems: string[]): string[] {
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  if (schema.type && schema.type !== type && !(schema.type === 'number' && type === 'integer')) problems.push(`${path}: ${type}, not ${schema.type}`);
  if (Array.isArray(schema['enum']) && !(schema['enum'] as unknown[]).includes(value)) problems.push(`${path}: ${String(value)} is not in the enum`);
  if (Array.isArray(value)) value.forEach((v, i) => checkSchema(schema.items ?? {}, v, `${path}[${i}]`, problems));
  if (type === 'object' && schema.properties) {
    const obj = value as Record<string, unknown>;
    for (const k of schema.required ?? []) if (obj[k] === undefined) problems.push(`${path}.${k} is required`);
    for (const [k, v] of Object.entries(obj)) {
      const child = schema.properties[k];
      if (!child) problems.push(`${path}.${k} is unknown`);
      else checkSchema(child, v, `${path}.${k}`, problems);
    }
  }
  return problems;
}

describe('the upstream CRDs accept the rendered pool and objectives (schema, defaults, CEL)', () => {
  const lfmd = withRouting(lfmDeployment('chat'), { inferencePool: { enabled: true, endpointPicker: { failureMode: 'FailClose' } }, objectives: [{ name: 'interactive', priority: 10 }, { name: 'batch', priority: -1 }] });
  const children = render(lfmd);
  it.each([
    ['inference.networking.k8s.io_inferencepools.yaml', 'InferencePool'],
    ['llm-d.ai_inferenceobjectives.yaml', 'InferenceObjective'],
  ])('%s', (file, kind) => {
    const crd = parse(readFileSync(new URL(`thirdparty/crds/${file}`, SHARED), 'utf8'));
    const version = crd.spec.versions.find((v: { name: string }) => `${crd.spec.group}/${v.name}` === find(children, kind)[0]!.apiVersion);
    expect(version, `${kind} version served`).toBeDefined();
    const schema = version.schema.openAPIV3Schema as JsonSchema;
    for (const object of find(children, kind)) {
      const { metadata: _metadata, ...rest } = object;
      const defaulted = applyDefaults(schema, rest);
      expect(checkSchema(schema, defaulted, '', [])).toEqual([]);
      expect(evaluateCelRules(schema, defaulted, '')).toEqual([]);
    }
  });

  it('the pool\'s CEL rules catch a Service reference without a port (the check is not vacuous)', () => {
    const crd = parse(readFileSync(new URL('thirdparty/crds/inference.networking.k8s.io_inferencepools.yaml', SHARED), 'utf8'));
    const schema = crd.spec.versions[0].schema.openAPIV3Schema as JsonSchema;
    const pool = one(children, 'InferencePool');
    const broken = { ...pool, spec: { ...pool['spec'], endpointPickerRef: { name: 'chat-epp' } } };
    const { metadata: _metadata, ...rest } = broken;
    expect(evaluateCelRules(schema, applyDefaults(schema, rest), '').map((v) => v.message).join()).toContain('port is required');
  });
});

// ---- The API: defaults and rules ----------------------------------------------------------------------------------

describe('spec.routing in the API', () => {
  const parseInput = (builder: LfmDeploymentBuilder, routing: unknown) => {
    const input = builder.input() as unknown as { spec: Record<string, unknown> };
    input.spec['routing'] = routing;
    return parseLfmDeployment(input);
  };
  const problems = (result: ReturnType<typeof parseLfmDeployment>) => (result.ok ? [] : result.problems);

  it('defaults: disabled; the pinned image, one replica, Auto, FailOpen', () => {
    const lfmd = withRouting(lfmDeployment(), {});
    expect(lfmd.spec.routing).toEqual({ inferencePool: { enabled: false, endpointPicker: { image: EPP_DEFAULT_IMAGE, replicas: 1, profile: 'Auto', failureMode: 'FailOpen' } } });
    expect(withRouting(lfmDeployment(), { inferencePool: { enabled: true } }).spec.routing!.inferencePool.endpointPicker)
      .toEqual({ image: EPP_DEFAULT_IMAGE, replicas: 1, profile: 'Auto', failureMode: 'FailOpen' });
    expect(lfmDeployment().build().spec.routing).toBeUndefined();
  });

  it(`refuses names longer than 59 characters with routing on (NAME-epp must stay a DNS label)`, () => {
    const long = 'a'.repeat(60);
    expect(problems(parseInput(lfmDeployment(long), ENABLED))).toEqual([{ field: 'metadata.name', message: ROUTING_NAME_MESSAGE }]);
    expect(parseInput(lfmDeployment('a'.repeat(59)), ENABLED).ok).toBe(true);
    expect(parseInput(lfmDeployment(long), { inferencePool: { enabled: false } }).ok).toBe(true);
    expect(parseLfmDeployment(lfmDeployment(long).input()).ok).toBe(true);
    expect(ROUTING_NAME_MESSAGE).toContain('rename the resource');
  });

  it('states the name rule in CEL for the CRD root, judged by the offline evaluator alike', () => {
    const schema: JsonSchema = { ...buildRootSchema(), 'x-kubernetes-validations': [...ROOT_CEL_RULES] };
    const at = (name: string, routing: Routing | undefined) => {
      const lfmd = routing ? withRouting(lfmDeployment('short'), routing) : lfmDeployment('short').build();
      lfmd.metadata.name = name;
      return evaluateCelRules({ ...schema, properties: {} }, lfmd, '').map((v) => v.message);
    };
    expect(at('a'.repeat(60), ENABLED)).toEqual([ROUTING_NAME_MESSAGE]);
    expect(at('a'.repeat(59), ENABLED)).toEqual([]);
    expect(at('a'.repeat(60), { inferencePool: { enabled: false } })).toEqual([]);
    expect(at('a'.repeat(60), undefined)).toEqual([]);
  });

  it('refuses objectives and an HTTPRoute without the pool, naming the fix', () => {
    const off = { inferencePool: { enabled: false } };
    expect(problems(parseInput(lfmDeployment(), { ...off, objectives: [{ name: 'a' }] }))).toEqual([{
      field: 'spec.routing.objectives',
      message: 'spec.routing.objectives are InferenceObjectives of the InferencePool: set spec.routing.inferencePool.enabled to true, or remove spec.routing.objectives',
    }]);
    expect(problems(parseInput(lfmDeployment(), { httpRoute: { parentRefs: [{ name: 'gw' }] } }))).toEqual([{
      field: 'spec.routing.httpRoute',
      message: 'spec.routing.httpRoute routes to the InferencePool: set spec.routing.inferencePool.enabled to true, or remove spec.routing.httpRoute',
    }]);
  });

  it('refuses duplicate objective names, too many objectives, and bad values', () => {
    expect(problems(parseInput(lfmDeployment(), { ...ENABLED, objectives: [{ name: 'a', priority: 1 }, { name: 'a', priority: 2 }] }))).toEqual([{
      field: 'spec.routing.objectives',
      message: 'spec.routing.objectives: each name is one InferenceObjective: remove or rename the duplicate',
    }]);
    const many = Array.from({ length: 17 }, (_, i) => ({ name: `o${i}` }));
    expect(problems(parseInput(lfmDeployment(), { ...ENABLED, objectives: many })).map((p) => p.field)).toEqual(['spec.routing.objectives']);
    expect(parseInput(lfmDeployment(), { ...ENABLED, objectives: many.slice(0, 16) }).ok).toBe(true);
    expect(problems(parseInput(lfmDeployment(), { ...ENABLED, objectives: [{ name: 'Not_A_Name' }] })).map((p) => p.field)).toEqual(['spec.routing.objectives[0].name']);
    expect(problems(parseInput(lfmDeployment(), { inferencePool: { enabled: true, endpointPicker: { profile: 'Fast' } } })).map((p) => p.field)).toEqual(['spec.routing.inferencePool.endpointPicker.profile']);
    expect(problems(parseInput(lfmDeployment(), { inferencePool: { enabled: true, endpointPicker: { failureMode: 'Open' } } })).map((p) => p.field)).toEqual(['spec.routing.inferencePool.endpointPicker.failureMode']);
    expect(problems(parseInput(lfmDeployment(), { inferencePool: { enabled: true, endpointPicker: { replicas: 0 } } })).map((p) => p.field)).toEqual(['spec.routing.inferencePool.endpointPicker.replicas']);
    expect(problems(parseInput(lfmDeployment(), { ...ENABLED, httpRoute: { parentRefs: [] } })).map((p) => p.field)).toEqual(['spec.routing.httpRoute.parentRefs']);
    expect(problems(parseInput(lfmDeployment(), { ...ENABLED, httpRoute: { parentRefs: [{ name: 'gw', port: 0 }] } })).map((p) => p.field)).toEqual(['spec.routing.httpRoute.parentRefs[0].port']);
    expect(problems(parseInput(lfmDeployment(), { ...ENABLED, extra: true })).map((p) => p.field)).toEqual(['spec.routing.extra']);
  });

  it('bounds every list and string its CEL rules iterate', () => {
    const routing = buildRootSchema().properties!['spec']!.properties!['routing']!;
    const objectives = routing.properties!['objectives']!;
    expect(objectives['maxItems']).toBe(16);
    expect(objectives.items!.properties!['name']!['maxLength']).toBe(63);
    expect(objectives['x-kubernetes-list-type']).toBe('map');
    expect(objectives['x-kubernetes-list-map-keys']).toEqual(['name']);
    expect(routing.properties!['httpRoute']!.properties!['parentRefs']!['maxItems']).toBe(8);
  });
});

// ---- Golden -------------------------------------------------------------------------------------------------------

const UPDATE_GOLDEN = 'UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/routing.test.ts';

describe('golden YAML of the routing children of examples/lfm2-24b-routing.yaml', () => {
  it('test/unit/golden/lfm2-24b-routing.routing.yaml', () => {
    const doc = LfmDeployment.parse(parse(readFileSync('examples/lfm2-24b-routing.yaml', 'utf8')));
    doc.metadata['uid'] = '00000000-0000-0000-0000-000000000001';
    const actual = render(doc).map((c) => `---\n${stringify(c.object, { lineWidth: 0 })}`).join('');
    const golden = 'test/unit/golden/lfm2-24b-routing.routing.yaml';
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, actual);
    if (!existsSync(golden)) expect.fail(`${golden} is missing: run ${UPDATE_GOLDEN} and review it`);
    expect(actual, `${golden} is stale: run ${UPDATE_GOLDEN} and review the diff`).toBe(readFileSync(golden, 'utf8'));
  });
});
