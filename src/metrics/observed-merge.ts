/**
 * Joins observed outages seen by several workers or shards into fleet-wide events (pure). Each part
 * measured recovery from the first accept *it* saw; the joined event's outage ends at the earliest
 * of those, so each part's recovery times move later by the difference before they are added.
 */
import { createHistogram, type Histogram } from './histogram.js';

export interface ObservedPart {
  /** Start, µs from the run origin. */
  atUs: number;
  /** First accept after the start, µs from the run origin; null = the target never accepted again. */
  acceptedUs: number | null;
  dropped: number;
  recovered: number;
  /** µs from `acceptedUs` until each recovered device was back. */
  recoveryUs: Histogram;
  attempts: Histogram;
}

/**
 * A part starting no later than `toleranceUs` (the detection window, plus the clock offset between
 * shards) after the first accept of the event before it is part of that event: start and first accept are the earliest
 * of the parts', hit and recovered devices add up. Returned in time order; the inputs are not changed.
 */
export function mergeObservedOutages(parts: readonly ObservedPart[], toleranceUs: number): ObservedPart[] {
  const end = (p: ObservedPart): number => p.acceptedUs ?? Infinity;
  const sorted = [...parts].sort((a, b) => a.atUs - b.atUs || end(a) - end(b));
  const groups: ObservedPart[][] = [];
  let endUs = -Infinity;
  for (const p of sorted) {
    const last = groups.at(-1);
    if (last && p.atUs <= endUs + toleranceUs) {
      last.push(p);
      endUs = Math.max(endUs, p.acceptedUs ?? Infinity);
    } else {
      groups.push([p]);
      endUs = p.acceptedUs ?? Infinity;
    }
  }
  return groups.map(join);
}

function join(group: ObservedPart[]): ObservedPart {
  const accepted = group.map((p) => p.acceptedUs).filter((x): x is number => x !== null);
  const acceptedUs = accepted.length === 0 ? null : Math.min(...accepted);
  const recoveryUs = createHistogram();
  const attempts = createHistogram();
  for (const p of group) {
    const shiftUs = p.acceptedUs === null || acceptedUs === null ? 0 : p.acceptedUs - acceptedUs;
    addShifted(recoveryUs, p.recoveryUs, shiftUs);
    attempts.add(p.attempts);
  }
  return {
    atUs: Math.min(...group.map((p) => p.atUs)),
    acceptedUs,
    dropped: group.reduce((a, p) => a + p.dropped, 0),
    recovered: group.reduce((a, p) => a + p.recovered, 0),
    recoveryUs,
    attempts,
  };
}

interface Iterable {
  recordedValuesIterator: {
    reset(): void;
    hasNext(): boolean;
    next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
  };
  lowestEquivalentValue(v: number): number;
}

/** Adds `from` into `into` with every value `deltaUs` later (0: an exact add; a value moved below 0 is 0). */
export function addShifted(into: Histogram, from: Histogram, deltaUs: number): void {
  if (deltaUs === 0) {
    into.add(from);
    return;
  }
  const h = from as unknown as Iterable;
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    const moved = Math.max(0, h.lowestEquivalentValue(v.valueIteratedTo) + deltaUs);
    into.recordValueWithCount(moved, v.countAtValueIteratedTo);
  }
}
