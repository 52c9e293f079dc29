// Baseline policies implemented from their published rules (reference/autoscaling.md §1 and §5.8), behind the same
// ScalingPolicy interface as the operator: hpa, keda, kubeai, the KPA variants (kpa, kpa300, aibrix), dynamo, static,
// and the reference family rule. They see only what the scrape view and the pod list show. Also the labels and the
// geometric ladders of the sweeps (scenario.ts BASELINE_GRIDS). Pure.
import type { PodSample } from '../../src/autoscaler/decide.js';
import type { ScalingChoice, ScalingPolicy, ScalingView } from '../../src/autoscaler/policy.js';

/** Knobs shared by the baselines' Kubernetes side. */
export interface BaselineBounds {
  minReplicas: number;
  maxReplicas: number;
}

const HPA_TOLERANCE = 0.1;
const HPA_SYNC_SECONDS = 15;
const HPA_DOWNSCALE_STABILIZATION_SECONDS = 300;

/**
 * The HPA's behavior step (kubernetes/website horizontal-pod-autoscale.md, "Default behavior"): scale-down to the
 * highest recommendation of the last 300 s; scale-up at most max(2 x current, current + 4) per 15 s; min/max.
 */
class HpaBehavior {
  private recommendations: { time: number; replicas: number }[] = [];
  constructor(private readonly bounds: BaselineBounds) {}
  normalize(now: number, current: number, recommendation: number): number {
    // The HPA has been running before the benchmark starts: its window already holds the current count.
    if (this.recommendations.length === 0) this.recommendations.push({ time: now, replicas: current });
    this.recommendations = this.recommendations.filter((r) => r.time > now - HPA_DOWNSCALE_STABILIZATION_SECONDS * 1000);
    this.recommendations.push({ time: now, replicas: recommendation });
    let desired = current;
    if (recommendation > current) desired = recommendation;
    const downMax = Math.max(...this.recommendations.map((r) => r.replicas));
    if (downMax < current) desired = downMax;
    const upLimit = Math.max(2 * current, current + 4);
    desired = Math.min(desired, upLimit);
    return Math.min(this.bounds.maxReplicas, Math.max(this.bounds.minReplicas, desired));
  }
}

function samplesByPod(view: ScalingView): Map<string, PodSample> {
  return new Map(view.samples.map((s) => [s.pod, s]));
}

/**
 * hpa@x: a Pods metric, avg(vllm:num_requests_running) per pod, target x·M (replica_calculator.go rules): Pending pods
 * are ignored; Running pods without metrics (loading) count as 0 on scale-up and as the target on scale-down; within
 * the 10% tolerance or when filling in flips the direction, nothing changes.
 */
export function buildHpaPolicy(targetRunningPerPod: number, bounds: BaselineBounds, name: string): ScalingPolicy {
  const behavior = new HpaBehavior(bounds);
  return {
    name,
    periodSeconds: HPA_SYNC_SECONDS,
    scrapeIntervalSeconds: 15,
    decide(view: ScalingView): ScalingChoice {
      const current = view.currentReplicas;
      const bySample = samplesByPod(view);
      const values: number[] = [];
      let missing = 0;
      for (const pod of view.pods) {
        if (pod.phase === 'Terminating' || pod.phase === 'Pending') continue;
        const s = bySample.get(pod.name);
        if (s) values.push(s.running);
        else missing++;
      }
      if (values.length === 0) return { desiredReplicas: behavior.normalize(view.now, current, current) };
      const ratio = values.reduce((a, b) => a + b, 0) / values.length / targetRunningPerPod;
      let recommendation: number;
      if (missing === 0) {
        recommendation = Math.abs(ratio - 1) <= HPA_TOLERANCE ? current : Math.ceil(ratio * values.length);
      } else {
        const fill = ratio < 1 ? targetRunningPerPod : 0;
        const newRatio = (values.reduce((a, b) => a + b, 0) + fill * missing) / (values.length + missing) / targetRunningPerPod;
        if (Math.abs(newRatio - 1) <= HPA_TOLERANCE || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) recommendation = current;
        else {
          recommendation = Math.ceil(newRatio * (values.length + missing));
          if ((newRatio < 1 && recommendation > current) || (newRatio > 1 && recommendation < current)) recommendation = current;
        }
      }
      return { desiredReplicas: behavior.normalize(view.now, current, recommendation) };
    },
  };
}

/**
 * keda@θ: a Prometheus trigger sum(vllm:num_requests_waiting) with threshold θ, AverageValue: KEDA's HPA computes
 * ceil(sum / θ) unless |sum / (θ x current) - 1| <= 0.1; polling 15 s; HPA default behavior; minReplicaCount 1 (the
 * vLLM production-stack recommendation), so activation and cooldownPeriod (0 <-> 1 only) never apply.
 */
export function buildKedaPolicy(threshold: number, bounds: BaselineBounds, name: string): ScalingPolicy {
  const behavior = new HpaBehavior(bounds);
  return {
    name,
    periodSeconds: HPA_SYNC_SECONDS,
    scrapeIntervalSeconds: 15,
    decide(view: ScalingView): ScalingChoice {
      const current = view.currentReplicas;
      const total = view.samples.reduce((a, s) => a + s.waiting, 0);
      const ratio = total / (threshold * Math.max(1, current));
      const recommendation = Math.abs(1 - ratio) > HPA_TOLERANCE ? Math.ceil(total / threshold) : current;
      return { desiredReplicas: behavior.normalize(view.now, current, recommendation) };
    },
  };
}

/**
 * kubeai@target (substratusai/kubeai internal/modelautoscaler): every 10 s, a simple moving average over 10 min of
 * the active requests (running + waiting over the pods, plus those a gateway holds); desired = ceil(avg / target); a
 * decrease is applied only after 3 consecutive lower results (scaleDownDelaySeconds 30 / interval 10). The window
 * starts filled with the first observation (KubeAI restores its averages from a ConfigMap).
 */
export function buildKubeAiPolicy(targetPerPod: number, bounds: BaselineBounds, name: string): ScalingPolicy {
  const windowSize = 60;
  let window: number[] | undefined;
  let sum = 0;
  let index = 0;
  let consecutiveDown = 0;
  return {
    name,
    periodSeconds: 10,
    scrapeIntervalSeconds: 10,
    decide(view: ScalingView): ScalingChoice {
      // KubeAI counts the requests in flight through its own proxy: with a gateway, those it holds too.
      const active = (view.gatewayWaiting ?? 0) + view.samples.reduce((a, s) => a + s.running + s.waiting, 0);
      if (!window) {
        window = new Array<number>(windowSize).fill(active);
        sum = active * windowSize;
      }
      sum += active - (window[index] ?? 0);
      window[index] = active;
      index = (index + 1) % windowSize;
      const desired = Math.min(bounds.maxReplicas, Math.max(bounds.minReplicas, Math.ceil(sum / windowSize / targetPerPod)));
      const current = view.currentReplicas;
      if (desired < current) {
        consecutiveDown++;
        if (consecutiveDown < 3) return { desiredReplicas: current };
      } else {
        consecutiveDown = 0;
      }
      return { desiredReplicas: desired };
    },
  };
}


/** The knobs in which Knative's KPA, its 300-s scale-down-delay variant and AIBrix's port differ. */
export interface KpaOptions {
  /** Max of the desired counts over this many seconds before a decrease (Knative scale-down-delay, AIBrix cooldown). */
  scaleDownDelaySeconds: number;
  /** Desired counts are clamped to [floor(ready / down), max(1, ceil(up x ready))]. */
  maxScaleUpRate: number;
  maxScaleDownRate: number;
  /** Panic starts when the panic-window desired count is at least this many times the Ready pods. */
  panicThreshold: number;
  /** How often the autoscaler samples concurrency and decides, in seconds. */
  periodSeconds: number;
  /**
   * Whether requests held in front of the engines (ScalingView.gatewayWaiting, with gateway routing) count as
   * concurrency: Knative's activator and queue-proxy see them; AIBrix reads the engines' own metrics.
   */
  countGatewayWaiting: boolean;
}

/** Knative's config-autoscaler defaults (reference §1.3): rates 1000 up and 2 down, panic at 200%, no delay, 2-s ticks. */
export const KNATIVE_KPA: KpaOptions = { scaleDownDelaySeconds: 0, maxScaleUpRate: 1000, maxScaleDownRate: 2, panicThreshold: 2, periodSeconds: 2, countGatewayWaiting: true };

/**
 * AIBrix's PodAutoscaler defaults for KPA (reference §1.4, context.NewBaseScalingContext): MaxScaleUpRate 2,
 * MaxScaleDownRate 2, ScaleDownCooldownWindow 300 s, PanicThreshold 2; the controller resyncs every 10 s. The
 * cooldown is taken as its documented purpose ("prevents rapid scale-downs"): a decrease goes only to the highest
 * recommendation of the last 300 s, like the HPA's stabilization window.
 */
export const AIBRIX_KPA: KpaOptions = { scaleDownDelaySeconds: 300, maxScaleUpRate: 2, maxScaleDownRate: 2, panicThreshold: 2, periodSeconds: 10, countGatewayWaiting: false };

/**
 * kpa@x, kpa300@x, aibrix@x (knative/serving pkg/autoscaler/scaling/autoscaler.go; AIBrix's port): concurrency
 * (running + waiting, plus the gateway's held requests for Knative) per pod, target x·M; stable window 60 s and panic window 6 s over the autoscaler's samples; dspc
 * and dppc clamped to [floor(ready / down), max(1, ceil(up x ready))]; panic when dppc / ready >= the threshold, in
 * panic never scale down, leave it after a stable window without crossing; then the scale-down delay (the max of the
 * desired counts over the delay).
 */
export function buildKpaPolicy(targetPerPod: number, bounds: BaselineBounds, name: string, options: Partial<KpaOptions> = {}): ScalingPolicy {
  const o: KpaOptions = { ...KNATIVE_KPA, ...options };
  const stableMs = 60_000;
  const panicMs = 6_000;
  const history: { time: number; total: number }[] = [];
  const desiredHistory: { time: number; replicas: number }[] = [];
  let panicSince: number | undefined;
  let maxPanicPods = 0;
  const average = (now: number, span: number): number => {
    let sum = 0;
    let count = 0;
    for (let i = history.length - 1; i >= 0; i--) {
      const h = history[i];
      if (!h || h.time <= now - span) break;
      sum += h.total;
      count++;
    }
    return count > 0 ? sum / count : 0;
  };
  return {
    name,
    periodSeconds: o.periodSeconds,
    scrapeIntervalSeconds: o.periodSeconds,
    decide(view: ScalingView): ScalingChoice {
      const now = view.now;
      const held = o.countGatewayWaiting ? (view.gatewayWaiting ?? 0) : 0;
      history.push({ time: now, total: held + view.samples.reduce((a, s) => a + s.running + s.waiting, 0) });
      while (history.length > 0 && (history[0]?.time ?? 0) <= now - stableMs) history.shift();
      const ready = Math.max(1, view.pods.filter((p) => p.phase === 'Ready').length);
      const maxUp = Math.max(1, Math.ceil(o.maxScaleUpRate * ready));
      const maxDown = Math.floor(ready / o.maxScaleDownRate);
      const clampRate = (x: number): number => Math.min(maxUp, Math.max(maxDown, x));
      const dspc = clampRate(Math.ceil(average(now, stableMs) / targetPerPod));
      const dppc = clampRate(Math.ceil(average(now, panicMs) / targetPerPod));
      const overPanic = dppc / ready >= o.panicThreshold;
      if (overPanic) panicSince = now;
      else if (panicSince !== undefined && now > panicSince + stableMs) {
        panicSince = undefined;
        maxPanicPods = 0;
      }
      let desired = dspc;
      if (panicSince !== undefined) {
        maxPanicPods = Math.max(maxPanicPods, dspc, dppc);
        desired = maxPanicPods;
      }
      if (o.scaleDownDelaySeconds > 0) {
        desiredHistory.push({ time: now, replicas: desired });
        while (desiredHistory.length > 0 && (desiredHistory[0]?.time ?? 0) <= now - o.scaleDownDelaySeconds * 1000) desiredHistory.shift();
        desired = Math.max(...desiredHistory.map((d) => d.replicas));
      }
      return { desiredReplicas: Math.min(bounds.maxReplicas, Math.max(bounds.minReplicas, desired)) };
    },
  };
}

/** static@peak: a fixed replica count for the whole run (§5.8 item 1: the oracle's largest per-minute R*). */
export function buildStaticPolicy(replicas: number, name: string): ScalingPolicy {
  return {
    name,
    periodSeconds: 60,
    scrapeIntervalSeconds: 60,
    decide: (): ScalingChoice => ({ desiredReplicas: replicas }),
  };
}

/** What the Dynamo-style planner knows from its pre-deployment profile: seconds per prompt and per output token at full batch. */
export interface TokenCosts {
  /** p: replica-seconds per prompt token. */
  prefillSecondsPerToken: number;
  /** d: replica-seconds per generated token at full batch. */
  decodeSecondsPerToken: number;
}

export const DYNAMO_ADJUSTMENT_SECONDS = 180;
const DYNAMO_SCRAPE_SECONDS = 10;

/**
 * dynamo@rho (reference §1.6 and §5.8 item 6, the aggregated form of the SLA planner): every 180 s, a constant
 * predictor (the next interval = the last one) of the request count, the mean input length and the mean output
 * length, read from what the scrape view shows over the interval (finished requests per second, prompt and
 * generation tokens per second, summed over the Ready pods and averaged over the 10-s samples of the interval);
 * R = ceil(num_req x (p x isl + d x osl) / interval / rho), within [min, max]. The first decision uses the scrape
 * view's own rate window (the planner was running before); between adjustments the count is held.
 */
export function buildDynamoPolicy(utilization: number, costs: TokenCosts, bounds: BaselineBounds, name: string, intervalSeconds = DYNAMO_ADJUSTMENT_SECONDS): ScalingPolicy {
  let desired: number | undefined;
  let nextAdjustment = 0;
  let samples = 0;
  let requests = 0;
  let prompt = 0;
  let generation = 0;
  const plan = (requestsPerSecond: number, promptPerSecond: number, generationPerSecond: number): number => {
    const numReq = requestsPerSecond * intervalSeconds;
    if (numReq <= 0) return bounds.minReplicas;
    const isl = (promptPerSecond * intervalSeconds) / numReq;
    const osl = (generationPerSecond * intervalSeconds) / numReq;
    const replicas = Math.ceil((numReq * (costs.prefillSecondsPerToken * isl + costs.decodeSecondsPerToken * osl)) / intervalSeconds / utilization - 1e-9);
    return Math.min(bounds.maxReplicas, Math.max(bounds.minReplicas, replicas));
  };
  return {
    name,
    periodSeconds: DYNAMO_SCRAPE_SECONDS,
    scrapeIntervalSeconds: DYNAMO_SCRAPE_SECONDS,
    decide(view: ScalingView): ScalingChoice {
      let r = 0;
      let p = 0;
      let g = 0;
      for (const s of view.samples) {
        r += s.requestsPerSecond ?? 0;
        p += s.promptTokensPerSecond ?? 0;
        g += s.generationTokensPerSecond ?? 0;
      }
      if (desired === undefined) {
        desired = plan(r, p, g);
        nextAdjustment = view.now + intervalSeconds * 1000;
        return { desiredReplicas: desired };
      }
      samples++;
      requests += r;
      prompt += p;
      generation += g;
      if (view.now + 1e-3 >= nextAdjustment) {
        desired = plan(requests / samples, prompt / samples, generation / samples);
        nextAdjustment += intervalSeconds * 1000;
        samples = 0;
        requests = 0;
        prompt = 0;
        generation = 0;
      }
      return { desiredReplicas: desired };
    },
  };
}

/** The throughput of one replica at utilization 1, in the units of the operator's targets (tokens per second). */
export interface ReplicaAnchors {
  promptTokensPerSecond: number;
  generationTokensPerSecond: number;
}

/** The rule family turns waiting requests into the replicas that would serve their work within this many seconds. */
export const RULE_BACKLOG_SECONDS = 60;
const RULE_PERIOD_SECONDS = 15;

/**
 * rule@H/h, a reference family of simple online rules (not a published autoscaler): every 15 s, measured load
 * U = Σ prompt tok/s / P + Σ gen tok/s / G over the Ready pods (P, G: one replica at utilization 1), plus the waiting
 * requests (the engines' and the gateway's) as replicas (Σ waiting x w / 60 s, w = U / finished requests per second, the last value seen);
 * recommendation = ceil((U + backlog) x (1 + h)); scale up at once, scale down to the highest recommendation of the
 * last H seconds.
 */
export function buildRulePolicy(holdSeconds: number, headroom: number, anchors: ReplicaAnchors, bounds: BaselineBounds, name: string): ScalingPolicy {
  const recommendations: { time: number; replicas: number }[] = [];
  let workPerRequest: number | undefined;
  return {
    name,
    periodSeconds: RULE_PERIOD_SECONDS,
    scrapeIntervalSeconds: RULE_PERIOD_SECONDS,
    decide(view: ScalingView): ScalingChoice {
      const current = view.currentReplicas;
      let load = 0;
      let finished = 0;
      let waiting = 0;
      for (const s of view.samples) {
        load += (s.promptTokensPerSecond ?? 0) / anchors.promptTokensPerSecond + (s.generationTokensPerSecond ?? 0) / anchors.generationTokensPerSecond;
        finished += s.requestsPerSecond ?? 0;
        waiting += s.waiting;
      }
      waiting += view.gatewayWaiting ?? 0;
      if (finished > 0 && load > 0) workPerRequest = load / finished;
      const backlog = workPerRequest === undefined ? 0 : (waiting * workPerRequest) / RULE_BACKLOG_SECONDS;
      const recommendation = Math.min(bounds.maxReplicas, Math.max(bounds.minReplicas, Math.ceil((load + backlog) * (1 + headroom) - 1e-9)));
      // The rule has been running before the benchmark starts: its window already holds the current count.
      if (recommendations.length === 0) recommendations.push({ time: view.now, replicas: current });
      recommendations.push({ time: view.now, replicas: recommendation });
      while (recommendations.length > 0 && (recommendations[0]?.time ?? 0) <= view.now - holdSeconds * 1000) recommendations.shift();
      if (recommendation >= current) return { desiredReplicas: recommendation };
      return { desiredReplicas: Math.min(current, Math.max(...recommendations.map((r) => r.replicas))) };
    },
  };
}

/** The baseline families, in the order the tables list them; `rule` is the reference family. */
export const BASELINE_FAMILIES = ['static', 'dynamo', 'hpa', 'keda', 'kubeai', 'kpa', 'kpa300', 'aibrix', 'rule'] as const;
export type BaselineFamily = (typeof BASELINE_FAMILIES)[number];

/** The family of a row label (`hpa@0.125` -> hpa), or undefined for the operator and the bound rows. */
export function parseFamily(label: string): BaselineFamily | undefined {
  const at = label.indexOf('@');
  if (at < 0) return undefined;
  const family = label.slice(0, at);
  return (BASELINE_FAMILIES as readonly string[]).includes(family) ? (family as BaselineFamily) : undefined;
}

/**
 * The numeric setting of a label, for ordering and for ranges: `hpa@0.125` -> 0.125, `rule@300/0.2` -> 300.2 is not
 * meaningful, so rule labels give H x 10 + h (an order, not a value); static@peak gives 0.
 */
export function parseSetting(label: string): number {
  const value = label.slice(label.indexOf('@') + 1);
  if (value.includes('/')) {
    const [hold, headroom] = value.split('/');
    return Number(hold) * 10 + Number(headroom);
  }
  const x = Number(value);
  return Number.isFinite(x) ? x : 0;
}

/** A setting as it appears in labels: the shortest decimal of the number (0.0231, 118, 3.36). */
export function formatSetting(x: number): string {
  return String(Number(x.toPrecision(12)));
}

/** x rounded down to `digits` significant digits (exactly: integer arithmetic on the mantissa). */
export function floorSignificant(x: number, digits = 3): number {
  if (!(x > 0)) return x;
  let k = 0;
  const lo = 10 ** (digits - 1);
  const hi = 10 ** digits;
  const scaled = (e: number): number => (e >= 0 ? x * 10 ** e : x / 10 ** -e);
  while (scaled(k) < lo) k++;
  while (scaled(k) >= hi) k--;
  const m = Math.floor(scaled(k) + 1e-9);
  return k >= 0 ? m / 10 ** k : m * 10 ** -k;
}

/** The coarse anchors of one decade (ratios 1.25-1.28); the sweeps use them times powers of ten. */
export const DECADE_ANCHORS = [1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.4, 8] as const;

/** The coarse grid: the decade anchors x 10^k within [lo, hi] (both ends included when they are anchors). */
export function buildCoarseLadder(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = -4; e <= 6; e++) {
    for (const a of DECADE_ANCHORS) {
      const x = Number((e >= 0 ? a * 10 ** e : a / 10 ** -e).toPrecision(12));
      if (x >= lo - 1e-12 && x <= hi + 1e-12) out.push(x);
    }
  }
  return out;
}

/**
 * The fine grid: the coarse anchors in [lo, hi] and, between two of them, the largest value <= 1.05 x the previous
 * one (3 significant digits, or integers), so that every step is at most 5% and each value has a short, stable label.
 */
export function buildFineLadder(lo: number, hi: number, integer = false, ratio = 1.05): number[] {
  const quantize = (x: number): number => (integer ? Math.floor(x + 1e-9) : floorSignificant(x));
  const anchors = buildCoarseLadder(lo, hi);
  const out: number[] = [];
  anchors.forEach((a, i) => {
    out.push(a);
    const b = anchors[i + 1];
    if (b === undefined) return;
    let x = a;
    for (;;) {
      const next = quantize(x * ratio);
      if (next >= b || next <= x) break;
      out.push(next);
      x = next;
    }
  });
  return out;
}

/** Which sweep to run: a few settings per family (CI), the coarse geometric grid, or coarse plus 5% refinement. */
export type GridName = 'smoke' | 'coarse' | 'fine';

/** A closed range of one family's setting to sweep on the fine (5%) ladder. */
export interface SettingRange {
  family: BaselineFamily;
  lo: number;
  hi: number;
}
