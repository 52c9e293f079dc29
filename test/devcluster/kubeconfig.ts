// Pure. Renders self-contained kubeconfig files (certificates embedded) for the dev control plane's identities.
import { stringify } from 'yaml';

export type KubeconfigCredentials = { certPem: string; keyPem: string } | { token: string };

export interface KubeconfigInput {
  server: string;
  caPem: string;
  user: string;
  credentials: KubeconfigCredentials;
  /** Default namespace of the context; omitted = the server's default. */
  namespace?: string;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export function renderKubeconfig(input: KubeconfigInput): string {
  const user = 'token' in input.credentials
    ? { token: input.credentials.token }
    : { 'client-certificate-data': b64(input.credentials.certPem), 'client-key-data': b64(input.credentials.keyPem) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lfm-devcluster', cluster: { server: input.server, 'certificate-authority-data': b64(input.caPem) } }],
    users: [{ name: input.user, user }],
    contexts: [{
      name: 'lfm-devcluster',
      context: { cluster: 'lfm-devcluster', user: input.user, ...(input.namespace ? { namespace: input.namespace } : {}) },
    }],
    'current-context': 'lfm-devcluster',
  });
}
