import { defineConfig } from 'vitest/config';
import LongestFirst from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A file that leaves a socket, timer or process open fails (test/setup/leaks.ts).
    setupFiles: ['test/setup/leaks.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e files mostly wait on their scenarios' timelines (a file uses ~25 % of a core on average),
    // so three run side by side on a 2-core machine; the storms that must not share the cores run
    // apart, in test/e2e-serial.
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
