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
