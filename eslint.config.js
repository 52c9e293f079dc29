// ESLint flat config. The layering rules of STYLE.md: pure layers never import I/O layers or node:fs / node:http.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['**/kube/**', '**/controller/**', '**/telemetry/**', 'node:http', 'node:https', 'node:fs', 'node:fs/promises', 'fs', 'http', 'https', 'node:child_process'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'charts/**', 'crds/**', 'cdk8s/imports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/api/**', 'src/catalog/**', 'src/sizing/**', 'src/engines/**', 'src/render/**', 'src/status/**', 'src/autoscaler/decide*.ts', 'src/autoscaler/policy.ts', 'src/autoscaler/pod-view.ts', 'src/metrics/prometheus-text.ts', 'src/metrics/engine-sample.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ioModules, message: 'Pure layers (STYLE.md) may not import I/O: pass data in instead.' }],
      }],
    },
  },
);
