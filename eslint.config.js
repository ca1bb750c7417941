import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'var/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use the injected Clock.' },
        { object: 'process', property: 'env', message: 'Read configuration through src/config.ts.' },
      ],
    },
  },
  {
    files: ['src/config.ts', 'src/cli/**', 'tests/**', 'bench/**', 'simulator/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The simulator is a client of the product over the wire; the product never imports it.
    files: ['src/**', 'adapters/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/simulator/**'] }] },
  },
  {
    files: ['src/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['ioredis', 'bullmq', 'hono', 'hono/*', 'node:net', 'node:http', 'node:fs', 'pino', '../store/*', '../http/*', '**/simulator/**'] },
      ],
    },
  },
);
