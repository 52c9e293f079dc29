// Records Kubernetes Events on an object (core/v1), for what a user must see in `kubectl describe`. Messages never
// carry secret values: callers pass plan figures and object names only.
import { RESOURCES, type KubeClient, type KubeObject } from './client.js';

export type EventType = 'Normal' | 'Warning';

/** Who reports an Event: the component (lfm-operator, lfm-autoscaler) and this process's identity. */
export interface EventSource {
  component: string;
  instance: string;
}

/** One Event about an object, as a caller records it. */
export interface ObjectEvent {
  obj: KubeObject;
  type: EventType;
  reason: string;
  message: string;
}

export interface RecordEventOptions extends ObjectEvent {
  client: KubeClient;
  source: EventSource;
}

export async function recordEvent({ client, obj, type, reason, message, source }: RecordEventOptions): Promise<void> {
  const now = new Date();
  const name = `${obj.metadata?.name ?? 'unknown'}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
  await client.create(RESOURCES.event, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: obj.metadata?.namespace ?? 'default' },
    involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata?.name, namespace: obj.metadata?.namespace, uid: obj.metadata?.uid, resourceVersion: obj.metadata?.resourceVersion },
    reason,
    message: message.slice(0, 1024),
    type,
    source: { component: source.component },
    reportingComponent: source.component,
    reportingInstance: source.instance,
    firstTimestamp: now.toISOString(),
    lastTimestamp: now.toISOString(),
    count: 1,
  });
}

/**
 * Records Events off the reconcile path, as client-go's broadcaster does: record() returns at once, one sender
 * writes them in order, and a burst beyond `capacity` drops the oldest (an Event is advice, never state).
 */
export class EventRecorder {
  private readonly pending: ObjectEvent[] = [];
  private sending = false;
  dropped = 0;

  constructor(private readonly client: KubeClient, private readonly source: EventSource, private readonly onError: (err: Error) => void = () => undefined, private readonly capacity = 1000) {}

  record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    this.pending.push({ obj, type, reason, message });
    while (this.pending.length > this.capacity) {
      this.pending.shift();
      this.dropped++;
    }
    if (!this.sending) void this.drain();
  }

  private async drain(): Promise<void> {
    this.sending = true;
    for (let e = this.pending.shift(); e; e = this.pending.shift()) {
      try {
        await recordEvent({ ...e, client: this.client, source: this.source });
      } catch (err) {
        this.onError(err as Error);
      }
    }
    this.sending = false;
  }

  /** Resolves once every recorded Event has been sent (or failed). */
  async flush(): Promise<void> {
    while (this.sending || this.pending.length > 0) await new Promise((r) => setTimeout(r, 20));
  }
}
