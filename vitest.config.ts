import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    // Tests use the simulated clock; a long timeout only guards against hangs.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
