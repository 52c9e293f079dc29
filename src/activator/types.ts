// The activator's seams: where its targets come from (the Kubernetes side: LfmDeployments with scaleToZero and
// their Ready pods) and where it reports how many requests it holds. The transport core (server.ts) depends on
// these interfaces only, so it is tested with loopback sockets and a static source.

/** A Ready engine pod's serving address. */
export interface Endpoint { ip: string; port: number }

/** One LfmDeployment with spec.autoscaling.scaleToZero, as the activator needs it. */
export interface Target {
  namespace: string;
  name: string;
  /** spec.autoscaling.scaleToZero.maxHeldRequests: most requests this activator replica holds for the target; one more gets 429. */
  maxHeldRequests: number;
  /** spec.autoscaling.scaleToZero.maxHoldSeconds: a held request still unserved after this gets 503. */
  maxHoldSeconds: number;
  /** Retry-After seconds for 429 and 503: the measured cold start (integer >= 1). */
  retryAfterSeconds: number;
  /** Ready engine pods (empty while scaled to zero or starting). */
  endpoints: readonly Endpoint[];
}

export interface TargetSource {
  /** The target of NAME.NAMESPACE, or undefined when no LfmDeployment of that name has scaleToZero (→ 404). */
  get(namespace: string, name: string): Target | undefined;
  /** Called when a target's endpoints or settings may have changed; returns an unsubscribe function. */
  onChange(listener: (namespace: string, name: string) => void): () => void;
  /** True once the source's caches are synced (gates /readyz). */
  ready(): boolean;
}

export interface HeldCounts { held: number; refused: number; expired: number }

export interface HeldReporter {
  /** Called synchronously whenever a target's held count or the cumulative refused/expired counts (since this process started) change. Must not throw; must not block. */
  report(namespace: string, name: string, counts: HeldCounts): void;
}
