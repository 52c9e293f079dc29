// Which LfmDeployment a request is for, from its Host header. The activator stands behind the target's own Service
// name (the Service points at the activator while the target is scaled to zero), so the Host is one of the names
// cluster DNS resolves for a Service: NAME.NAMESPACE, NAME.NAMESPACE.svc or NAME.NAMESPACE.svc.cluster.local,
// optionally with a port and a trailing dot. Anything else (an IP address, a bare NAME, another domain) names no
// target.

/** A DNS-1123 label: 1-63 characters of [a-z0-9-], starting and ending with an alphanumeric. */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The host without its `:PORT`, or undefined when the port is not a valid TCP port or the host is an IPv6 literal. */
function stripPort(host: string): string | undefined {
  if (host.startsWith('[')) return undefined;
  const colon = host.indexOf(':');
  if (colon < 0) return host;
  const port = host.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) return undefined;
  return host.slice(0, colon);
}

/** The suffixes a Service name may carry after NAME.NAMESPACE. */
const SUFFIXES: readonly (readonly string[])[] = [[], ['svc'], ['svc', 'cluster', 'local']];

export function parseTargetHost(host: string | undefined): { name: string; namespace: string } | undefined {
  if (host === undefined) return undefined;
  let bare = stripPort(host.trim().toLowerCase());
  if (bare === undefined) return undefined;
  if (bare.endsWith('.')) bare = bare.slice(0, -1);
  const labels = bare.split('.');
  const [name, namespace, ...rest] = labels;
  if (name === undefined || namespace === undefined) return undefined;
  if (!DNS_LABEL.test(name) || !DNS_LABEL.test(namespace)) return undefined;
  const suffixOk = SUFFIXES.some((s) => s.length === rest.length && s.every((label, i) => rest[i] === label));
  return suffixOk ? { name, namespace } : undefined;
}
