// Pure (given its inputs). The operator's install as a cdk8s chart: the same objects `helm template` renders from
// charts/lfm-operator with its default values, minus Helm's own labels, plus the Namespace. Its defaults are read from
// the chart's values.yaml and its RBAC rules from config/rbac/role.yaml (the activator's from activator-role.yaml), so
// there is one source for each.
import type {
  V1Affinity, V1ClusterRole, V1ClusterRoleBinding, V1Deployment, V1EnvVar, V1Namespace, V1PodDisruptionBudget, V1Role, V1RoleBinding,
  V1Service, V1ServiceAccount,
} from '@kubernetes/client-node';
import { ApiObject, App, Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';

/** The part of charts/lfm-operator/values.yaml the plain install uses (its defaults). */
export interface InstallValues {
  replicaCount: number;
  image: { repository: string; tag: string; digest: string; pullPolicy: string };
  operator: {
    watchNamespaces: string[]; vllmImage: string; sglangImage: string; llamacppImage: string; llamacppGpuImage: string;
    autoscaler: boolean; concurrency: number; resyncSeconds: number; logLevel: string;
  };
  leaderElection: { enabled: boolean; leaseName: string };
  podSecurityContext: Record<string, unknown>;
  securityContext: Record<string, unknown>;
  resources: Record<string, unknown>;
  probes: { liveness: Record<string, unknown>; readiness: Record<string, unknown> };
  healthPort: number;
  metrics: { port: number; service: { enabled: boolean; port: number } };
  podDisruptionBudget: { enabled: boolean; minAvailable: number | string };
  nodeSelector: Record<string, string>;
  activator: {
    enabled: boolean; replicaCount: number; port: number;
    serviceAccount: { create: boolean; name: string; annotations: Record<string, string> };
    extraEnv: V1EnvVar[];
    resources: Record<string, unknown>;
    probes: { liveness: Record<string, unknown>; readiness: Record<string, unknown> };
    podDisruptionBudget: { enabled: boolean; minAvailable: number | string };
    nodeSelector: Record<string, string>;
  };
}

export interface InstallInputs {
  /** charts/lfm-operator/values.yaml, parsed. */
  values: InstallValues;
  /** Chart.yaml appVersion: the image tag and app.kubernetes.io/version. */
  appVersion: string;
  /** The CRD of crds/, parsed. */
  crd: { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: unknown };
  /** The documents of config/rbac/role.yaml, parsed. */
  rbac: (V1ClusterRole | V1Role)[];
  /** The documents of config/rbac/activator-role.yaml, parsed: the activator's ClusterRole. */
  activatorRbac: V1ClusterRole[];
}

export interface LfmOperatorInstallProps extends ChartProps, InstallInputs {
  /** Namespace of the operator. Default lfm-operator-system. */
  namespace?: string;
  /** Prefix of every object name, as a Helm release named so. Default lfm-operator. */
  name?: string;
}

export const DEFAULT_NAMESPACE = 'lfm-operator-system';

/**
 * The operator's install: Namespace, CRD, ServiceAccount, RBAC, Deployment, metrics Service, PodDisruptionBudget; and
 * the scale-to-zero activator's ServiceAccount, RBAC, Deployment and PodDisruptionBudget.
 */
export class LfmOperatorInstall extends Chart {
  constructor(scope: Construct, id: string, props: LfmOperatorInstallProps) {
    const namespace = props.namespace ?? DEFAULT_NAMESPACE;
    super(scope, id, { ...props, namespace: undefined, disableResourceNameHashes: true });
    const v = props.values;
    const name = props.name ?? 'lfm-operator';
    const selector = { 'app.kubernetes.io/name': 'lfm-operator', 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'controller' };
    const labels = { ...selector, 'app.kubernetes.io/version': props.appVersion, 'app.kubernetes.io/part-of': 'lfm-operator' };
    const add = <T extends { apiVersion?: string; kind?: string }>(id: string, obj: T) => new ApiObject(this, id, obj as T & { apiVersion: string; kind: string });

    add<V1Namespace>('namespace', {
      apiVersion: 'v1', kind: 'Namespace',
      // The operator pods meet the "restricted" Pod Security Standard; enforce it on their namespace.
      metadata: { name: namespace, labels: { ...labels, 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    add('crd', { apiVersion: props.crd.apiVersion, kind: props.crd.kind, metadata: { name: props.crd.metadata.name, labels }, spec: props.crd.spec });
    add<V1ServiceAccount>('service-account', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels } });

    const clusterRoles: string[] = [];
    const roles: string[] = [];
    for (const doc of props.rbac) {
      const roleName = name + (doc.metadata?.name ?? '').slice('lfm-operator'.length);
      if (doc.kind === 'ClusterRole') {
        clusterRoles.push(roleName);
        add<V1ClusterRole>(`cluster-role-${roleName}`, { apiVersion: doc.apiVersion, kind: 'ClusterRole', metadata: { name: roleName, labels }, rules: doc.rules });
      } else {
        roles.push(roleName);
        add<V1Role>(`role-${roleName}`, { apiVersion: doc.apiVersion, kind: 'Role', metadata: { name: roleName, namespace, labels }, rules: doc.rules });
      }
    }
    const [clusterRole] = clusterRoles;
    if (clusterRoles.length !== 1 || !clusterRole || roles.length === 0) {
      throw new Error('config/rbac/role.yaml must define one ClusterRole and at least one Role');
    }
    // The ClusterRole cluster-wide, or in each watched namespace; every Role in the operator's namespace, bound under
    // its own name (as the chart's rbac-bindings.yaml does).
    this.bindClusterRole('', clusterRole, name, namespace, v.operator.watchNamespaces, labels);
    for (const role of roles) {
      add<V1RoleBinding>(`role-binding-${role}`, {
        apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata: { name: role, namespace, labels },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: role }, subjects: [{ kind: 'ServiceAccount', name, namespace }],
      });
    }

    if (v.metrics.service.enabled) {
      add<V1Service>('metrics-service', {
        apiVersion: 'v1', kind: 'Service', metadata: { name: `${name}-metrics`, namespace, labels },
        spec: { type: 'ClusterIP', selector, ports: [{ name: 'metrics', port: v.metrics.service.port, targetPort: 'metrics', protocol: 'TCP' }] },
      });
    }
    add<V1Deployment>('deployment', renderOperatorDeployment(v, { name, namespace, labels, selector, appVersion: props.appVersion }));
    if (v.podDisruptionBudget.enabled) {
      add<V1PodDisruptionBudget>('pdb', {
        apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace, labels },
        spec: { minAvailable: v.podDisruptionBudget.minAvailable, selector: { matchLabels: selector } },
      });
    }
    if (v.activator.enabled) this.addActivator(props, name, namespace);
  }

  /** Adds a Kubernetes object, typed by the client's model. */
  private obj<T extends { apiVersion?: string; kind?: string }>(id: string, obj: T): ApiObject {
    return new ApiObject(this, id, obj as T & { apiVersion: string; kind: string });
  }

  /** The ClusterRole `role` for ServiceAccount `account`: cluster-wide, or with a RoleBinding in each watched namespace. */
  private bindClusterRole(id: string, role: string, account: string, namespace: string, watch: string[], labels: Record<string, string>): void {
    const subjects = [{ kind: 'ServiceAccount', name: account, namespace }];
    const roleRef = { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role };
    if (watch.length === 0) {
      this.obj<V1ClusterRoleBinding>(`${id}cluster-role-binding`, { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRoleBinding', metadata: { name: role, labels }, roleRef, subjects });
      return;
    }
    for (const ns of watch) {
      this.obj<V1RoleBinding>(`${id}role-binding-${ns}`, { apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata: { name: role, namespace: ns, labels }, roleRef, subjects });
    }
  }

  /**
   * The scale-to-zero activator (`lfm-operator activator`): its ServiceAccount, its ClusterRole (activator-role.yaml)
   * bound as the operator's, its Deployment and PodDisruptionBudget. Its pods carry app.kubernetes.io/name lfm-operator
   * and app.kubernetes.io/component activator, by which the operator finds them in its namespace.
   */
  private addActivator(props: LfmOperatorInstallProps, operatorName: string, namespace: string): void {
    const v = props.values;
    const name = `${operatorName}-activator`;
    const selector = { 'app.kubernetes.io/name': 'lfm-operator', 'app.kubernetes.io/instance': operatorName, 'app.kubernetes.io/component': 'activator' };
    const labels = { ...selector, 'app.kubernetes.io/version': props.appVersion, 'app.kubernetes.io/part-of': 'lfm-operator' };
    const add = this.obj.bind(this);
    const account = v.activator.serviceAccount.name || name;
    if (v.activator.serviceAccount.create) {
      const annotations = v.activator.serviceAccount.annotations;
      add<V1ServiceAccount>('activator-service-account', {
        apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace, labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
      });
    }
    const [clusterRole, ...more] = props.activatorRbac;
    if (!clusterRole || more.length > 0 || clusterRole.kind !== 'ClusterRole') throw new Error('config/rbac/activator-role.yaml must define one ClusterRole');
    const roleName = operatorName + (clusterRole.metadata?.name ?? '').slice('lfm-operator'.length);
    if (roleName !== name) throw new Error(`config/rbac/activator-role.yaml: the ClusterRole must be named lfm-operator-activator, not ${clusterRole.metadata?.name}`);
    add<V1ClusterRole>('activator-cluster-role', { apiVersion: clusterRole.apiVersion, kind: 'ClusterRole', metadata: { name, labels }, rules: clusterRole.rules });
    this.bindClusterRole('activator-', name, account, namespace, v.operator.watchNamespaces, labels);
    add<V1Deployment>('activator-deployment', renderActivatorDeployment(v, { name, namespace, labels, selector, appVersion: props.appVersion, serviceAccount: account }));
    if (v.activator.podDisruptionBudget.enabled) {
      add<V1PodDisruptionBudget>('activator-pdb', {
        apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace, labels },
        spec: { minAvailable: v.activator.podDisruptionBudget.minAvailable, selector: { matchLabels: selector } },
      });
    }
  }
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/**
 * The operator's environment: its configuration as LFM_OPERATOR_* variables (src/controller/config.ts). `namespace` is
 * the install's, where the activator pods run.
 */
export function buildOperatorEnv(v: InstallValues, namespace: string = DEFAULT_NAMESPACE): V1EnvVar[] {
  const o = v.operator;
  return [
    { name: 'LFM_OPERATOR_LEADER_ELECT', value: String(v.leaderElection.enabled) },
    { name: 'LFM_OPERATOR_LEADER_ELECTION_ID', value: v.leaderElection.leaseName },
    { name: 'LFM_OPERATOR_LEADER_ELECTION_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'LFM_OPERATOR_ACTIVATOR_NAMESPACE', value: namespace },
    ...(o.watchNamespaces.length ? [{ name: 'LFM_OPERATOR_NAMESPACES', value: o.watchNamespaces.join(',') }] : []),
    ...(o.vllmImage ? [{ name: 'LFM_OPERATOR_VLLM_IMAGE', value: o.vllmImage }] : []),
    ...(o.sglangImage ? [{ name: 'LFM_OPERATOR_SGLANG_IMAGE', value: o.sglangImage }] : []),
    ...(o.llamacppImage ? [{ name: 'LFM_OPERATOR_LLAMACPP_IMAGE', value: o.llamacppImage }] : []),
    ...(o.llamacppGpuImage ? [{ name: 'LFM_OPERATOR_LLAMACPP_GPU_IMAGE', value: o.llamacppGpuImage }] : []),
    { name: 'LFM_OPERATOR_AUTOSCALER', value: String(o.autoscaler) },
    { name: 'LFM_OPERATOR_CONCURRENCY', value: String(o.concurrency) },
    { name: 'LFM_OPERATOR_RESYNC_SECONDS', value: String(o.resyncSeconds) },
    { name: 'LFM_OPERATOR_LOG_LEVEL', value: o.logLevel },
    { name: 'LFM_OPERATOR_METRICS_BIND_ADDRESS', value: `:${v.metrics.port}` },
    { name: 'LFM_OPERATOR_HEALTH_PROBE_BIND_ADDRESS', value: `:${v.healthPort}` },
  ];
}

interface Names { name: string; namespace: string; labels: Record<string, string>; selector: Record<string, string>; appVersion: string }

function renderOperatorDeployment(v: InstallValues, n: Names): V1Deployment {
  const image = buildImageReference(v, n.appVersion);
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: n.name, namespace: n.namespace, labels: n.labels },
    spec: {
      replicas: v.replicaCount,
      revisionHistoryLimit: 3,
      selector: { matchLabels: n.selector },
      template: {
        metadata: { labels: n.labels },
        spec: {
          serviceAccountName: n.name,
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: v.podSecurityContext,
          containers: [{
            name: 'operator',
            image,
            imagePullPolicy: v.image.pullPolicy,
            args: ['run'],
            env: buildOperatorEnv(v, n.namespace),
            ports: [
              { name: 'metrics', containerPort: v.metrics.port, protocol: 'TCP' },
              { name: 'health', containerPort: v.healthPort, protocol: 'TCP' },
            ],
            livenessProbe: { httpGet: { path: '/healthz', port: 'health' }, ...v.probes.liveness },
            readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, ...v.probes.readiness },
            resources: v.resources,
            securityContext: v.securityContext,
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
          nodeSelector: v.nodeSelector,
          affinity: buildSpreadAffinity(n.selector),
        },
      },
    },
  } as V1Deployment;
}

/** The operator's image (the activator runs the same one): pinned by digest when one is set, else by tag. */
function buildImageReference(v: InstallValues, appVersion: string): string {
  return v.image.digest ? `${v.image.repository}@${v.image.digest}` : `${v.image.repository}:${v.image.tag || appVersion}`;
}

/** Replicas preferably on different nodes, so that one node's loss leaves another replica. */
function buildSpreadAffinity(selector: Record<string, string>): V1Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{
        weight: 100,
        podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } },
      }],
    },
  };
}

interface ActivatorNames extends Names { serviceAccount: string }

/** The activator's Deployment: the operator's image and hardening, `activator --listen :PORT`, one port. */
function renderActivatorDeployment(v: InstallValues, n: ActivatorNames): V1Deployment {
  const a = v.activator;
  const image = buildImageReference(v, n.appVersion);
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: n.name, namespace: n.namespace, labels: n.labels },
    spec: {
      replicas: a.replicaCount,
      revisionHistoryLimit: 3,
      selector: { matchLabels: n.selector },
      template: {
        metadata: { labels: n.labels },
        spec: {
          serviceAccountName: n.serviceAccount,
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: v.podSecurityContext,
          containers: [{
            name: 'activator',
            image,
            imagePullPolicy: v.image.pullPolicy,
            args: ['activator', '--listen', `:${a.port}`],
            env: [
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              // The namespaces its informers watch, as the operator's: its ClusterRole is bound in those only.
              ...(v.operator.watchNamespaces.length ? [{ name: 'LFM_OPERATOR_NAMESPACES', value: v.operator.watchNamespaces.join(',') }] : []),
              ...a.extraEnv,
            ],
            ports: [{ name: 'http', containerPort: a.port, protocol: 'TCP' }],
            livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, ...a.probes.liveness },
            readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, ...a.probes.readiness },
            resources: a.resources,
            securityContext: v.securityContext,
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
          nodeSelector: a.nodeSelector,
          affinity: buildSpreadAffinity(n.selector),
        },
      },
    },
  } as V1Deployment;
}

/** dist/install.yaml: the install synthesized as one multi-document YAML stream. */
export function synthInstall(inputs: InstallInputs, options: { namespace?: string; name?: string } = {}): string {
  const app = new App();
  new LfmOperatorInstall(app, 'lfm-operator', { ...inputs, ...options });
  return app.synthYaml();
}
