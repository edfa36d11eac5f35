// Lint rules that catch real bugs in Temporal code: floating promises, and Node built-ins in workflow files
// (workflows must stay deterministic; all I/O belongs in activities).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'exports/', 'test-artifacts/', 'bench/out/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    // No casts that switch type checking off: `as any` (no-explicit-any, also on through recommended) and `as never`
    // (assignable to everything). Type the value, parse it with zod, or go through a typed helper that takes
    // `unknown` on purpose (test/helpers/export-request.ts startUnchecked).
    files: ['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSAsExpression > TSNeverKeyword',
          message: '`as never` switches type checking off: type the value, or pass it through a typed helper.',
        },
        {
          selector: 'TSTypeAssertion > TSNeverKeyword',
          message: '`<never>` switches type checking off: type the value, or pass it through a typed helper.',
        },
        {
          selector: 'TSAsExpression > TSAnyKeyword',
          message: '`as any` switches type checking off: type the value, parse it (zod), or narrow it with a comment.',
        },
      ],
    },
  },
  {
    // node:test runs describe/test itself; their returned promises are not ours to await.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'test', 'it', 'suite'], package: 'node:test' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process', 'undici'],
              message: 'Workflows are deterministic: do I/O in activities.',
            },
            {
              group: ['../providers/*', '../activities/*', '../activities'],
              allowTypeImports: true,
              message: 'Workflows import activity types only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
