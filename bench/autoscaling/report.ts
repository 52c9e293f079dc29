// The benchmark's output: one row per policy (the figure table and the --json array), and the verdict against the
// issue's targets. Pure formatting; no I/O.
import type { Bounds } from './oracle.js';
import type { SimulationResult } from './simulator.js';

/** One row of --json, exactly the fields the issue names. Waits are null for the fluid bound (not a schedule). */
export interface PolicyRow {
  policy: string;
  gpuHours: number;
  ratioToOracle: number;
  waitOver1sPct: number | null;
  waitOver5sPct: number | null;
  waitOver30sPct: number | null;
  /** Null when more than 1% of requests were never admitted (their wait is unbounded), or for the fluid bound. */
  p99WaitSeconds: number | null;
  killed: number | null;
  dropped: number | null;
  scaleActions: number | null;
  reversals: number | null;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Rows in the order operator, oracle, fluid, then the baselines as run. The oracle's cost is G_L itself. */
export function buildRows(results: readonly SimulationResult[], bounds: Bounds): PolicyRow[] {
  const toRow = (r: SimulationResult): PolicyRow => {
    const gpuHours = r.policy === 'oracle' ? bounds.startup : r.gpuHours;
    return {
      policy: r.policy,
      gpuHours: round(gpuHours, 3),
      ratioToOracle: round(gpuHours / bounds.startup, 3),
      waitOver1sPct: round(r.waitOver1sPct, 2),
      waitOver5sPct: round(r.waitOver5sPct, 2),
      waitOver30sPct: round(r.waitOver30sPct, 2),
      p99WaitSeconds: Number.isFinite(r.p99WaitSeconds) ? round(r.p99WaitSeconds, 2) : null,
      killed: r.killed,
      dropped: r.dropped,
      scaleActions: r.scaleActions,
      reversals: r.reversals,
    };
  };
  const operator = results.filter((r) => r.policy === 'operator').map(toRow);
  const oracle = results.filter((r) => r.policy === 'oracle').map(toRow);
  const fluid: PolicyRow = {
    policy: 'fluid', gpuHours: round(bounds.fluid, 3), ratioToOracle: round(bounds.fluid / bounds.startup, 3),
    waitOver1sPct: null, waitOver5sPct: null, waitOver30sPct: null, p99WaitSeconds: null, killed: null, dropped: null, scaleActions: null, reversals: null,
  };
  const baselines = results.filter((r) => r.policy !== 'operator' && r.policy !== 'oracle').map(toRow);
  return [...operator, ...oracle, fluid, ...baselines];
}

const COLUMNS: { title: string; width: number; cell: (r: PolicyRow) => string }[] = [
  { title: 'policy', width: 12, cell: (r) => r.policy },
  { title: 'GPU-h', width: 7, cell: (r) => r.gpuHours.toFixed(2) },
  { title: 'x oracle', width: 8, cell: (r) => r.ratioToOracle.toFixed(3) },
  { title: '%wait>1s', width: 8, cell: (r) => (r.waitOver1sPct === null ? '-' : r.waitOver1sPct.toFixed(2)) },
  { title: '%wait>5s', width: 8, cell: (r) => (r.waitOver5sPct === null ? '-' : r.waitOver5sPct.toFixed(2)) },
  { title: '%wait>30s', width: 9, cell: (r) => (r.waitOver30sPct === null ? '-' : r.waitOver30sPct.toFixed(2)) },
  { title: 'p99 wait s', width: 10, cell: (r) => (r.p99WaitSeconds === null ? (r.policy === 'fluid' ? '-' : 'inf') : r.p99WaitSeconds.toFixed(1)) },
  { title: 'killed', width: 6, cell: (r) => (r.killed === null ? '-' : String(r.killed)) },
  { title: 'dropped', width: 7, cell: (r) => (r.dropped === null ? '-' : String(r.dropped)) },
  { title: 'actions', width: 7, cell: (r) => (r.scaleActions === null ? '-' : String(r.scaleActions)) },
  { title: 'reversals', width: 9, cell: (r) => (r.reversals === null ? '-' : String(r.reversals)) },
];

/** The figure table, one line per row. */
export function formatTable(rows: readonly PolicyRow[]): string {
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]?.width ?? 0) : c.padStart(COLUMNS[i]?.width ?? 0))).join('  ');
  const header = line(COLUMNS.map((c) => c.title));
  return [header, '-'.repeat(header.length), ...rows.map((r) => line(COLUMNS.map((c) => c.cell(r))))].join('\n');
}

export interface Targets {
  maxRatio: number;
  maxWaitOver5sPct: number;
}

export interface Verdict {
  targets: Targets;
  ratioOk: boolean;
  waitOk: boolean;
  killedOk: boolean;
  /** Baseline rows at least as good on cost and on %wait>5s, and better on one. */
  dominatedBy: string[];
  met: boolean;
}

/** The issue's targets: conv x40 at L = 180 s, 1.15x and 1%; any other trace or setting, 1.25x and 2%. */
export function computeTargets(isConvX40At180: boolean): Targets {
  return isConvX40At180 ? { maxRatio: 1.15, maxWaitOver5sPct: 1 } : { maxRatio: 1.25, maxWaitOver5sPct: 2 };
}

export function computeVerdict(rows: readonly PolicyRow[], targets: Targets): Verdict | undefined {
  const op = rows.find((r) => r.policy === 'operator');
  if (!op || op.waitOver5sPct === null) return undefined;
  const opWait = op.waitOver5sPct;
  const dominatedBy = rows
    .filter((r) => r.policy !== 'operator' && r.policy !== 'oracle' && r.policy !== 'fluid' && r.waitOver5sPct !== null)
    .filter((r) => {
      const wait = r.waitOver5sPct ?? Infinity;
      return r.gpuHours <= op.gpuHours && wait <= opWait && (r.gpuHours < op.gpuHours || wait < opWait);
    })
    .map((r) => r.policy);
  const ratioOk = op.ratioToOracle <= targets.maxRatio;
  const waitOk = opWait <= targets.maxWaitOver5sPct;
  const killedOk = op.killed === 0;
  return { targets, ratioOk, waitOk, killedOk, dominatedBy, met: ratioOk && waitOk && killedOk && dominatedBy.length === 0 };
}

export function formatVerdict(verdict: Verdict, op: PolicyRow): string {
  const mark = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  return [
    `target: operator <= ${verdict.targets.maxRatio}x oracle (${op.ratioToOracle.toFixed(3)}: ${mark(verdict.ratioOk)}), ` +
      `<= ${verdict.targets.maxWaitOver5sPct}% waiting > 5 s (${(op.waitOver5sPct ?? 0).toFixed(2)}%: ${mark(verdict.waitOk)}), ` +
      `no killed requests (${op.killed ?? 0}: ${mark(verdict.killedOk)}), ` +
      `no baseline better on both cost and %wait>5s (${verdict.dominatedBy.length === 0 ? 'none: met' : `${verdict.dominatedBy.join(', ')}: NOT met`})`,
    `verdict: ${verdict.met ? 'all targets met' : 'targets NOT met'}`,
  ].join('\n');
}
