// Calibration runs of the replica model (reference/autoscaling.md §5.3): closed-loop and prefill-only throughput of
// one replica. Pure; the unit test test/unit/bench-calibration.test.ts checks them against the published anchor.
import type { ReplicaProfile } from './replica.js';
import { ReplicaEngine, RequestTable } from './replica.js';

export interface ThroughputResult {
  /** Prompt + generated tokens per second over the measured interval. */
  totalTokensPerSecond: number;
  promptTokensPerSecond: number;
  generationTokensPerSecond: number;
  completed: number;
}

/**
 * A closed loop: `concurrency` clients each send a fixed in/out request, and a new one as soon as theirs finishes
 * (polled every `pollSeconds`). Throughput is measured after `warmupSeconds`: clients that all start at once move
 * in waves that take a few minutes to mix into the steady state the anchor describes.
 */
export function computeClosedLoopThroughput(profile: ReplicaProfile, concurrency: number, input: number, output: number, seconds = 600, warmupSeconds = 200, pollSeconds = 0.005): ThroughputResult {
  const capacity = Math.ceil(concurrency * (1 + seconds / 5));
  const requests = new RequestTable(new Float64Array(capacity), new Int32Array(capacity).fill(input), new Int32Array(capacity).fill(output), Infinity);
  const engine = new ReplicaEngine(profile, requests, 0);
  let next = 0;
  const send = (t: number): void => {
    requests.arrival[next] = t;
    engine.enqueue(next++);
  };
  for (let i = 0; i < concurrency; i++) send(0);
  let done = 0;
  let mark = { prompt: 0, generation: 0, completed: 0 };
  for (let t = pollSeconds; t <= seconds + 1e-9; t += pollSeconds) {
    engine.advance(t);
    done = requests.completed;
    const inFlight = next - done;
    for (let i = inFlight; i < concurrency; i++) send(t);
    if (Math.abs(t - warmupSeconds) < pollSeconds / 2) mark = { prompt: engine.promptTokens, generation: engine.generationTokens, completed: done };
  }
  const span = seconds - warmupSeconds;
  const prompt = (engine.promptTokens - mark.prompt) / span;
  const generation = (engine.generationTokens - mark.generation) / span;
  return { totalTokensPerSecond: prompt + generation, promptTokensPerSecond: prompt, generationTokensPerSecond: generation, completed: done - mark.completed };
}

/** Prefill-only saturation: a deep queue of prompts with one output token each. */
export function computePrefillThroughput(profile: ReplicaProfile, input = 1024, seconds = 60): number {
  const n = Math.ceil(seconds * 60000 / input) + 1;
  const requests = new RequestTable(new Float64Array(n), new Int32Array(n).fill(input), new Int32Array(n).fill(1), Infinity);
  const engine = new ReplicaEngine(profile, requests, 0);
  for (let i = 0; i < n; i++) engine.enqueue(i);
  engine.advance(seconds);
  return engine.promptTokens / engine.clock;
}
