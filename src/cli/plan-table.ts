// Pure. Formats plans as the table `lfm-operator plan` prints, followed by each plan's reasons and warnings.
import type { PlanReport } from '../render/plan-report.js';

export function formatPlanTable(reports: readonly PlanReport[]): string {
  // MEM/REPLICA: the host memory a llama.cpp replica requests (its whole footprint on CPU nodes); '-' for the GPU engines.
  const header = ['NAME', 'MODEL', 'ENGINE', 'GPU', 'QUANT', 'TP', 'GPUS', 'WEIGHTS/GPU', 'KV/GPU', 'KV B/TOKEN', 'SEQS@LEN', 'MEM/REPLICA', 'FITS'];
  const rows = reports.map((r) => [
    r.name, r.model ?? '?', r.engine, r.gpuType, r.quantization, String(r.tensor), String(r.gpusPerReplica),
    // A CPU replica has no GPU: its weights and KV cache are in MEM/REPLICA.
    r.gpusPerReplica === 0 ? '-' : `${r.weightsGiBPerGpu.toFixed(1)}GiB`, r.gpusPerReplica === 0 ? '-' : `${r.kvCacheGiBPerGpu.toFixed(1)}GiB`, String(r.kvBytesPerToken),
    `${r.maxSequencesAtMaxLen}@${r.maxModelLen}`, r.memoryGiBPerReplica === undefined ? '-' : `${r.memoryGiBPerReplica.toFixed(1)}GiB`,
    r.invalid ? 'invalid' : r.fits ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  for (const r of reports) {
    const notes = [
      ...r.reasons.map((x) => `  refused  ${x.field}: ${x.message}`),
      ...r.warnings.map((w) => `  warning  ${w}`),
    ];
    if (notes.length > 0) out.push('', `${r.name}:`, ...notes);
  }
  return `${out.join('\n')}\n`;
}
