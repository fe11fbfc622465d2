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
    // Most files wait on their runs' clocks (ramps, holds, outages), not on the CPU: two files at
    // a time kept the 2 cores 47% busy. Three at a time: the whole suite in 628 s instead of 932 s
    // on idle cores, each file as long as before; with one core kept busy by another process, 694 s
    // and every test passed (2026-12-06). The storm lessons (storm-lessons.test.ts) are one file,
    // so two storms never run side by side.
    fileParallelism: true,
    maxWorkers: 3,
    // Longest files first (test/durations.json), so no long file starts last.
    sequence: { sequencer: LongestFirst },
    reporters: ['default'],
    // @actions/workflow-parser imports its JSON schema without an import attribute, which Node 20's
    // ESM loader refuses; letting Vite transform it (as it does for src/) loads the schema.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
