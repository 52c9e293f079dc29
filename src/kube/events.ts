// Records Kubernetes Events on an object (core/v1), for what a user must see in `kubectl describe`. Messages never
// carry secret values: callers pass plan figures and object names only.
import { RESOURCES, type KubeClient, type KubeObject } from './client.js';

export type EventType = 'Normal' | 'Warning';

export async function recordEvent(client: KubeClient, obj: KubeObject, type: EventType, reason: string, message: string, source: { component: string; instance: string }): Promise<void> {
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
  private readonly pending: { obj: KubeObject; type: EventType; reason: string; message: string }[] = [];
  private sending = false;
  dropped = 0;

  constructor(private readonly client: KubeClient, private readonly source: { component: string; instance: string }, private readonly onError: (err: Error) => void = () => undefined, private readonly capacity = 1000) {}

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
        await recordEvent(this.client, e.obj, e.type, e.reason, e.message, this.source);
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
