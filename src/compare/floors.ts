/**
 * Absolute noise floors of `herd compare` (pure): the smallest change that can be told from noise,
 * per kind of metric. docs/reports.md explains each number; bench/compare-noise.js is how they
 * were checked (identical quickstart runs give no regression, a 1→3 ms handshake cost always does).
 */
import { SIGNIFICANT_DIGITS } from '../metrics/histogram.js';

/**
 * Run-to-run noise of a latency percentile between identical quickstart runs on a shared 2-core
 * machine, with margin. Percentiles further out rest on fewer samples and on whichever seconds
 * the machine was busy, so their floor is higher.
 */
export const LATENCY_NOISE_FLOOR_US: Readonly<Record<'p50' | 'p90' | 'p99' | 'max', number>> = {
  p50: 250,
  p90: 1_000,
  p99: 5_000,
  max: 50_000,
};

/** Recovery times rest on reconnect timers of hundreds of milliseconds and their jitter. */
export const RECOVERY_NOISE_FLOOR_US = 250_000;

/** A share that moved less than 0.1 percentage points is not reported, however significant. */
export const SHARE_NOISE_FLOOR = 0.001;

/**
 * A percentile is judged only when each side has at least this many samples beyond it: a p99 of
 * 1,000 samples rests on its 10 slowest, which one stalled second of a shared machine decides.
 */
export const MIN_TAIL_SAMPLES = 20;

/** Each side's value may sit anywhere in its HDR bucket: ±10^-3 of the value at 3 significant digits. */
export function precisionFloorUs(...valuesUs: number[]): number {
  const top = Math.max(0, ...valuesUs.filter((v) => Number.isFinite(v)).map(Math.abs));
  return Math.max(1, Math.ceil((2 * top) / 10 ** SIGNIFICANT_DIGITS));
}

export interface Floor {
  amount: number;
  /** Which floor won, e.g. "noise floor of p90", "harness schedule lag p90", "spread of the base runs". */
  why: string;
}

/** The largest of the candidate floors (those that are null do not apply). */
export function largestFloor(candidates: readonly (Floor | null)[]): Floor {
  let best: Floor = { amount: 0, why: 'none' };
  for (const c of candidates) if (c !== null && c.amount > best.amount) best = c;
  return best;
}

/** The static floor of a metric by its kind and aggregation ("p90", "max", "p100"…). */
export function staticFloor(unit: 'us' | 'ratio' | 'count', aggregation: string, recovery: boolean): Floor | null {
  if (unit === 'ratio') return { amount: SHARE_NOISE_FLOOR, why: 'share noise floor' };
  if (unit !== 'us') return null;
  if (recovery) return { amount: RECOVERY_NOISE_FLOOR_US, why: 'recovery noise floor' };
  const key = aggregation === 'p100' ? 'max' : aggregation;
  const amount = LATENCY_NOISE_FLOOR_US[key as keyof typeof LATENCY_NOISE_FLOOR_US];
  return amount === undefined ? null : { amount, why: `${key} noise floor` };
}
