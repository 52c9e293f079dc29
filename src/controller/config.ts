// The operator's configuration: one zod schema, parsed once from flags and environment (flags win). Nothing else
// reads process.env.
import { z } from 'zod';
import { LLAMACPP_DEFAULT_GPU_IMAGE, LLAMACPP_DEFAULT_IMAGE } from '../engines/llamacpp.js';
import { SGLANG_DEFAULT_IMAGE } from '../engines/sglang.js';
import { VLLM_DEFAULT_IMAGE } from '../engines/vllm.js';

const address = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[0-9.]*|[A-Za-z0-9.-]*):\d{1,5}$/, 'must be HOST:PORT (":8080" for all interfaces, "0" as port for any free one)');

export const OperatorConfig = z.strictObject({
  kubeconfig: z.string().optional().describe('kubeconfig: path to a kubeconfig. Default: in-cluster when running in a pod, else KUBECONFIG or ~/.kube/config.'),
  leaderElect: z.boolean().default(true).describe('leaderElect: elect a leader on a Lease so only one replica acts. Default true.'),
  leaderElectionNamespace: z.string().min(1).describe('leaderElectionNamespace: namespace of the Lease. Default: the pod namespace, else default.'),
  leaderElectionId: z.string().min(1).default('lfm-operator-leader').describe('leaderElectionId: name of the Lease. Default lfm-operator-leader.'),
  identity: z.string().min(1).describe('identity: this replica\'s name in the Lease. Default: the pod name (HOSTNAME) plus a random suffix.'),
  activatorNamespace: z.string().min(1).describe('activatorNamespace: namespace of the activator pods (labels app.kubernetes.io/name=lfm-operator, app.kubernetes.io/component=activator) that the EndpointSlices of scale-to-zero deployments point at while at zero. Default: the pod namespace, else default.'),
  namespaces: z.array(z.string().min(1)).default([]).describe('namespaces: namespaces to watch. Default: all.'),
  metricsBindAddress: address.default(':8080').describe('metricsBindAddress: where /metrics listens. Default :8080.'),
  healthProbeBindAddress: address.default(':8081').describe('healthProbeBindAddress: where /healthz and /readyz listen. Default :8081.'),
  vllmImage: z.string().min(1).default(VLLM_DEFAULT_IMAGE).describe('vllmImage: default vLLM image.'),
  sglangImage: z.string().min(1).default(SGLANG_DEFAULT_IMAGE).describe('sglangImage: default SGLang image.'),
  llamacppImage: z.string().min(1).default(LLAMACPP_DEFAULT_IMAGE).describe('llamacppImage: default llama.cpp image of LlamaCpp replicas without spec.gpu (a CPU build).'),
  llamacppGpuImage: z.string().min(1).default(LLAMACPP_DEFAULT_GPU_IMAGE).describe('llamacppGpuImage: default llama.cpp image of LlamaCpp replicas with spec.gpu (a CUDA build).'),
  concurrency: z.number().int().min(1).max(64).default(4).describe('concurrency: reconcile workers. Default 4.'),
  resyncSeconds: z.number().int().min(10).default(600).describe('resyncSeconds: how often every resource is reconciled without an event. Default 600.'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  autoscaler: z.boolean().default(true).describe('autoscaler: run the autoscaler loop on the leader. Default true.'),
});
export type OperatorConfig = z.output<typeof OperatorConfig>;

export interface RawConfigSources {
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  /** Namespace of the pod when running in a cluster (the ServiceAccount namespace file). */
  podNamespace?: string;
  randomSuffix: string;
}

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);
const BOOLEAN_WORDS = new Map([['true', true], ['1', true], ['false', false], ['0', false]]);
const int = (s: string | undefined) => (s === undefined ? undefined : Number(s));

/** Parses flags (commander's camelCase options) and LFM_OPERATOR_* environment variables into a configuration. */
export function parseOperatorConfig(src: RawConfigSources): { ok: true; config: OperatorConfig } | { ok: false; message: string } {
  const { flags: f, env } = src;
  const envProblems: string[] = [];
  // Strict, so that LFM_OPERATOR_LEADER_ELECT=yes is an error rather than a silent false.
  const bool = (name: string): boolean | undefined => {
    const s = env[name];
    if (s === undefined) return undefined;
    const value = BOOLEAN_WORDS.get(s.toLowerCase());
    if (value === undefined) envProblems.push(`${name}: must be true, false, 1 or 0 (case-insensitive), got ${JSON.stringify(s)}`);
    return value;
  };
  const pick = <T>(flag: unknown, fromEnv: T | undefined): T | undefined => (flag !== undefined ? (flag as T) : fromEnv);
  const raw = {
    kubeconfig: pick(f['kubeconfig'], env['KUBECONFIG']?.split(':')[0] || undefined),
    leaderElect: pick(f['leaderElect'], bool('LFM_OPERATOR_LEADER_ELECT')),
    leaderElectionNamespace: pick(f['leaderElectionNamespace'], env['LFM_OPERATOR_LEADER_ELECTION_NAMESPACE']) ?? src.podNamespace ?? 'default',
    leaderElectionId: pick(f['leaderElectionId'], env['LFM_OPERATOR_LEADER_ELECTION_ID']),
    identity: pick(f['identity'], env['LFM_OPERATOR_IDENTITY']) ?? `${env['HOSTNAME'] ?? 'lfm-operator'}_${src.randomSuffix}`,
    activatorNamespace: pick(f['activatorNamespace'], env['LFM_OPERATOR_ACTIVATOR_NAMESPACE']) ?? src.podNamespace ?? 'default',
    namespaces: pick(list(f['namespaces'] as string | undefined), list(env['LFM_OPERATOR_NAMESPACES'])),
    metricsBindAddress: pick(f['metricsBindAddress'], env['LFM_OPERATOR_METRICS_BIND_ADDRESS']),
    healthProbeBindAddress: pick(f['healthProbeBindAddress'], env['LFM_OPERATOR_HEALTH_PROBE_BIND_ADDRESS']),
    vllmImage: pick(f['vllmImage'], env['LFM_OPERATOR_VLLM_IMAGE']),
    sglangImage: pick(f['sglangImage'], env['LFM_OPERATOR_SGLANG_IMAGE']),
    llamacppImage: pick(f['llamacppImage'], env['LFM_OPERATOR_LLAMACPP_IMAGE']),
    llamacppGpuImage: pick(f['llamacppGpuImage'], env['LFM_OPERATOR_LLAMACPP_GPU_IMAGE']),
    concurrency: pick(f['concurrency'] === undefined ? undefined : Number(f['concurrency']), int(env['LFM_OPERATOR_CONCURRENCY'])),
    resyncSeconds: pick(f['resyncSeconds'] === undefined ? undefined : Number(f['resyncSeconds']), int(env['LFM_OPERATOR_RESYNC_SECONDS'])),
    logLevel: pick(f['logLevel'], env['LFM_OPERATOR_LOG_LEVEL']),
    autoscaler: pick(f['autoscaler'], bool('LFM_OPERATOR_AUTOSCALER')),
  };
  const parsed = OperatorConfig.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  const problems = [...envProblems, ...(parsed.success ? [] : parsed.error.issues.map((i) => `--${i.path.join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`))];
  if (!parsed.success || problems.length > 0) return { ok: false, message: problems.join('; ') };
  return { ok: true, config: parsed.data };
}
