// I/O. Writes the throwaway PKI of a dev control plane with the openssl CLI: one CA for the serving and client
// certificates, one client certificate per component identity, and the service-account signing key pair.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** An identity the API server derives from a client certificate: CN = user, each O = a group. */
export interface Identity { user: string; groups: readonly string[] }

/** Who is who in the audit log. The tools that write on behalf of the harness have their own names. */
export const IDENTITIES = {
  admin: { user: 'devcluster:admin', groups: ['system:masters'] },
  controllerManager: { user: 'system:kube-controller-manager', groups: [] },
  scheduler: { user: 'system:kube-scheduler', groups: [] },
  kwok: { user: 'devcluster:kwok', groups: ['system:masters'] },
  kubelet: { user: 'devcluster:kubelet', groups: ['system:masters'] },
} as const satisfies Record<string, Identity>;
export type IdentityName = keyof typeof IDENTITIES;

export interface CertPair { cert: string; key: string }
export interface Pki {
  dir: string;
  ca: CertPair;
  server: CertPair;
  /** Service-account token signing key (private) and its public key, for the API server and the controller manager. */
  serviceAccount: { privateKey: string; publicKey: string };
  clients: Record<IdentityName, CertPair>;
}

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:127.0.0.1
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`;

function buildSubject(identity: Identity): string {
  return [...identity.groups.map((g) => `/O=${g}`), `/CN=${identity.user}`].join('');
}

async function writeCert(dir: string, name: string, subject: string, extensions: 'ca' | 'server' | 'client', ca?: CertPair): Promise<CertPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await execFileAsync('openssl', [
    'req', '-x509', '-config', join(dir, 'openssl.cnf'), '-extensions', extensions,
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', pair.key, '-out', pair.cert, '-days', '30', '-subj', subject,
    ...(ca ? ['-CA', ca.cert, '-CAkey', ca.key] : []),
  ]);
  return pair;
}

/** Creates dir/ with a fresh CA, the API server's serving certificate, client certificates and the SA key pair. */
export async function writePki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const ca = await writeCert(dir, 'ca', '/CN=lfm-devcluster-ca', 'ca');
  const names = Object.keys(IDENTITIES) as IdentityName[];
  const [server, ...clientPairs] = await Promise.all([
    writeCert(dir, 'apiserver', '/CN=kube-apiserver', 'server', ca),
    ...names.map((n) => writeCert(dir, `client-${n}`, buildSubject(IDENTITIES[n]), 'client', ca)),
  ]);
  const sa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const serviceAccount = { privateKey: join(dir, 'sa.key'), publicKey: join(dir, 'sa.pub') };
  await writeFile(serviceAccount.privateKey, sa.privateKey, { mode: 0o600 });
  await writeFile(serviceAccount.publicKey, sa.publicKey);
  const clients = Object.fromEntries(names.map((n, i) => [n, clientPairs[i]!])) as Record<IdentityName, CertPair>;
  return { dir, ca, server: server!, serviceAccount, clients };
}

/** Reads a certificate pair as PEM text, for embedding in a kubeconfig. */
export async function readCertPair(pair: CertPair): Promise<{ certPem: string; keyPem: string }> {
  const [certPem, keyPem] = await Promise.all([readFile(pair.cert, 'utf8'), readFile(pair.key, 'utf8')]);
  return { certPem, keyPem };
}
