import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A private node var dir (e-stop latches) per test file.
    setupFiles: ['test/helpers/isolated-var-dir.ts'],
    testTimeout: 60000,
    hookTimeout: 90000,
    // Integration tests start brokers and node processes: on two cores, run files two at a time.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default'],
    // Tests that start `kuroko edge`/`hub`/`demo` without credentials run an open test stage on purpose;
    // the security tests pass credentials explicitly (test/helpers/access.ts). Users get the secure default.
    env: { KUROKO_INSECURE: '1' },
  },
});
