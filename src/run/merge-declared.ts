/**
 * Declared outages across shards (pure). Each shard measured recovery from the window's end on its
 * own origin, but the commands ran on the origin of the shard that ran them (shard 1). A shard whose
 * origin fell later than shard 1's (run.clockOffsetMs: how late after --start-at it started)
 * measured from a moment that much too late, and one that started earlier from a moment too early:
 * its recovery times move by (its offset − shard 1's) before the shards' histograms are added.
 */
import { addShifted } from '../metrics/observed-merge.js';
import { createHistogram, encodeHistogram } from '../metrics/histogram.js';
import type { Results } from '../results/types.js';
import { histogramOf, type Outcome } from './outcome.js';

/** The clock offset (ms) of the shard that ran the declared outages' commands; 0 when none did. */
export function commandShardOffsetMs(shards: readonly Results[]): number {
  const ran = shards.find((r) =>
    r.outages.some((o) => o.side === 'declared' && (o.commands ?? []).some((c) => c.outcome !== 'other-shard')),
  );
  return ran?.run.clockOffsetMs ?? 0;
}

/** `outcome` (read from shard `r`) with its declared outages' recovery times on the commanding shard's clock. */
export function alignDeclared(outcome: Outcome, r: Results, refOffsetMs: number): Outcome {
  const deltaUs = Math.round(((r.run.clockOffsetMs ?? 0) - refOffsetMs) * 1000);
  const windows = r.scenario.outageWindows;
  if (deltaUs === 0 || !windows.some((w) => w.side === 'declared')) return outcome;
  return {
    ...outcome,
    outages: outcome.outages.map((o, i) => {
      if (windows[i]?.side !== 'declared' || o.recoveryUs === '') return o;
      const from = histogramOf(o.recoveryUs);
      const moved = createHistogram();
      addShifted(moved, from, deltaUs);
      const out = { ...o, recoveryUs: encodeHistogram(moved) };
      from.destroy();
      moved.destroy();
      return out;
    }),
  };
}
