// The trace suite's verdict (`--suite`): per trace, the operator against its targets and each baseline family at
// its best setting in hindsight; across the suite, each family's one best setting for every trace against the
// operator; and the ranges the fine sweep refines. Pure functions of the rows; no I/O.
import type { BaselineFamily, SettingRange } from './baselines.js';
import { BASELINE_FAMILIES, parseFamily, parseSetting } from './baselines.js';
import type { PolicyRow, Targets, TraceKind, ZeroVerdict } from './report.js';
import { REFERENCE_MAX_WAIT_PCT, chooseReferenceBest, computeTargets, computeZeroVerdict } from './report.js';

/** One suite entry's rows (the --suite --json element). */
export interface SuiteTrace {
  trace: string;
  kind: TraceKind;
  rows: readonly PolicyRow[];
}

const waitOf = (r: PolicyRow): number => r.waitOver5sPct ?? Infinity;

/**
 * The best setting in hindsight among `rows`: the cheapest (ratio to the oracle) with %wait>5s <= maxWaitPct; when
 * none meets it, the one with the least waiting. Ties: less waiting (resp. cheaper), then the label.
 */
export function chooseBestInHindsight(rows: readonly PolicyRow[], maxWaitPct: number): PolicyRow | undefined {
  const candidates = rows.filter((r) => r.waitOver5sPct !== null);
  const feasible = candidates.filter((r) => waitOf(r) <= maxWaitPct);
  if (feasible.length > 0) return [...feasible].sort((a, b) => a.ratioToOracle - b.ratioToOracle || waitOf(a) - waitOf(b) || a.policy.localeCompare(b.policy))[0];
  return [...candidates].sort((a, b) => waitOf(a) - waitOf(b) || a.ratioToOracle - b.ratioToOracle || a.policy.localeCompare(b.policy))[0];
}

export interface FamilyBest {
  family: BaselineFamily;
  row: PolicyRow;
  /** Whether the chosen row meets the waiting target it was chosen against. */
  meetsWait: boolean;
}

/** Each family present in `rows` (BASELINE_FAMILIES order) at its best setting in hindsight. */
export function chooseFamilyBests(rows: readonly PolicyRow[], maxWaitPct: number): FamilyBest[] {
  const out: FamilyBest[] = [];
  for (const family of BASELINE_FAMILIES) {
    const row = chooseBestInHindsight(rows.filter((r) => parseFamily(r.policy) === family), maxWaitPct);
    if (row) out.push({ family, row, meetsWait: waitOf(row) <= maxWaitPct });
  }
  return out;
}

/** A policy's worst case over the suite. */
export interface SuiteScore {
  policy: string;
  worstRatio: number;
  worstWaitPct: number;
}

/** The worst ratio and the worst %wait>5s of `policy` over the traces; undefined if a trace lacks it. */
export function computeSuiteScore(traces: readonly SuiteTrace[], policy: string): SuiteScore | undefined {
  let worstRatio = -Infinity;
  let worstWaitPct = -Infinity;
  for (const t of traces) {
    const row = t.rows.find((r) => r.policy === policy);
    if (!row) return undefined;
    worstRatio = Math.max(worstRatio, row.ratioToOracle);
    worstWaitPct = Math.max(worstWaitPct, waitOf(row));
  }
  return traces.length > 0 ? { policy, worstRatio, worstWaitPct } : undefined;
}

export interface SuiteChoice extends SuiteScore {
  family: BaselineFamily;
  /** Worst-trace %wait>5s within the limit. */
  feasible: boolean;
}

/**
 * A family's one setting for the whole suite, among the settings run on every trace: the lowest worst-trace ratio
 * subject to worst-trace %wait>5s <= maxWorstWaitPct; when none meets it, the least worst-trace waiting (ties:
 * the lower worst ratio, then the label).
 */
export function chooseAcrossSuite(traces: readonly SuiteTrace[], family: BaselineFamily, maxWorstWaitPct = REFERENCE_MAX_WAIT_PCT): SuiteChoice | undefined {
  const labels = new Set<string>();
  for (const t of traces) for (const r of t.rows) if (parseFamily(r.policy) === family) labels.add(r.policy);
  const scores = [...labels].map((l) => computeSuiteScore(traces, l)).filter((s): s is SuiteScore => s !== undefined);
  const feasible = scores.filter((s) => s.worstWaitPct <= maxWorstWaitPct);
  const best = feasible.length > 0
    ? [...feasible].sort((a, b) => a.worstRatio - b.worstRatio || a.worstWaitPct - b.worstWaitPct || a.policy.localeCompare(b.policy))[0]
    : [...scores].sort((a, b) => a.worstWaitPct - b.worstWaitPct || a.worstRatio - b.worstRatio || a.policy.localeCompare(b.policy))[0];
  return best ? { ...best, family, feasible: best.worstWaitPct <= maxWorstWaitPct } : undefined;
}

/** a is at least as good as b on both the worst ratio and the worst waiting. */
export function isAtLeastAsGood(a: SuiteScore, b: SuiteScore): boolean {
  return a.worstRatio <= b.worstRatio && a.worstWaitPct <= b.worstWaitPct;
}

export interface SuiteTraceSummary {
  trace: string;
  kind: TraceKind;
  targets: Targets;
  operator?: PolicyRow;
  /** The operator within both targets with no killed request. */
  met: boolean;
  /** Each family at its best setting in hindsight, against the trace's waiting target. */
  bests: FamilyBest[];
  /** The rule family's cheapest setting at <= 2% waiting. */
  reference?: PolicyRow;
  /** With scale to zero: operator-zero's row and its verdict (judged on the idle traces only). */
  zero?: PolicyRow;
  zeroVerdict?: ZeroVerdict;
}

export interface SuiteReport {
  traces: SuiteTraceSummary[];
  operator?: SuiteScore;
  /** Per family: its across-suite setting and whether it is at least as good as the operator on both worst cases. */
  choices: (SuiteChoice & { atLeastAsGoodAsOperator: boolean })[];
}

export function buildSuiteReport(traces: readonly SuiteTrace[]): SuiteReport {
  const summaries = traces.map((t): SuiteTraceSummary => {
    const targets = computeTargets(t.kind);
    const operator = t.rows.find((r) => r.policy === 'operator');
    const met = operator !== undefined && operator.ratioToOracle <= targets.maxRatio && waitOf(operator) <= targets.maxWaitOver5sPct && operator.killed === 0;
    const reference = chooseReferenceBest(t.rows);
    const zero = t.rows.find((r) => r.policy === 'operator-zero');
    const zeroVerdict = computeZeroVerdict(t.rows, targets);
    return {
      trace: t.trace, kind: t.kind, targets, ...(operator ? { operator } : {}), met, bests: chooseFamilyBests(t.rows, targets.maxWaitOver5sPct), ...(reference ? { reference } : {}),
      ...(zero ? { zero } : {}), ...(zeroVerdict ? { zeroVerdict } : {}),
    };
  });
  const operator = computeSuiteScore(traces, 'operator');
  const choices = BASELINE_FAMILIES.map((f) => chooseAcrossSuite(traces, f))
    .filter((c): c is SuiteChoice => c !== undefined)
    .map((c) => ({ ...c, atLeastAsGoodAsOperator: operator !== undefined && isAtLeastAsGood(c, operator) }));
  return { traces: summaries, ...(operator ? { operator } : {}), choices };
}

/**
 * Where the fine sweep goes: per swept family, for each trace and each waiting limit (the trace's target and 2%),
 * the intervals between the best setting in hindsight (and any setting tied with it) and each neighbour among the
 * settings run on that trace, and the same around the family's across-suite choice (neighbours by their suite
 * scores); an interval over which neither the ratio nor the waiting changes is left out; overlapping ranges are
 * merged. static and rule are not swept.
 */
export function computeRefinementRanges(traces: readonly SuiteTrace[]): SettingRange[] {
  const out: SettingRange[] = [];
  for (const family of BASELINE_FAMILIES) {
    if (family === 'static' || family === 'rule') continue;
    const ranges: { lo: number; hi: number }[] = [];
    // Around `best` in `sorted` (ascending settings, each with what it scored), and around every setting that scored
    // the same (a tie): the sides where the score changes.
    const bracket = <T>(sorted: readonly { setting: number; score: T }[], best: number | undefined, same: (a: T, b: T) => boolean): void => {
      const at = sorted.find((s) => s.setting === best);
      if (!at) return;
      sorted.forEach((s, i) => {
        if (!same(s.score, at.score)) return;
        for (const side of [sorted[i - 1], sorted[i + 1]]) {
          if (side && !same(side.score, at.score)) ranges.push({ lo: Math.min(side.setting, s.setting), hi: Math.max(side.setting, s.setting) });
        }
      });
    };
    for (const t of traces) {
      const rows = t.rows.filter((r) => parseFamily(r.policy) === family);
      const sorted = rows.map((r) => ({ setting: parseSetting(r.policy), score: r })).sort((a, b) => a.setting - b.setting);
      for (const limit of [computeTargets(t.kind).maxWaitOver5sPct, REFERENCE_MAX_WAIT_PCT]) {
        const best = chooseBestInHindsight(rows, limit);
        bracket(sorted, best ? parseSetting(best.policy) : undefined, (a, b) => a.ratioToOracle === b.ratioToOracle && waitOf(a) === waitOf(b));
      }
    }
    const labels = new Set<string>();
    for (const t of traces) for (const r of t.rows) if (parseFamily(r.policy) === family) labels.add(r.policy);
    const scores = [...labels].map((l) => computeSuiteScore(traces, l)).filter((s): s is SuiteScore => s !== undefined);
    const choice = chooseAcrossSuite(traces, family);
    bracket(scores.map((s) => ({ setting: parseSetting(s.policy), score: s })).sort((a, b) => a.setting - b.setting), choice ? parseSetting(choice.policy) : undefined, (a, b) => a.worstRatio === b.worstRatio && a.worstWaitPct === b.worstWaitPct);
    ranges.sort((a, b) => a.lo - b.lo || a.hi - b.hi);
    for (const r of ranges) {
      const last = out[out.length - 1];
      if (last && last.family === family && r.lo <= last.hi) last.hi = Math.max(last.hi, r.hi);
      else out.push({ family, ...r });
    }
  }
  return out;
}

/** A plain text table: the first column left-aligned, the others right-aligned, two spaces apart. */
function formatColumns(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const head = line(header);
  return [head, '-'.repeat(head.length), ...rows.map(line)].join('\n');
}

const pct = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'inf');
const settingOf = (policy: string): string => policy.slice(policy.indexOf('@') + 1);

/**
 * The suite table: one line per trace (the operator against its targets, then each family's best setting in
 * hindsight as "setting ratio/%wait>5s", `!` when it misses the trace's waiting target, and the rule family's best
 * cost at <= 2%), then one line per family with its across-suite setting.
 */
export function formatSuiteReport(report: SuiteReport): string {
  const families = BASELINE_FAMILIES.filter((f) => f !== 'rule' && report.traces.some((t) => t.bests.some((b) => b.family === f)));
  const header = ['trace', 'kind', 'x oracle', '%wait>5s', 'killed', 'dropped', 'refused', 'target', 'met', ...families, `rule (<=${REFERENCE_MAX_WAIT_PCT}%)`];
  const rows = report.traces.map((t) => {
    const op = t.operator;
    const cells = [
      t.trace, t.kind,
      op ? op.ratioToOracle.toFixed(3) : '-', op ? pct(waitOf(op)) : '-',
      op ? String(op.killed ?? '-') : '-', op ? String(op.dropped ?? '-') : '-', op ? String(op.refused ?? '-') : '-',
      `${t.targets.maxRatio.toFixed(2)}x/${t.targets.maxWaitOver5sPct}%`, t.met ? 'yes' : 'NO',
    ];
    for (const f of families) {
      const b = t.bests.find((x) => x.family === f);
      cells.push(b ? `${settingOf(b.row.policy)} ${b.row.ratioToOracle.toFixed(2)}/${pct(waitOf(b.row))}${b.meetsWait ? '' : '!'}` : '-');
    }
    cells.push(t.reference ? `${settingOf(t.reference.policy)} ${t.reference.ratioToOracle.toFixed(3)}` : 'none');
    return cells;
  });
  const met = report.traces.filter((t) => t.met).length;
  const acrossHeader = ['family', 'setting', 'worst x oracle', 'worst %wait>5s', `wait<=${REFERENCE_MAX_WAIT_PCT}%`, '>= operator on both'];
  const acrossRows: string[][] = [];
  const op = report.operator;
  if (op) acrossRows.push(['operator', 'operator', op.worstRatio.toFixed(3), pct(op.worstWaitPct), op.worstWaitPct <= REFERENCE_MAX_WAIT_PCT ? 'yes' : 'no', '-']);
  for (const c of report.choices) acrossRows.push([c.family, c.policy, c.worstRatio.toFixed(3), pct(c.worstWaitPct), c.feasible ? 'yes' : 'no', c.atLeastAsGoodAsOperator ? 'YES' : 'no']);
  const better = report.choices.filter((c) => c.atLeastAsGoodAsOperator).map((c) => c.policy);
  const zero = report.traces.some((t) => t.zero !== undefined) ? ['', formatZeroReport(report)] : [];
  return [
    'per trace: the operator against the trace\'s target; each family at its best setting in hindsight (the cheapest with',
    '%wait>5s within the trace\'s target, else the least waiting) as "setting x-oracle/%wait>5s", "!" = misses the target;',
    `the reference rule family's cheapest setting at <= ${REFERENCE_MAX_WAIT_PCT}% waiting > 5 s`,
    '',
    formatColumns(header, rows),
    '',
    `operator: targets met on ${met} of ${report.traces.length} traces`,
    '',
    `across the suite: one setting per family for every trace (the lowest worst-trace ratio with worst-trace %wait>5s <= ${REFERENCE_MAX_WAIT_PCT}%,`,
    'else the least worst-trace waiting), against the operator\'s worst ratio and worst waiting',
    '',
    formatColumns(acrossHeader, acrossRows),
    '',
    `verdict: ${better.length === 0 ? 'no family setting is at least as good as the operator on both worst cases' : `at least as good as the operator on both worst cases: ${better.join(', ')}`}`,
    ...zero,
  ].join('\n');
}

const fixedOr = (x: number | null | undefined, digits: number, none = '-'): string => (x === null || x === undefined ? none : x.toFixed(digits));

/**
 * Scale to zero (--scale-to-zero): per trace, operator-zero against operator (minReplicas 1) and against
 * oracle-zero-min, its waiting over the requests that met no cold start, and the cold starts apart; the target
 * (<= 1.25x oracle-zero-min and operator's waiting target) is judged on the idle traces.
 */
export function formatZeroReport(report: SuiteReport): string {
  const header = ['trace', 'kind', 'operator GPU-h', 'zero GPU-h', 'zero/op', 'op x zero-min', 'zero x zero-min', 'op %wait>5s', 'zero %wait>5s', 'op p99 s', 'zero p99 s',
    'cold', 'cold p50 s', 'cold max s', '429', '503', 'from 0', 'tail GPU-h', 'target', 'met'];
  const rows = report.traces.map((t) => {
    const op = t.operator;
    const z = t.zero;
    const v = t.zeroVerdict;
    const judged = t.targets.maxRatioToZeroMin !== undefined;
    return [
      t.trace, t.kind, fixedOr(op?.gpuHours, 2), fixedOr(z?.gpuHours, 2), op && z && op.gpuHours > 0 ? (z.gpuHours / op.gpuHours).toFixed(3) : '-',
      fixedOr(op?.ratioToZeroMinOracle, 3), fixedOr(z?.ratioToZeroMinOracle, 3), op ? pct(waitOf(op)) : '-', z ? pct(waitOf(z)) : '-',
      op ? fixedOr(op.p99WaitSeconds, 1, 'inf') : '-', z ? fixedOr(z.p99WaitSeconds, 1, 'inf') : '-',
      String(z?.coldStartRequests ?? '-'), z?.coldStartRequests ? fixedOr(z.coldStartP50WaitSeconds, 1, 'inf') : '-', z?.coldStartRequests ? fixedOr(z.coldStartMaxWaitSeconds, 1, 'inf') : '-',
      String(z?.coldRefused ?? '-'), String(z?.coldExpired ?? '-'), String(z?.coldStarts ?? '-'), fixedOr(z?.idleTailGpuHours, 2),
      judged && v ? `${v.maxRatio.toFixed(2)}x/${v.maxWaitOver5sPct}%` : '-', judged && v ? (v.met ? 'yes' : 'NO') : '-',
    ];
  });
  const judged = report.traces.filter((t) => t.targets.maxRatioToZeroMin !== undefined && t.zeroVerdict !== undefined);
  return [
    'scale to zero: operator-zero (minReplicas 0) against operator (minReplicas 1) and oracle-zero-min (its G_L); waiting of',
    'operator-zero over the requests that met no cold start; cold: requests held at the activator (p50 and max of their',
    'waits), 429: refused over maxHeldRequests, 503: held maxHoldSeconds, from 0: cold starts, tail: GPU-hours from the last',
    'completion to the step to zero; target (idle traces): <= 1.25x oracle-zero-min and operator\'s waiting target',
    '',
    formatColumns(header, rows),
    '',
    `operator-zero: targets met on ${judged.filter((t) => t.zeroVerdict?.met).length} of ${judged.length} idle traces`,
  ].join('\n');
}
