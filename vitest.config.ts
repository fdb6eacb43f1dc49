import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60000,
    hookTimeout: 90000,
    // Integration tests start brokers and node processes: on two cores, run files two at a time.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default'],
  },
});
