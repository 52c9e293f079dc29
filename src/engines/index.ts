// Pure. The engines by name.
import type { EngineName } from '../api/v1alpha1.js';
import type { Engine } from './engine.js';
import { llamacpp } from './llamacpp.js';
import { sglang } from './sglang.js';
import { vllm } from './vllm.js';

export const ENGINES: Record<EngineName, Engine> = { VLLM: vllm, SGLang: sglang, LlamaCpp: llamacpp };
export * from './engine.js';
// src/render/plan-report.ts still imports the model-source parser by its old name from here; it lives in the API now.
