import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores, ~450 MiB per browser: one test file at a time, two or three browsers in it.
    fileParallelism: false,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
