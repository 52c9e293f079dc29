// Baseline policies implemented from their published rules (reference/autoscaling.md §1 and §5.8), behind the same
// ScalingPolicy interface as the operator. They see only what the scrape view and the pod list show. Pure.
import type { PodSample, ScalingChoice, ScalingPolicy, ScalingView } from '../../src/autoscaler/policy.js';

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
 * the active requests (running + waiting over the pods); desired = ceil(avg / target); a decrease is applied only
 * after 3 consecutive lower results (scaleDownDelaySeconds 30 / interval 10). The window starts filled with the first
 * observation (KubeAI restores its averages from a ConfigMap).
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
      const active = view.samples.reduce((a, s) => a + s.running + s.waiting, 0);
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

/**
 * kpa@x (knative/serving pkg/autoscaler/scaling/autoscaler.go; AIBrix's port): concurrency (running + waiting) per
 * pod, target x·M; stable window 60 s, panic window 6 s, averaged over 2-s scrapes; dspc and dppc clamped to
 * [floor(ready / 2), ceil(1000 x ready)]; panic when dppc / ready >= 2, in panic never scale down, leave it after a
 * stable window without crossing; optional scale-down delay (max of the desired counts over the delay).
 */
export function buildKpaPolicy(targetPerPod: number, bounds: BaselineBounds, name: string, scaleDownDelaySeconds = 0): ScalingPolicy {
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
    periodSeconds: 2,
    scrapeIntervalSeconds: 2,
    decide(view: ScalingView): ScalingChoice {
      const now = view.now;
      history.push({ time: now, total: view.samples.reduce((a, s) => a + s.running + s.waiting, 0) });
      while (history.length > 0 && (history[0]?.time ?? 0) <= now - stableMs) history.shift();
      const ready = Math.max(1, view.pods.filter((p) => p.phase === 'Ready').length);
      const maxUp = Math.ceil(1000 * ready);
      const maxDown = Math.floor(ready / 2);
      const clampRate = (x: number): number => Math.min(maxUp, Math.max(maxDown, x));
      const dspc = clampRate(Math.ceil(average(now, stableMs) / targetPerPod));
      const dppc = clampRate(Math.ceil(average(now, panicMs) / targetPerPod));
      const overPanic = dppc / ready >= 2;
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
      if (scaleDownDelaySeconds > 0) {
        desiredHistory.push({ time: now, replicas: desired });
        while (desiredHistory.length > 0 && (desiredHistory[0]?.time ?? 0) <= now - scaleDownDelaySeconds * 1000) desiredHistory.shift();
        desired = Math.max(...desiredHistory.map((d) => d.replicas));
      }
      return { desiredReplicas: Math.min(bounds.maxReplicas, Math.max(bounds.minReplicas, desired)) };
    },
  };
}
