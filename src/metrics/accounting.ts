/**
 * The accounting identity every run must balance and the recovery percentiles of an outage: shared
 * by a run's results and by a merge of shards, so both judge the same way.
 */
import type { OutageTotals } from './aggregate.js';
import type { Attempts, PercentilesUs } from '../results/types.js';

export function checkAccounting(a: Attempts): { balanced: boolean; detail: string } {
  // Attempts a device made while its simulated network was down are outcomes too ("offline").
  const accounted =
    a.succeeded + a.failed + a.timedOut + a.dropped + a.inFlightAtEnd + (a.lostToHarness ?? 0) + (a.offline ?? 0);
  // A dead worker's started attempts have no outcome; they are inside lostToHarness.
  const startedOk = (a.lostToHarness ?? 0) > 0 || a.started === a.succeeded + a.failed + a.timedOut + a.inFlightAtEnd;
  const total = a.planned + a.reconnects;
  const balanced = accounted === total && startedOk;
  const head = a.reconnects > 0 ? `planned ${a.planned} + reconnects ${a.reconnects}` : `planned ${a.planned}`;
  const detail =
    `${head} = succeeded ${a.succeeded} + failed ${a.failed} + timed out ${a.timedOut}` +
    ` + dropped ${a.dropped} + in flight ${a.inFlightAtEnd}` +
    ((a.offline ?? 0) > 0 ? ` + offline ${a.offline}` : '') +
    ((a.lostToHarness ?? 0) > 0 ? ` + lost to the harness ${a.lostToHarness}` : '') +
    (balanced ? '' : ` → MISMATCH (accounted ${accounted}, started ${a.started})`);
  return { balanced, detail };
}

/** Time for a share of the hit devices to be back, counting never-recovered devices as never. */
export function recoveryPercentiles(o: OutageTotals): PercentilesUs {
  const at = (p: number): number | null => {
    const needed = Math.ceil((p / 100) * o.dropped);
    if (needed === 0) return 0;
    if (o.recovered < needed) return null;
    return o.recoveryUs.getValueAtPercentile((needed / o.recovered) * 100);
  };
  return { p50Us: at(50), p90Us: at(90), p99Us: at(99), p100Us: at(100) };
}
