// Pure. Scale to zero's request path: a deployment with spec.autoscaling.scaleToZero gets a Service without a selector
// and one EndpointSlice of the deployment's name that the operator keeps pointing at the engine pods that are Ready,
// or, while there is none (at zero, or during a cold start), at the activator pods. Warm traffic never passes through
// the activator: as soon as one engine pod is Ready the slice lists engine pods only.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { LfmDeployment } from '../api/v1alpha1.js';
import { buildLabels, buildOwnerReference } from './children.js';

export { isScaleToZero } from './children.js';

/** The EndpointSlice label naming its Service, and the managed-by value that keeps the EndpointSlice controller off it. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const ENDPOINT_SLICE_MANAGER = 'lfm-operator.serving.lfm-operator.io';
/** The activator pods: these labels, in the operator's activator namespace; the port is their containerPort named http. */
export const ACTIVATOR_LABELS = { 'app.kubernetes.io/name': 'lfm-operator', 'app.kubernetes.io/component': 'activator' } as const;
export const ACTIVATOR_LABEL_SELECTOR = Object.entries(ACTIVATOR_LABELS).map(([k, v]) => `${k}=${v}`).join(',');
export const ACTIVATOR_PORT_NAME = 'http';

/** A pod the slice may list: its name, namespace, IP and port. */
export interface SliceEndpoint {
  name: string;
  namespace: string;
  ip: string;
  port: number;
  nodeName?: string;
}

export type SliceTarget = 'engines' | 'activator' | 'none';

/** Which pods the Service reaches now: the Ready engine pods, else the Ready activator pods, else none. */
export function chooseSliceTarget(engines: readonly SliceEndpoint[], activators: readonly SliceEndpoint[]): SliceTarget {
  if (engines.length > 0) return 'engines';
  return activators.length > 0 ? 'activator' : 'none';
}

const byIp = (a: SliceEndpoint, b: SliceEndpoint): number => a.ip.localeCompare(b.ip) || a.name.localeCompare(b.name);

/**
 * The EndpointSlice of a scale-to-zero deployment. An endpoint slice has one port list for all its endpoints, so the
 * engines' port or the activator's; endpoints of one address family (IPv4; the IPv6 pods of a dual-stack cluster are
 * left to a later slice).
 */
export function renderEndpointSlice(lfmd: LfmDeployment, engines: readonly SliceEndpoint[], activators: readonly SliceEndpoint[]): { slice: V1EndpointSlice; target: SliceTarget } {
  const target = chooseSliceTarget(engines, activators);
  const listed = (target === 'engines' ? engines : target === 'activator' ? activators : []).filter((e) => !e.ip.includes(':'));
  const sorted = [...listed].sort(byIp);
  const port = sorted[0]?.port;
  const slice: V1EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: lfmd.metadata.name,
      namespace: lfmd.metadata.namespace,
      labels: { ...buildLabels(lfmd), [LABEL_SERVICE_NAME]: lfmd.metadata.name, [LABEL_MANAGED_BY]: ENDPOINT_SLICE_MANAGER },
      annotations: { 'serving.lfm-operator.io/endpoints': target },
      ownerReferences: buildOwnerReference(lfmd),
    },
    addressType: 'IPv4',
    ports: port === undefined ? [] : [{ name: 'http', port, protocol: 'TCP', appProtocol: 'http' }],
    endpoints: sorted.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', name: e.name, namespace: e.namespace },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
    })),
  };
  return { slice, target };
}
