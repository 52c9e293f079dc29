// The API server's audit log of writes (JSON lines, Metadata level): parsing is pure, readAuditLog reads the file.
// Tests count who wrote what with it, e.g. "no writes by lfm-operator during a no-op resync".
import { readFileSync } from 'node:fs';

export interface AuditEvent {
  /** user.username: a component identity, a ServiceAccount (system:serviceaccount:ns:name) or a test user. */
  user: string;
  groups: string[];
  /** create | update | patch | delete | deletecollection. Server-side apply is "patch". */
  verb: string;
  /** "" for the core group. */
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The fieldManager query parameter of the request, when given (server-side apply always gives one). */
  fieldManager?: string;
  /** HTTP status code of the response. */
  code?: number;
  userAgent?: string;
  requestURI: string;
  /** When the request was received (RFC 3339 with microseconds). */
  time: string;
}

interface RawAuditEvent {
  kind?: string;
  stage?: string;
  verb?: string;
  requestURI?: string;
  user?: { username?: string; groups?: string[] };
  impersonatedUser?: { username?: string; groups?: string[] };
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string; subresource?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp?: string;
}

/** One line of the log; undefined for lines that are not a completed request (or are cut short). */
export function parseAuditEvent(line: string): AuditEvent | undefined {
  let raw: RawAuditEvent;
  try {
    raw = JSON.parse(line) as RawAuditEvent;
  } catch {
    return undefined;
  }
  if (raw.kind !== 'Event' || raw.stage !== 'ResponseComplete' || !raw.objectRef) return undefined;
  // Impersonated requests are attributed to the identity they act as.
  const user = raw.impersonatedUser ?? raw.user ?? {};
  const requestURI = raw.requestURI ?? '';
  const fieldManager = new URLSearchParams(requestURI.split('?')[1] ?? '').get('fieldManager') ?? undefined;
  const ref = raw.objectRef;
  return {
    user: user.username ?? '',
    groups: user.groups ?? [],
    verb: raw.verb ?? '',
    apiGroup: ref.apiGroup ?? '',
    apiVersion: ref.apiVersion ?? '',
    resource: ref.resource ?? '',
    ...(ref.subresource ? { subresource: ref.subresource } : {}),
    ...(ref.namespace ? { namespace: ref.namespace } : {}),
    ...(ref.name ? { name: ref.name } : {}),
    ...(fieldManager ? { fieldManager } : {}),
    ...(raw.responseStatus?.code !== undefined ? { code: raw.responseStatus.code } : {}),
    ...(raw.userAgent ? { userAgent: raw.userAgent } : {}),
    requestURI,
    time: raw.requestReceivedTimestamp ?? '',
  };
}

export function parseAuditLog(text: string): AuditEvent[] {
  return text.split('\n').map(parseAuditEvent).filter((e): e is AuditEvent => e !== undefined);
}

/** All completed write requests so far, oldest first. */
export function readAuditLog(path: string): AuditEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseAuditLog(text);
}
