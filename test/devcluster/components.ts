// Pure. The command lines of the dev control plane's components (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok) and the API server's audit policy. Everything listens on 127.0.0.1 only.
import { stringify } from 'yaml';

/** Service ClusterIPs come from here. Nothing dials them: there is no kube-proxy. */
export const SERVICE_CIDR = '10.96.0.0/16';
/** Pod IPs of fake nodes without a spec.podCIDR of their own. Loopback, so a test can serve on them. */
export const FALLBACK_POD_CIDR = '127.2.0.0/16';
/** The annotation KWOK selects the nodes it manages by. */
export const KWOK_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

export interface EtcdArgsInput { dataDir: string; clientPort: number; peerPort: number }

export function buildEtcdArgs(i: EtcdArgsInput): string[] {
  const client = `http://127.0.0.1:${i.clientPort}`;
  const peer = `http://127.0.0.1:${i.peerPort}`;
  return [
    '--name=devcluster', `--data-dir=${i.dataDir}`,
    `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=devcluster=${peer}`,
    // Throwaway data: durability buys nothing and fsync is the slowest part of etcd on a shared disk.
    '--unsafe-no-fsync=true', '--log-level=warn',
  ];
}

export interface ApiserverArgsInput {
  port: number;
  etcdUrl: string;
  certDir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
  auditPolicyFile: string;
  auditLogFile: string;
}

export function buildApiserverArgs(i: ApiserverArgsInput): string[] {
  return [
    `--etcd-servers=${i.etcdUrl}`,
    '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${i.port}`,
    `--cert-dir=${i.certDir}`, `--tls-cert-file=${i.serverCert}`, `--tls-private-key-file=${i.serverKey}`,
    `--client-ca-file=${i.caCert}`,
    `--service-account-issuer=https://127.0.0.1:${i.port}`,
    `--service-account-key-file=${i.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${i.serviceAccountPrivateKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=Node,RBAC', '--allow-privileged=true',
    // The API server refuses loopback addresses in Endpoints; with "none" it never writes the kubernetes Service's.
    '--endpoint-reconciler-type=none',
    `--audit-policy-file=${i.auditPolicyFile}`, `--audit-log-path=${i.auditLogFile}`,
    '--audit-log-format=json', '--audit-log-maxsize=200', '--audit-log-maxbackup=1',
    // What kwokctl sets for a test cluster: no queueing of requests by priority level.
    '--enable-priority-and-fairness=false',
    '--profiling=false', '--v=1',
  ];
}

export interface ComponentArgsInput { kubeconfig: string }

export function buildControllerManagerArgs(i: ComponentArgsInput & { caCert: string; serviceAccountPrivateKey: string }): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    // No serving endpoint: readiness is observed through what the controllers do.
    '--bind-address=127.0.0.1', '--secure-port=0',
    `--root-ca-file=${i.caCert}`, `--service-account-private-key-file=${i.serviceAccountPrivateKey}`,
    // Each controller acts as its own ServiceAccount (kube-system/deployment-controller...), as in kubeadm clusters,
    // so the audit log says which controller wrote what.
    '--use-service-account-credentials=true',
    '--leader-elect=false', '--cluster-name=lfm-devcluster',
    // Pod IPs are loopback addresses, which Endpoints and EndpointSlices refuse: nothing may depend on them.
    '--controllers=*,-endpoints-controller,-endpointslice-controller,-endpointslice-mirroring-controller',
    '--profiling=false', '--v=1',
  ];
}

export function buildSchedulerArgs(i: ComponentArgsInput): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    '--bind-address=127.0.0.1', '--secure-port=0',
    '--leader-elect=false', '--profiling=false', '--v=1',
  ];
}

export function buildKwokArgs(i: ComponentArgsInput & { config: string }): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`, `--config=${i.config}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION.key}=${KWOK_NODE_ANNOTATION.value}`,
    `--cidr=${FALLBACK_POD_CIDR}`,
    // The "kubelet" address of every fake node: any API server -> node call stays on loopback.
    '--node-ip=127.0.0.1',
    '--node-lease-duration-seconds=40',
  ];
}

/**
 * Metadata-level events for every write, nothing for reads. Lease renewals and the authentication and authorization
 * reviews the components make are left out: they are frequent and say nothing about who changed what.
 */
export function renderAuditPolicy(): string {
  return stringify({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      {
        level: 'None',
        resources: [
          { group: 'coordination.k8s.io', resources: ['leases'] },
          { group: 'authentication.k8s.io', resources: ['tokenreviews'] },
          { group: 'authorization.k8s.io', resources: ['subjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'localsubjectaccessreviews'] },
        ],
      },
      { level: 'Metadata', verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
      { level: 'None' },
    ],
  });
}
