// Pure. Parses spec.model.source (hf://ORG/NAME[@REVISION] or pvc://CLAIM/PATH) into where the engine finds the
// model. The CRD's pattern has already admitted the string; this only splits it. Performs no I/O.

/** How the model reaches the engine: a Hugging Face id (downloaded) or a path on a mounted claim. */
export interface ModelLocation { model: string; revision?: string; claimName?: string; mountPath?: string }

/** The claim is mounted here; a pvc:// path is relative to it. */
const MODEL_MOUNT_PATH = '/models';

/**
 * The Hugging Face cache in the engine container (HF_HOME): an emptyDir, or the PersistentVolumeClaim of
 * spec.model.cache. Engines with a cache of their own keep it below (llama.cpp: LLAMA_CACHE).
 */
export const MODEL_CACHE_PATH = '/cache/huggingface';

export function parseModelSource(source: string): ModelLocation {
  const hf = /^hf:\/\/([^@]+)(?:@(.+))?$/.exec(source);
  if (hf?.[1]) return hf[2] ? { model: hf[1], revision: hf[2] } : { model: hf[1] };
  const pvc = /^pvc:\/\/([^/]+)\/?(.*)$/.exec(source);
  const claimName = pvc?.[1] ?? '';
  const path = (pvc?.[2] ?? '').replace(/\/+$/, '');
  return { model: path ? `${MODEL_MOUNT_PATH}/${path}` : MODEL_MOUNT_PATH, claimName, mountPath: MODEL_MOUNT_PATH };
}
