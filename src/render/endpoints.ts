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

/** The annotations saying where the slice points: engines, activator or none, and the pods (namespace/name). */
export const ANNOTATION_ENDPOINTS = 'serving.lfm-operator.io/endpoints';
export const ANNOTATION_ENDPOINT_PODS = 'serving.lfm-operator.io/endpoint-pods';

/**
 * Whether the API server accepts the IPv4 address in an EndpointSlice: not unspecified, loopback (127.0.0.0/8),
 * link-local (169.254.0.0/16) or multicast (224.0.0.0/4), which it refuses (and no Service could route to). Real pod
 * IPs always pass; the dev control plane's loopback pod IPs do not, so there the slice names its pods only in the
 * annotations.
 */
export function isRoutableEndpointAddress(ip: string): boolean {
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return false;
  const [a = 0, b = 0] = octets;
  return !(octets.every((o) => o === 0) || a === 127 || (a === 169 && b === 254) || (a >= 224 && a <= 239));
}

/**
 * The EndpointSlice of a scale-to-zero deployment. An endpoint slice has one port list for all its endpoints, so the
 * engines' port or the activator's; endpoints of one address family (IPv4; the IPv6 pods of a dual-stack cluster are
 * left to a later slice).
 */
export function renderEndpointSlice(lfmd: LfmDeployment, engines: readonly SliceEndpoint[], activators: readonly SliceEndpoint[]): { slice: V1EndpointSlice; target: SliceTarget } {
  const target = chooseSliceTarget(engines, activators);
  const chosen = [...(target === 'engines' ? engines : target === 'activator' ? activators : [])].filter((e) => !e.ip.includes(':')).sort(byIp);
  const sorted = chosen.filter((e) => isRoutableEndpointAddress(e.ip));
  const port = chosen[0]?.port;
  const slice: V1EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: lfmd.metadata.name,
      namespace: lfmd.metadata.namespace,
      labels: { ...buildLabels(lfmd), [LABEL_SERVICE_NAME]: lfmd.metadata.name, [LABEL_MANAGED_BY]: ENDPOINT_SLICE_MANAGER },
      annotations: { [ANNOTATION_ENDPOINTS]: target, [ANNOTATION_ENDPOINT_PODS]: chosen.map((e) => `${e.namespace}/${e.name}`).join(',') },
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
