/**
 * The coordinator's warm-up (src/metrics/warm-merge.ts) merges real deltas the way a run's seconds
 * are merged: every worker's two seconds, every cohort, read back whole.
 */
import { describe, expect, it } from 'vitest';
import { warmMerge } from '../../src/metrics/warm-merge.js';

describe('warmMerge', () => {
  it("merges every worker's two throwaway seconds, for any cohorts", () => {
    // 500 connects per worker-second: 3 workers × 2 seconds.
    expect(warmMerge(['a', 'b'], 3, 2)).toEqual({ succeeded: 3_000, seconds: 2 });
    expect(warmMerge([], 1, 1)).toEqual({ succeeded: 1_000, seconds: 2 });
  });
});
