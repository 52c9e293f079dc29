// Pure. Decides whether an applied object already holds what the operator would apply, so a no-op resync makes no
// writes (server-side apply of an identical object is still a PATCH in the audit log).
import type { KubeObject } from '../kube/client.js';

/** True when every field set in `desired` has the same value in `observed` (lists compared element by element). */
export function isSubset(desired: unknown, observed: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== 'object') {
    if (typeof desired === 'number' && typeof observed === 'string') return String(desired) === observed;
    return desired === observed;
  }
  if (Array.isArray(desired)) {
    return Array.isArray(observed) && observed.length === desired.length && desired.every((d, i) => isSubset(d, observed[i]));
  }
  if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) return false;
  return Object.entries(desired).every(([k, v]) => isSubset(v, (observed as Record<string, unknown>)[k]));
}

/** Whether `manager` owns `path` (for example ['spec', 'replicas']) through an Apply entry in managedFields. */
export function ownsField(obj: KubeObject | undefined, manager: string, path: readonly string[]): boolean {
  for (const entry of obj?.metadata?.managedFields ?? []) {
    if (entry.manager !== manager || entry.operation !== 'Apply' || entry.subresource) continue;
    let node = entry.fieldsV1 as Record<string, unknown> | undefined;
    for (const p of path) node = node?.[`f:${p}`] as Record<string, unknown> | undefined;
    if (node !== undefined) return true;
  }
  return false;
}
