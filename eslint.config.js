// ESLint flat config: typed linting (the promise rules need the type checker), and limits on function size for the
// product's code. The layering rules (layer order, no cycles, pure layers without I/O) are dependency-cruiser's, in
// .dependency-cruiser.cjs; `make lint` runs both.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'charts/**', 'crds/**', 'cdk8s/imports/**', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // A promise nobody awaits loses its error (an unhandled rejection ends the process on Node 24); a promise where a
    // boolean or a void callback is expected is always truthy, or its rejection goes nowhere.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Limits for the product (pepr's configuration is the reference): a function past them is split into named
    // phases; more than five parameters become one options object.
    files: ['src/**/*.ts'],
    rules: {
      complexity: ['error', 20],
      'max-params': ['error', 5],
      'max-depth': ['error', 4],
      'max-nested-callbacks': ['error', 4],
    },
  },
);
