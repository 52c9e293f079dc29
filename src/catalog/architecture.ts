// Pure. What the sizing arithmetic needs to know about a model: its architecture and the format its checkpoint is
// published in. The catalog describes its models in these terms, and spec.model.architecture (src/api) describes
// the others in the same terms; this is the lowest layer, so it imports nothing from src.

/** Formats a checkpoint can be published in (spec.model.architecture.weightFormat and the catalog). */
export const WEIGHT_FORMATS = ['BF16', 'FP16', 'FP8', 'AWQ', 'GPTQ', 'MXFP4', 'NVFP4', 'W8A8Int8'] as const;
export type WeightFormat = (typeof WEIGHT_FORMATS)[number];

/** A model's architecture; the field meanings are documented on spec.model.architecture (kubectl explain). */
export interface ModelArchitecture {
  layers: number;
  attentionLayers: number;
  slidingWindowLayers: number;
  slidingWindow: number;
  convLayers: number;
  convCacheLength: number;
  attentionHeads: number;
  kvHeads: number;
  headDim: number;
  hiddenSize: number;
  experts: number;
  expertsPerToken: number;
  parameters: number;
  expertParameters: number;
  contextLength: number;
  weightFormat: WeightFormat;
}
