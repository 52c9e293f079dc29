// The iteration-level replica model of reference/autoscaling.md §5.3 (vLLM V1 chunked prefill), simulated in
// macro-steps: between events the running set is constant, so whole runs of identical steps are taken at once.
// Pure simulation state; no I/O, no clock, no randomness.
//
//   step time  = tau0 + kDecode x nDecode + p x prefillTokensInStep          (seconds; all three / capacity multiplier)
//   each step  admits waiting requests FCFS while running < M; prefill takes up to B - nDecode tokens, FCFS;
//              every decoding sequence emits one token; a request whose prefill completes emits its first token at
//              the end of that step (its TTFT) and finishes after `out` tokens in all
//   LFM2-24B-A2B on one H100 (§3.3): p = 2.07e-5 s/token, tau0 = 6 ms, tau0 + 1,024 kDecode = 72.2 ms, M = 1,024,
//   B = 8,192; the per-token costs at full batch are p and d = kDecode + tau0 / 1,024 = 7.05e-5 s/token.

export interface ReplicaProfile {
  /** M: most running sequences. */
  maxRunning: number;
  /** B: most tokens per step (prefill chunk + one per decoding sequence). */
  maxBatchedTokens: number;
  /** p: seconds per prefill token. */
  prefillSecondsPerToken: number;
  /** tau0: fixed seconds per step. */
  stepSeconds: number;
  /** kDecode: seconds per decoding sequence per step. */
  decodeSecondsPerSequence: number;
}

export const LFM2_24B_H100: ReplicaProfile = {
  maxRunning: 1024,
  maxBatchedTokens: 8192,
  prefillSecondsPerToken: 2.07e-5,
  stepSeconds: 0.006,
  decodeSecondsPerSequence: (0.0722 - 0.006) / 1024,
};

/** The profile with every time divided by the capacity multiplier X (X = 1.3: 30% faster). */
export function buildScaledProfile(profile: ReplicaProfile, capacityMultiplier: number): ReplicaProfile {
  return {
    ...profile,
    prefillSecondsPerToken: profile.prefillSecondsPerToken / capacityMultiplier,
    stepSeconds: profile.stepSeconds / capacityMultiplier,
    decodeSecondsPerSequence: profile.decodeSecondsPerSequence / capacityMultiplier,
  };
}

/** Replica-seconds of work of one request at full batch: w = p x in + d x out (§4.2). */
export function computeRequestWork(profile: ReplicaProfile, input: number, output: number): number {
  const d = profile.decodeSecondsPerSequence + profile.stepSeconds / profile.maxRunning;
  return profile.prefillSecondsPerToken * input + d * output;
}

/** Request states in RequestTable.state. Refused: prompt + output above the engine's max_model_len (HTTP 400). */
export const RequestState = { Arriving: 0, Queued: 1, Running: 2, Done: 3, Killed: 4, Dropped: 5, Refused: 6 } as const;

/** Per-request state shared by all replicas of one run (typed arrays: a run replays up to millions of requests). */
export class RequestTable {
  readonly arrival: Float64Array;
  readonly input: Int32Array;
  readonly output: Int32Array;
  readonly remainingPrefill: Int32Array;
  readonly admitted: Float64Array;
  readonly firstToken: Float64Array;
  readonly finished: Float64Array;
  readonly state: Uint8Array;
  /** Prompt and output tokens of requests that completed (the work-conservation invariant). */
  servedTokens = 0;
  /** Requests that completed. */
  completed = 0;
  constructor(arrival: Float64Array, input: Int32Array, output: Int32Array, readonly clientTimeoutSeconds: number) {
    this.arrival = arrival;
    this.input = input;
    this.output = output;
    const n = arrival.length;
    this.remainingPrefill = Int32Array.from(input);
    this.admitted = new Float64Array(n).fill(NaN);
    this.firstToken = new Float64Array(n).fill(NaN);
    this.finished = new Float64Array(n).fill(NaN);
    this.state = new Uint8Array(n);
  }
}

/** A FIFO of request ids: O(1) push and shift (replica queues and the simulator's gateway queue). */
export class IdQueue {
  private items: number[] = [];
  private head = 0;
  get size(): number { return this.items.length - this.head; }
  push(id: number): void { this.items.push(id); }
  peek(): number { return this.items[this.head] ?? -1; }
  shift(): number {
    const id = this.items[this.head++] ?? -1;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return id;
  }
  drain(): number[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

/** A binary min-heap of (finish step, request id). */
class StepHeap {
  private keys: number[] = [];
  private ids: number[] = [];
  get size(): number { return this.keys.length; }
  get minKey(): number { return this.keys[0] ?? Infinity; }
  push(key: number, id: number): void {
    const keys = this.keys;
    const ids = this.ids;
    let i = keys.length;
    keys.push(key);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent] ?? 0;
      if (pk <= key) break;
      keys[i] = pk;
      ids[i] = ids[parent] ?? 0;
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
  }
  pop(): number {
    const keys = this.keys;
    const ids = this.ids;
    const top = ids[0] ?? -1;
    const lastKey = keys.pop() ?? 0;
    const lastId = ids.pop() ?? 0;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (keys[r] ?? 0) < (keys[l] ?? 0) ? r : l;
        if ((keys[c] ?? 0) >= lastKey) break;
        keys[i] = keys[c] ?? 0;
        ids[i] = ids[c] ?? 0;
        i = c;
      }
      keys[i] = lastKey;
      ids[i] = lastId;
    }
    return top;
  }
  drain(): number[] {
    const out = this.ids;
    this.keys = [];
    this.ids = [];
    return out;
  }
}

/** One engine replica. Its time moves only through advance(); arrivals must be added in time order. */
export class ReplicaEngine {
  /** When the next step may start (the end of the last step, or the idle time reached). */
  clock: number;
  private stepIndex = 0;
  private readonly waiting = new IdQueue();
  private readonly prefilling = new IdQueue();
  private readonly decoding = new StepHeap();
  private runningCount = 0;
  promptTokens = 0;
  generationTokens = 0;
  /** Requests this replica completed (vllm:request_success_total). */
  finishedRequests = 0;
  /** Seconds its completed requests spent running (vllm:request_inference_time_seconds_sum). */
  runningSeconds = 0;
  /** Requests finishing after this time are killed (the end of a terminating pod's drain). */
  killAt = Infinity;
  /** End of the last step that did work. */
  lastBusy: number;
  private readonly completedScratch: number[] = [];

  constructor(private readonly profile: ReplicaProfile, private readonly requests: RequestTable, start: number) {
    this.clock = start;
    this.lastBusy = start;
  }

  get running(): number { return this.runningCount; }
  get queued(): number { return this.waiting.size; }
  get outstanding(): number { return this.runningCount + this.waiting.size; }
  get idle(): boolean { return this.runningCount === 0 && this.waiting.size === 0; }

  /** Queues a request that arrives at `time` (advance(time) first). */
  enqueue(id: number): void {
    this.requests.state[id] = RequestState.Queued;
    this.waiting.push(id);
  }

  private finish(id: number, time: number): void {
    const rq = this.requests;
    this.runningCount--;
    if (time > this.killAt) {
      rq.state[id] = RequestState.Killed;
      return;
    }
    rq.finished[id] = time;
    rq.state[id] = RequestState.Done;
    this.finishedRequests++;
    this.runningSeconds += time - (rq.admitted[id] ?? time);
    rq.servedTokens += (rq.input[id] ?? 0) + (rq.output[id] ?? 0);
    rq.completed++;
  }

  private admit(): void {
    const rq = this.requests;
    const m = this.profile.maxRunning;
    while (this.runningCount < m && this.waiting.size > 0) {
      const id = this.waiting.shift();
      if (this.clock - (rq.arrival[id] ?? 0) > rq.clientTimeoutSeconds) {
        rq.state[id] = RequestState.Dropped;
        continue;
      }
      rq.admitted[id] = this.clock;
      rq.state[id] = RequestState.Running;
      this.runningCount++;
      this.prefilling.push(id);
    }
  }

  /** Runs every step that starts before `until`; an idle replica's clock jumps to `until`. */
  advance(until: number): void {
    const rq = this.requests;
    const { stepSeconds, decodeSecondsPerSequence, prefillSecondsPerToken, maxBatchedTokens } = this.profile;
    for (;;) {
      if (this.clock >= until) return;
      if (this.waiting.size > 0) this.admit();
      if (this.runningCount === 0) {
        this.clock = until;
        return;
      }
      const nDecode = this.decoding.size;
      const budget = Math.max(1, maxBatchedTokens - nDecode);
      const hasPrefill = this.prefilling.size > 0;
      let uniform = Infinity;
      if (hasPrefill) {
        const rem = rq.remainingPrefill[this.prefilling.peek()] ?? 0;
        uniform = rem > budget ? Math.ceil(rem / budget) - 1 : 0;
      }
      if (nDecode > 0) uniform = Math.min(uniform, this.decoding.minKey - (this.stepIndex + 1));
      if (uniform >= 1) {
        const stepTime = stepSeconds + decodeSecondsPerSequence * nDecode + (hasPrefill ? prefillSecondsPerToken * budget : 0);
        const k = Math.min(uniform, Math.ceil((until - this.clock) / stepTime));
        this.clock += k * stepTime;
        this.stepIndex += k;
        if (hasPrefill) {
          const head = this.prefilling.peek();
          rq.remainingPrefill[head] = (rq.remainingPrefill[head] ?? 0) - k * budget;
        }
        this.generationTokens += k * nDecode;
        this.lastBusy = this.clock;
        continue;
      }
      // One step with an event: prefills complete, or decoders finish.
      let left = budget;
      let used = 0;
      const completed = this.completedScratch;
      completed.length = 0;
      while (left > 0 && this.prefilling.size > 0) {
        const id = this.prefilling.peek();
        const rem = rq.remainingPrefill[id] ?? 0;
        const take = Math.min(rem, left);
        rq.remainingPrefill[id] = rem - take;
        left -= take;
        used += take;
        if (rem - take === 0) {
          this.prefilling.shift();
          completed.push(id);
        }
      }
      this.clock += stepSeconds + decodeSecondsPerSequence * nDecode + prefillSecondsPerToken * used;
      this.stepIndex += 1;
      this.lastBusy = this.clock;
      this.generationTokens += nDecode;
      while (this.decoding.size > 0 && this.decoding.minKey <= this.stepIndex) this.finish(this.decoding.pop(), this.clock);
      for (const id of completed) {
        rq.firstToken[id] = this.clock;
        this.promptTokens += rq.input[id] ?? 0;
        this.generationTokens += 1;
        const out = rq.output[id] ?? 1;
        if (out <= 1) this.finish(id, this.clock);
        else this.decoding.push(this.stepIndex + out - 1, id);
      }
    }
  }

  /** Ends the replica: everything still queued or running is killed; returns how many. */
  killRemaining(): number {
    const rq = this.requests;
    const ids = [...this.waiting.drain(), ...this.prefilling.drain(), ...this.decoding.drain()];
    for (const id of ids) rq.state[id] = RequestState.Killed;
    this.runningCount = 0;
    return ids.length;
  }

  /** Takes back requests still waiting (not admitted), for re-dispatch. */
  takeWaiting(): number[] {
    return this.waiting.drain();
  }
}
