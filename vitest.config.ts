import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'examples/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/setup/local-aws.global.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    // The AWS SDK warns on Node 20 that its 2027 releases need Node 22 (production runs 22).
    execArgv: ['--disable-warning=NodeVersionSupportWarning'],
  },
});
