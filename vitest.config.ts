import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'examples/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/setup/local-aws.global.ts', 'test/setup/postgres.global.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
