import { defineConfig } from 'vitest/config';
import LongestFirst from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file writes into a temporary folder of its own, removed after it (test/setup/tmp.ts;
    // first, so its after-hook runs last), inside the run's root, removed at the end
    // (test/setup/tmp-root.ts). A file that leaves a socket, timer or process open fails
    // (test/setup/leaks.ts).
    globalSetup: ['test/setup/tmp-root.ts'],
    setupFiles: ['test/setup/tmp.ts', 'test/setup/leaks.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests start processes and open thousands of sockets; keep them from starving each other
    // on a 2-core machine. (Three side by side made a run with one core kept busy slower, not
    // faster: CPU-bound files took 2-4 times as long, 1,111 s against 932 s.)
    fileParallelism: true,
    maxWorkers: 2,
    // Longest files first (test/durations.json), so no long file starts last.
    sequence: { sequencer: LongestFirst },
    reporters: ['default'],
    // @actions/workflow-parser imports its JSON schema without an import attribute, which Node 20's
    // ESM loader refuses; letting Vite transform it (as it does for src/) loads the schema.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
