// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'coverage/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Architecture boundary: policy is pure and imports nothing but shared/.
    files: ['src/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['../storage/*', '../http/*', '../provider/*', '../directory/*', 'node:*', 'oidc-provider', 'express'] }],
    },
  },
  {
    // Connectors turn upstream responses into identities; they never touch storage or the directory.
    files: ['src/connectors/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/storage/*', '**/directory/*'] }],
    },
  },
  {
    files: ['src/ui/**/*.ts', 'src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/storage/**'] }],
    },
  },
);
