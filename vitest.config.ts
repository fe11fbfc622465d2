import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A file that leaves a socket, timer or process open fails (test/setup/leaks.ts).
    setupFiles: ['test/setup/leaks.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests start processes and open thousands of sockets; keep them from starving each other
    // on a 2-core machine.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
    // @actions/workflow-parser imports its JSON schema without an import attribute, which Node 20's
    // ESM loader refuses; letting Vite transform it (as it does for src/) loads the schema.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
