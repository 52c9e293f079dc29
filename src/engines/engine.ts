// Pure. The Engine interface every engine file implements, and the checks of engine flags against the vendored flag
// tables (data/*.json, read from the engines' source). Performs no I/O.
import type { EngineName, LfmDeploymentSpec } from '../api/v1alpha1.js';
import type { Plan } from '../sizing/plan.js';

export interface FlagSpec {
  takesValue: boolean;
  choices: string[] | null;
  type?: string;
  aliases?: string[];
  deprecated?: boolean;
  negatable?: boolean;
  nargs?: string;
}

export interface EngineTable {
  flags: Record<string, FlagSpec>;
  metrics: Record<string, unknown>;
  defaultPort: number;
}

/** Metric names an engine exports, as the autoscaler reads them. */
export interface EngineMetricNames {
  queueDepth: string;
  running: string;
  promptTokensTotal: string;
  generationTokensTotal: string;
  kvCacheUsage: string;
}

export interface HttpProbePlan { path: string; periodSeconds: number; failureThreshold: number; timeoutSeconds: number }

/** How the model reaches the engine: a Hugging Face id (downloaded) or a path on a mounted claim. */
export interface ModelLocation { model: string; revision?: string; claimName?: string; mountPath?: string }

export interface EngineContainer {
  command?: string[];
  args: string[];
  env: { name: string; value: string }[];
}

export interface Engine {
  name: EngineName;
  defaultImage: string;
  /** Image tags whose flag table is the vendored one; only these make unknown extraArgs an error. */
  imageVerified: boolean;
  port: number;
  table: EngineTable;
  metrics: EngineMetricNames;
  /** Flags the operator renders, mapped to the spec field that sets them. */
  ownedFlags: Record<string, string>;
  startupProbePath: string;
  readinessProbePath: string;
  livenessProbePath: string;
  buildContainer(spec: LfmDeploymentSpec, plan: Plan, location: ModelLocation, servedName: string): EngineContainer;
}

export interface ArgProblem { field: string; message: string }

/** Looks a flag up by name or alias; vLLM accepts --foo_bar for --foo-bar and --no-foo for negatable flags. */
export function findFlag(table: EngineTable, raw: string): { name: string; spec: FlagSpec } | undefined {
  const candidates = [raw, raw.replaceAll('_', '-')];
  for (const c of candidates) {
    const direct = table.flags[c];
    if (direct) return { name: c, spec: direct };
    for (const [name, spec] of Object.entries(table.flags)) {
      if (spec.aliases?.includes(c)) return { name, spec };
    }
    if (c.startsWith('--no-')) {
      const positive = table.flags[`--${c.slice(5)}`];
      if (positive?.negatable) return { name: `--${c.slice(5)}`, spec: positive };
    }
  }
  return undefined;
}

/**
 * Checks extraArgs against the engine's flag table: unknown flags (errors with the default image, warnings with a
 * user-chosen one), flags the operator owns (always errors, naming the field to use), deprecated flags (warnings) and
 * values outside a flag's choices.
 */
export function checkExtraArgs(engine: Engine, args: readonly string[], strict: boolean): { errors: ArgProblem[]; warnings: string[] } {
  const errors: ArgProblem[] = [];
  const warnings: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const token = args[i] ?? '';
    const field = `spec.engine.extraArgs[${i}]`;
    if (!token.startsWith('-')) {
      errors.push({ field, message: `"${token}" is not a flag and follows no flag that takes a value: write flags as --name or --name=value` });
      continue;
    }
    const eq = token.indexOf('=');
    const name = eq >= 0 ? token.slice(0, eq) : token;
    const found = findFlag(engine.table, name);
    const owner = engine.ownedFlags[found?.name ?? name];
    if (owner) {
      errors.push({ field, message: `${name} is set by the operator: use ${owner} instead` });
      if (found?.spec.takesValue && eq < 0) i++;
      continue;
    }
    if (!found) {
      const msg = `${name} is not a ${engine.name} flag in the version the operator knows`;
      if (strict) errors.push({ field, message: `${msg}: remove it, or check its spelling` });
      else warnings.push(`${field}: ${msg} (allowed because spec.engine.image is not the default image)`);
      continue;
    }
    if (found.spec.deprecated) warnings.push(`${field}: ${name} is deprecated in ${engine.name}`);
    if (!found.spec.takesValue || name.startsWith('--no-')) continue;
    let value: string | undefined;
    if (eq >= 0) value = token.slice(eq + 1);
    else {
      value = args[i + 1];
      i++;
    }
    if (value === undefined) {
      errors.push({ field, message: `${name} needs a value: write ${name}=VALUE or put the value in the next element` });
      continue;
    }
    const choices = found.spec.choices;
    if (choices && !choices.map(String).includes(value)) {
      errors.push({ field, message: `${value} is not a choice of ${name}: use one of ${choices.join(', ')}` });
    }
  }
  return { errors, warnings };
}

/** Where the model comes from, for the engine's model argument and the pod's volumes. */
export function buildModelLocation(source: string): ModelLocation {
  const hf = /^hf:\/\/([^@]+)(?:@(.+))?$/.exec(source);
  if (hf?.[1]) return hf[2] ? { model: hf[1], revision: hf[2] } : { model: hf[1] };
  const pvc = /^pvc:\/\/([^/]+)\/?(.*)$/.exec(source);
  const claimName = pvc?.[1] ?? '';
  const path = (pvc?.[2] ?? '').replace(/\/+$/, '');
  const mountPath = '/models';
  return { model: path ? `${mountPath}/${path}` : mountPath, claimName, mountPath };
}

/** Formats a number for a command line without float noise (0.8160000001 -> 0.816). */
export function formatNumber(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}
