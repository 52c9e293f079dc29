// The benchmark's output: one row per policy (the figure table and the --json array), and the verdict against the
// issue's targets. Pure formatting; no I/O.
import { parseFamily } from './baselines.js';
import type { Bounds } from './oracle.js';
import type { SimulationResult } from './simulator.js';

/**
 * One row of --json: the fields DESIGN §8 names, plus `refused`. Waits are null for the fluid bound (not a
 * schedule); percentages are 0-100, over the requests not refused.
 */
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
  /** Requests longer than maxModelLen, refused at arrival as the engine would. */
  refused: number | null;
}

/**
 * The bound rows (DESIGN §8): `oracle` (the denominator, minReplicas 1), `fluid`, and the variants `oracle-zero-startup`
 * (the per-minute R* with instant replicas: G_int) and `oracle-zero-min` (minReplicas 0).
 */
export const BOUND_ROWS = ['oracle', 'fluid', 'oracle-zero-startup', 'oracle-zero-min'] as const;

/** True for the operator and the bound rows: everything that is not a baseline family@setting. */
export function isBoundOrOperator(policy: string): boolean {
  return policy === 'operator' || (BOUND_ROWS as readonly string[]).includes(policy);
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Rows in the order operator, oracle, fluid, the other bound rows, then the baselines as run. A bound row's cost is
 * its analytic value: `oracle` G_L, `oracle-zero-startup` G_int, others from `analytic` (GPU-hours by row name, e.g.
 * `oracle-zero-min`'s G_L with minReplicas 0); its waits are measured by playing it through the simulator.
 */
export function buildRows(results: readonly SimulationResult[], bounds: Bounds, analytic: Readonly<Record<string, number>> = {}): PolicyRow[] {
  const costs: Record<string, number> = { oracle: bounds.startup, 'oracle-zero-startup': bounds.integer, ...analytic };
  const toRow = (r: SimulationResult): PolicyRow => {
    const gpuHours = costs[r.policy] ?? r.gpuHours;
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
      refused: r.refused,
    };
  };
  const operator = results.filter((r) => r.policy === 'operator').map(toRow);
  const oracle = results.filter((r) => r.policy === 'oracle').map(toRow);
  const fluid: PolicyRow = {
    policy: 'fluid', gpuHours: round(bounds.fluid, 3), ratioToOracle: round(bounds.fluid / bounds.startup, 3),
    waitOver1sPct: null, waitOver5sPct: null, waitOver30sPct: null, p99WaitSeconds: null, killed: null, dropped: null, scaleActions: null, reversals: null, refused: null,
  };
  const variants = results.filter((r) => r.policy !== 'oracle' && isBoundOrOperator(r.policy) && r.policy !== 'operator').map(toRow);
  const baselines = results.filter((r) => !isBoundOrOperator(r.policy)).map(toRow);
  return [...operator, ...oracle, fluid, ...variants, ...baselines];
}

const COLUMNS: { title: string; width: number; cell: (r: PolicyRow) => string }[] = [
  { title: 'policy', width: 19, cell: (r) => r.policy },
  { title: 'GPU-h', width: 7, cell: (r) => r.gpuHours.toFixed(2) },
  { title: 'x oracle', width: 8, cell: (r) => r.ratioToOracle.toFixed(3) },
  { title: '%wait>1s', width: 8, cell: (r) => (r.waitOver1sPct === null ? '-' : r.waitOver1sPct.toFixed(2)) },
  { title: '%wait>5s', width: 8, cell: (r) => (r.waitOver5sPct === null ? '-' : r.waitOver5sPct.toFixed(2)) },
  { title: '%wait>30s', width: 9, cell: (r) => (r.waitOver30sPct === null ? '-' : r.waitOver30sPct.toFixed(2)) },
  { title: 'p99 wait s', width: 10, cell: (r) => (r.p99WaitSeconds === null ? (r.policy === 'fluid' ? '-' : 'inf') : r.p99WaitSeconds.toFixed(1)) },
  { title: 'killed', width: 6, cell: (r) => (r.killed === null ? '-' : String(r.killed)) },
  { title: 'dropped', width: 7, cell: (r) => (r.dropped === null ? '-' : String(r.dropped)) },
  { title: 'refused', width: 7, cell: (r) => (r.refused === null ? '-' : String(r.refused)) },
  { title: 'actions', width: 7, cell: (r) => (r.scaleActions === null ? '-' : String(r.scaleActions)) },
  { title: 'reversals', width: 9, cell: (r) => (r.reversals === null ? '-' : String(r.reversals)) },
];

/** The figure table, one line per row. */
export function formatTable(rows: readonly PolicyRow[]): string {
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]?.width ?? 0) : c.padStart(COLUMNS[i]?.width ?? 0))).join('  ');
  const header = line(COLUMNS.map((c) => c.title));
  return [header, '-'.repeat(header.length), ...rows.map((r) => line(COLUMNS.map((c) => c.cell(r))))].join('\n');
}

/** How a trace is judged: conv (the issue's headline trace), bursty (steps, spikes, on/off), or any other. */
export type TraceKind = 'conv' | 'bursty' | 'other';

export interface Targets {
  maxRatio: number;
  maxWaitOver5sPct: number;
}

/** The waiting share the reference rule family is held to, and the across-suite choice (percent waiting > 5 s). */
export const REFERENCE_MAX_WAIT_PCT = 2;

/** The issue's targets: conv (x40 at L = 180 s) 1.10x and 1%; bursty traces 1.5x and 2%; any other 1.25x and 2%. */
export function computeTargets(kind: TraceKind): Targets {
  switch (kind) {
    case 'conv': return { maxRatio: 1.1, maxWaitOver5sPct: 1 };
    case 'bursty': return { maxRatio: 1.5, maxWaitOver5sPct: 2 };
    case 'other': return { maxRatio: 1.25, maxWaitOver5sPct: 2 };
  }
}

export interface Verdict {
  targets: Targets;
  ratioOk: boolean;
  waitOk: boolean;
  killedOk: boolean;
  /** Published-baseline rows at least as good on cost and on %wait>5s, and better on one (the rule family excluded). */
  dominatedBy: string[];
  /** The reference rule family's cheapest row with %wait>5s <= 2%, if any. */
  reference?: PolicyRow;
  met: boolean;
}

/** The cheapest rule@ row with %wait>5s <= maxWaitPct (ties: less waiting, then label). */
export function chooseReferenceBest(rows: readonly PolicyRow[], maxWaitPct = REFERENCE_MAX_WAIT_PCT): PolicyRow | undefined {
  return rows
    .filter((r) => parseFamily(r.policy) === 'rule' && r.waitOver5sPct !== null && r.waitOver5sPct <= maxWaitPct)
    .sort((a, b) => a.ratioToOracle - b.ratioToOracle || (a.waitOver5sPct ?? 0) - (b.waitOver5sPct ?? 0) || a.policy.localeCompare(b.policy))[0];
}

export function computeVerdict(rows: readonly PolicyRow[], targets: Targets): Verdict | undefined {
  const op = rows.find((r) => r.policy === 'operator');
  if (!op || op.waitOver5sPct === null) return undefined;
  const opWait = op.waitOver5sPct;
  const dominatedBy = rows
    .filter((r) => !isBoundOrOperator(r.policy) && parseFamily(r.policy) !== 'rule' && r.waitOver5sPct !== null)
    .filter((r) => {
      const wait = r.waitOver5sPct ?? Infinity;
      return r.gpuHours <= op.gpuHours && wait <= opWait && (r.gpuHours < op.gpuHours || wait < opWait);
    })
    .map((r) => r.policy);
  const ratioOk = op.ratioToOracle <= targets.maxRatio;
  const waitOk = opWait <= targets.maxWaitOver5sPct;
  const killedOk = op.killed === 0;
  const reference = chooseReferenceBest(rows);
  return { targets, ratioOk, waitOk, killedOk, dominatedBy, ...(reference ? { reference } : {}), met: ratioOk && waitOk && killedOk && dominatedBy.length === 0 };
}

export function formatVerdict(verdict: Verdict, op: PolicyRow): string {
  const mark = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const ref = verdict.reference;
  return [
    `target: operator <= ${verdict.targets.maxRatio}x oracle (${op.ratioToOracle.toFixed(3)}: ${mark(verdict.ratioOk)}), ` +
      `<= ${verdict.targets.maxWaitOver5sPct}% waiting > 5 s (${(op.waitOver5sPct ?? 0).toFixed(2)}%: ${mark(verdict.waitOk)}), ` +
      `no killed requests (${op.killed ?? 0}: ${mark(verdict.killedOk)}), ` +
      `no baseline better on both cost and %wait>5s (${verdict.dominatedBy.length === 0 ? 'none: met' : `${verdict.dominatedBy.join(', ')}: NOT met`})`,
    `reference: the best rule@H/h at <= ${REFERENCE_MAX_WAIT_PCT}% waiting > 5 s: ${ref ? `${ref.policy}, ${ref.ratioToOracle.toFixed(3)}x, ${(ref.waitOver5sPct ?? 0).toFixed(2)}%` : 'none'}`,
    `verdict: ${verdict.met ? 'all targets met' : 'targets NOT met'}`,
  ].join('\n');
}
