// The lfm-operator commands: plan, render and crd work offline; run starts the operator, activator the scale-to-zero
// activator. All I/O goes through `CliIo` (main.ts passes the process's), so the commands run in process under test;
// each input is read once.
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'yaml';
import { buildCrd } from '../api/crd.js';
import type { FieldProblem, ParseResult } from '../api/parse.js';
import type { LfmDeployment } from '../api/v1alpha1.js';
import { renderChildren } from '../render/children.js';
import { renderRoutingChildren } from '../render/routing.js';
import { buildPlanReport, type PlanReport } from '../render/plan-report.js';
import { InputError, parseDocuments, type ReadText } from './documents.js';
import { formatPlanTable } from './plan-table.js';

export const EXIT_FITS = 0;
export const EXIT_DOES_NOT_FIT = 1;
export const EXIT_INVALID = 2;

export interface CliIo {
  readText: ReadText;
  stdout(text: string): void;
  stderr(text: string): void;
  /** The status the process exits with once the command is done. */
  setExitCode(code: number): void;
  /** Starts the operator with the options of `run` (commander's camelCase names); resolves when it stops. */
  runOperator(flags: Record<string, unknown>): Promise<void>;
  /** Starts the scale-to-zero activator with the options of `activator` (camelCase names); resolves once it serves. */
  runActivator(flags: Record<string, unknown>): Promise<void>;
  /** The package's version, for --version (left out, the option is not offered). */
  version?: string;
}

const BOOLEAN_VALUES = new Map([['true', true], ['false', false], ['1', true], ['0', false]]);

/** Parses the value of a boolean option strictly: a value it cannot read is an error, never false. */
export function parseBooleanArgument(name: string): (value: string) => boolean {
  return (value) => {
    const parsed = BOOLEAN_VALUES.get(value.toLowerCase());
    if (parsed === undefined) {
      throw new InvalidArgumentError(`--${name} accepts true or false (or 1 or 0); --${name} alone means true, --no-${name} false.`);
    }
    return parsed;
  };
}

/**
 * Adds `--NAME`, `--NAME=true|false` (also `--NAME false`, as hack/demo.sh writes it) and `--no-NAME`. Left out, the
 * option stays undefined so that the environment and then `defaultValue` (only shown here) apply.
 */
export function addBooleanOption(command: Command, name: string, description: string, defaultValue: boolean): Command {
  return command
    .addOption(new Option(`--${name} [bool]`, `${description}: true or false (default ${defaultValue})`).argParser(parseBooleanArgument(name)))
    .addOption(new Option(`--no-${name}`, `same as --${name}=false`));
}

interface PlannedDocuments {
  planned: { lfmd: LfmDeployment; report: PlanReport }[];
  invalid: { name: string; problems: FieldProblem[] }[];
}

function planDocuments(results: readonly ParseResult[]): PlannedDocuments {
  const out: PlannedDocuments = { planned: [], invalid: [] };
  for (const result of results) {
    if (result.ok) out.planned.push({ lfmd: result.value, report: buildPlanReport(result.value) });
    else out.invalid.push({ name: result.name, problems: result.problems });
  }
  return out;
}

function computeExitCode({ planned, invalid }: PlannedDocuments): number {
  if (invalid.length > 0 || planned.some((p) => p.report.invalid)) return EXIT_INVALID;
  return planned.some((p) => !p.report.fits) ? EXIT_DOES_NOT_FIT : EXIT_FITS;
}

export function buildProgram(io: CliIo): Command {
  const reportInvalid = (invalid: PlannedDocuments['invalid']) => {
    for (const doc of invalid) {
      for (const p of doc.problems) io.stderr(`error: ${doc.name}: ${p.field ? `${p.field}: ` : ''}${p.message}\n`);
    }
  };
  const reportReasons = (report: PlanReport) => {
    for (const reason of report.reasons) io.stderr(`error: ${report.name}: ${reason.field}: ${reason.message}\n`);
  };
  /** Reads and plans each file once (standard input cannot be read twice); an unreadable file exits 2. */
  const planFile = (files: readonly string[]): PlannedDocuments | undefined => {
    try {
      const all: PlannedDocuments = { planned: [], invalid: [] };
      for (const file of files) {
        const one = planDocuments(parseDocuments(file, io.readText));
        all.planned.push(...one.planned);
        all.invalid.push(...one.invalid);
      }
      return all;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      io.stderr(`error: ${err.message}\n`);
      io.setExitCode(EXIT_INVALID);
      return undefined;
    }
  };

  // Set before the commands are added: they inherit it.
  const program = new Command('lfm-operator')
    .description('Plans, serves and autoscales sparse Mixture-of-Experts LLMs on Kubernetes.')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError();
  if (io.version) program.version(io.version, '-v, --version', 'print the version and exit');

  program.command('plan')
    .description('Plan LfmDeployments offline: fit, GPUs, KV cache and the engine command line.')
    .requiredOption('-f, --filename <file...>', 'YAML or JSON files with LfmDeployments ("-" for stdin); repeat -f or list several')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((opts: { filename: string[]; output: 'table' | 'json' }) => {
      const documents = planFile(opts.filename);
      if (!documents) return;
      reportInvalid(documents.invalid);
      const reports = documents.planned.map((p) => p.report);
      for (const r of reports.filter((x) => x.invalid)) reportReasons(r);
      if (opts.output === 'json') {
        const json = reports.map(({ plan: _plan, ...rest }) => rest);
        io.stdout(`${JSON.stringify(json, null, 2)}\n`);
      } else if (reports.length > 0) {
        io.stdout(formatPlanTable(reports));
      }
      io.setExitCode(computeExitCode(documents));
    });

  program.command('render')
    .description('Render the child manifests of LfmDeployments as YAML: Deployment, Service, PodDisruptionBudget, and with spec.routing the InferencePool, the endpoint picker\'s objects, InferenceObjectives and HTTPRoute.')
    .requiredOption('-f, --filename <file...>', 'YAML or JSON files with LfmDeployments ("-" for stdin); repeat -f or list several')
    .action((opts: { filename: string[] }) => {
      const documents = planFile(opts.filename);
      if (!documents) return;
      reportInvalid(documents.invalid);
      const docs: string[] = [];
      for (const { lfmd, report } of documents.planned) {
        if (!report.fits) {
          reportReasons(report);
          continue;
        }
        const children = renderChildren(lfmd, report.plan);
        for (const obj of [children.deployment, children.service, children.podDisruptionBudget]) {
          if (obj) docs.push(stringify(obj, { lineWidth: 0 }));
        }
        for (const child of renderRoutingChildren(lfmd, report.plan)) docs.push(stringify(child.object, { lineWidth: 0 }));
      }
      io.stdout(docs.map((d) => `---\n${d}`).join(''));
      io.setExitCode(computeExitCode(documents));
    });

  program.command('crd')
    .description('Print the LfmDeployment CustomResourceDefinition.')
    .action(() => {
      io.stdout(stringify(buildCrd(), { lineWidth: 0 }));
    });

  const run = program.command('run')
    .description('Run the operator: reconcile LfmDeployments into engine pods and autoscale them.')
    .option('--kubeconfig <path>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, else in-cluster)');
  addBooleanOption(run, 'leader-elect', 'elect a leader on a Lease', true);
  run
    .option('--leader-election-namespace <ns>', 'namespace of the Lease (default: the pod namespace, else default)')
    .option('--leader-election-id <name>', 'name of the Lease (default lfm-operator-leader)')
    .option('--activator-namespace <ns>', 'namespace of the activator pods that scale-to-zero Services point at while at zero (default: the pod namespace, else default)')
    .option('--identity <name>', 'this replica in the Lease (default: HOSTNAME plus a random suffix)')
    .option('--namespaces <list>', 'comma-separated namespaces to watch (default: all)')
    .option('--metrics-bind-address <addr>', 'HOST:PORT of /metrics (default :8080)')
    .option('--health-probe-bind-address <addr>', 'HOST:PORT of /healthz and /readyz (default :8081)')
    .option('--vllm-image <image>', 'default vLLM image')
    .option('--sglang-image <image>', 'default SGLang image')
    .option('--llamacpp-image <image>', 'default llama.cpp image for CPU replicas')
    .option('--llamacpp-gpu-image <image>', 'default llama.cpp image for replicas on a GPU (its CUDA build)')
    .option('--concurrency <n>', 'reconcile workers (default 4)')
    .option('--resync-seconds <n>', 'full resync period (default 600)')
    .option('--log-level <level>', 'trace, debug, info, warn or error (default info)');
  addBooleanOption(run, 'autoscaler', 'run the autoscaler loop on the leader', true);
  run.action(async (opts: Record<string, unknown>) => {
    await io.runOperator(opts);
  });

  program.command('activator')
    .description('Run the scale-to-zero activator: while an LfmDeployment with spec.autoscaling.scaleToZero has no Ready replica, its Service sends requests here; the activator holds them (at most maxHeldRequests, 429 beyond; 503 after maxHoldSeconds), asks for a replica through status.activation, and forwards them once one is Ready. The target is found from the Host header NAME.NAMESPACE[.svc[.cluster.local]][:PORT]. Serves /metrics, /healthz and /readyz on the same address. Identity: POD_NAME (else HOSTNAME).')
    .option('--kubeconfig <path>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, else in-cluster)')
    .option('--listen <addr>', 'HOST:PORT of the proxy, /metrics, /healthz and /readyz', ':8080')
    .option('--namespaces <list>', 'comma-separated namespaces to watch (default: LFM_OPERATOR_NAMESPACES, else all)')
    .option('--log-level <level>', 'trace, debug, info, warn or error (default info)')
    .action(async (opts: Record<string, unknown>) => {
      await io.runActivator(opts);
    });

  return program;
}
