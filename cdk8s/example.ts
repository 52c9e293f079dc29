#!/usr/bin/env node
// An example cdk8s app defining LfmDeployments in TypeScript: `node dist/cdk8s/example.js` prints the manifests.
// It imports the construct the way a user's app does, through the package export lfm-operator/cdk8s.
import { App, Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import { LfmDeployment } from 'lfm-operator/cdk8s';

/** Two models in one namespace: LFM2-24B-A2B autoscaled on H100s, LFM2-8B-A1B on one L4. */
export class InferenceChart extends Chart {
  readonly large: LfmDeployment;
  readonly small: LfmDeployment;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    this.large = new LfmDeployment(this, 'lfm2-24b', {
      metadata: { name: 'lfm2-24b' },
      spec: {
        model: { source: 'hf://LiquidAI/LFM2-24B-A2B', servedName: 'lfm2-24b' },
        engine: { name: 'VLLM', extraArgs: ['--enable-prefix-caching'] },
        quantization: 'FP8',
        gpu: { type: 'h100-sxm-80gb' },
        serving: { maxModelLen: 32768 },
        // No spec.replicas: the autoscaler scales the child Deployment, so this manifest never drifts from Git.
        autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 4, queueDepthPerReplica: 4 },
      },
    });
    this.small = new LfmDeployment(this, 'lfm2-8b', {
      metadata: { name: 'lfm2-8b-l4' },
      spec: {
        model: { source: 'hf://LiquidAI/LFM2-8B-A1B' },
        quantization: 'FP8',
        gpu: { type: 'l4-24gb' },
        serving: { maxModelLen: 32768 },
        replicas: 1,
      },
    });
  }
}

/** The example's manifests as YAML, for a namespace. */
export function synthExample(namespace = 'default'): string {
  const app = new App();
  new InferenceChart(app, 'inference', { namespace });
  return app.synthYaml();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(synthExample(process.argv[2]));
}
