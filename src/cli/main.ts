#!/usr/bin/env node
// The lfm-operator command line: plan, render and crd work offline; run starts the operator.
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { buildCrd } from '../api/crd.js';
import { renderChildren } from '../render/children.js';
import { buildPlanReport, type PlanReport } from '../render/plan-report.js';
import { InputError, parseDocuments } from './documents.js';
import { formatPlanTable } from './plan-table.js';

const EXIT_FITS = 0;
const EXIT_DOES_NOT_FIT = 1;
const EXIT_INVALID = 2;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(EXIT_INVALID);
}

function planFile(file: string): { reports: PlanReport[]; invalid: { name: string; problems: { field: string; message: string }[] }[] } {
  const reports: PlanReport[] = [];
  const invalid: { name: string; problems: { field: string; message: string }[] }[] = [];
  for (const result of parseDocuments(file)) {
    if (result.ok) reports.push(buildPlanReport(result.value));
    else invalid.push({ name: result.name, problems: result.problems });
  }
  return { reports, invalid };
}

function reportInvalid(invalid: ReturnType<typeof planFile>['invalid']): void {
  for (const doc of invalid) {
    for (const p of doc.problems) process.stderr.write(`error: ${doc.name}: ${p.field ? `${p.field}: ` : ''}${p.message}\n`);
  }
}

const program = new Command('lfm-operator')
  .description('Plans, serves and autoscales sparse Mixture-of-Experts LLMs on Kubernetes.')
  .showHelpAfterError();

program.command('plan')
  .description('Plan LfmDeployments offline: fit, GPUs, KV cache and the engine command line.')
  .requiredOption('-f, --filename <file>', 'YAML or JSON file with LfmDeployments ("-" for stdin)')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
  .action((opts: { filename: string; output: 'table' | 'json' }) => {
    const { reports, invalid } = planFile(opts.filename);
    reportInvalid(invalid);
    for (const r of reports.filter((x) => x.invalid)) {
      for (const reason of r.reasons) process.stderr.write(`error: ${r.name}: ${reason.field}: ${reason.message}\n`);
    }
    if (opts.output === 'json') {
      const json = reports.map(({ plan: _plan, ...rest }) => rest);
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    } else if (reports.length > 0) {
      process.stdout.write(formatPlanTable(reports));
    }
    const code = invalid.length > 0 || reports.some((r) => r.invalid) ? EXIT_INVALID : reports.some((r) => !r.fits) ? EXIT_DOES_NOT_FIT : EXIT_FITS;
    process.exitCode = code;
  });

program.command('render')
  .description('Render the child manifests (Deployment, Service, PodDisruptionBudget) of LfmDeployments as YAML.')
  .requiredOption('-f, --filename <file>', 'YAML or JSON file with LfmDeployments ("-" for stdin)')
  .action((opts: { filename: string }) => {
    const { reports, invalid } = planFile(opts.filename);
    reportInvalid(invalid);
    const docs: string[] = [];
    for (const result of parseDocuments(opts.filename)) {
      if (!result.ok) continue;
      const report = reports.find((r) => r.name === result.value.metadata.name)!;
      if (!report.fits) {
        for (const reason of report.reasons) process.stderr.write(`error: ${report.name}: ${reason.field}: ${reason.message}\n`);
        continue;
      }
      const children = renderChildren(result.value, report.plan);
      for (const obj of [children.deployment, children.service, children.podDisruptionBudget]) {
        if (obj) docs.push(stringify(obj, { lineWidth: 0 }));
      }
    }
    process.stdout.write(docs.map((d) => `---\n${d}`).join(''));
    process.exitCode = invalid.length > 0 || reports.some((r) => r.invalid) ? EXIT_INVALID : reports.some((r) => !r.fits) ? EXIT_DOES_NOT_FIT : EXIT_FITS;
  });

program.command('crd')
  .description('Print the LfmDeployment CustomResourceDefinition.')
  .action(() => {
    process.stdout.write(stringify(buildCrd(), { lineWidth: 0 }));
  });

program.command('run')
  .description('Run the operator: reconcile LfmDeployments into engine pods and autoscale them.')
  .option('--kubeconfig <path>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, else in-cluster)')
  .option('--leader-elect <bool>', 'elect a leader on a Lease (default true)', (v) => v === 'true')
  .option('--leader-election-namespace <ns>', 'namespace of the Lease (default: the pod namespace, else default)')
  .option('--leader-election-id <name>', 'name of the Lease (default lfm-operator-leader)')
  .option('--identity <name>', 'this replica in the Lease (default: HOSTNAME plus a random suffix)')
  .option('--namespaces <list>', 'comma-separated namespaces to watch (default: all)')
  .option('--metrics-bind-address <addr>', 'HOST:PORT of /metrics (default :8080)')
  .option('--health-probe-bind-address <addr>', 'HOST:PORT of /healthz and /readyz (default :8081)')
  .option('--vllm-image <image>', 'default vLLM image')
  .option('--sglang-image <image>', 'default SGLang image')
  .option('--concurrency <n>', 'reconcile workers (default 4)')
  .option('--resync-seconds <n>', 'full resync period (default 600)')
  .option('--log-level <level>', 'trace, debug, info, warn or error (default info)')
  .option('--autoscaler <bool>', 'run the autoscaler loop on the leader (default true)', (v) => v === 'true')
  .action(async (opts: Record<string, unknown>) => {
    const { runOperator } = await import('./run.js');
    await runOperator(opts);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof InputError) fail(err.message);
  throw err;
}
