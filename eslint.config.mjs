// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'data/**',
      'jest.config.js',
      'eslint.config.mjs',
      // The plain Node scripts; the TypeScript ones (scripts/test-vectors) are linted.
      'scripts/**/*.mjs',
      'scripts/**/*.cjs',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-imports': [
        'error',
        {
          paths: ['.', '..', '../..', '../../..', './index', '../index', '../../index'].map(
            (name) => ({
              name,
              message: 'No barrel imports inside a project: import the file you need.',
            }),
          ),
          patterns: [
            {
              group: ['@app/*/*', '**/libs/*/src/**'],
              message:
                'Import a lib through its barrel alias (@app/contracts), never its internals.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'apps/*/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // supertest types response bodies as any: they are untyped JSON under test.
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Test support (libs/testing) is for tests, the bench and the chaos harness: never built,
    // never imported by what ships.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/testing/**', 'apps/admin-ui/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: '@app/testing', message: 'Test support is for tests only.' }] },
      ],
    },
  },
  {
    // The admin page runs in the browser: it may use the libs' types, never their code (Node
    // modules, decorators) which would be bundled into the page.
    files: ['apps/admin-ui/src/**/*.ts', 'apps/admin-ui/src/**/*.tsx'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@app/*', 'node:*'],
              allowTypeImports: true,
              message: 'The admin page imports only types from the libs (import type).',
            },
          ],
        },
      ],
    },
  },
);
