/**
 * Warms the coordinator's side of a run before its origin: the merge of the workers' per-second
 * deltas (decoding their histograms, adding them) and the reading of one second's percentiles,
 * run on throwaway deltas while the workers warm their own engines. The coordinator does this work
 * once a second, so V8 finds it hot only seconds into the run: cold, it is the coordinator's CPU
 * beside the storm's first seconds, on the cores the target is measured on (docs/performance.md,
 * "Warm start"). The warm-up spends it before the origin, while the workers warm.
 */
import { Aggregate } from './aggregate.js';
import { Recorder, type MetricsDelta } from './recorder.js';

/**
 * Merges a warm-up makes. Two workers' 7,500-connect seconds merged cold took 39, 13 and 7 ms for
 * the run's first three seconds; after 4 rounds (~90 ms, most of it the first) 4, 5 and 3 ms; after
 * 12 or 20, ~2.5 ms each (Node 20, this machine).
 */
export const WARM_MERGE_ROUNDS = 6;
/** Runs smaller than this skip it: their seconds are cheap to merge cold. */
export const WARM_MERGE_MIN_DEVICES = 1_000;
/** Connects each throwaway delta records, as a worker's second of a storm does. */
const CONNECTS_PER_DELTA = 500;

/** One worker's second `t` of a storm, every cohort connecting alike (values spread over a few orders). */
function stormDelta(t: number, cohorts: readonly string[], salt: number): MetricsDelta {
  const r = new Recorder(cohorts);
  r.advance(t * 1e6, 0, 0);
  for (let i = 0; i < CONNECTS_PER_DELTA; i++) {
    const cohort = i % cohorts.length;
    const k = i * 7_919 + salt;
    r.count('started', cohort);
    r.count('succeeded', cohort);
    r.record('connect.total', 1_000 + (k % 900_000), cohort);
    r.record('connect.service', 500 + (k % 20_000));
    r.record('connect.scheduleLag', k % 800_000);
    r.record('phase.tcpConnect', 30 + (k % 9_000));
    r.record('phase.mqttConnack', 200 + (k % 12_000));
  }
  r.advance((t + 1) * 1e6, CONNECTS_PER_DELTA, 0);
  const ready = r.takeReady(); // second t is the last finished (an empty second 0 before it when t > 0)
  return ready[ready.length - 1] as MetricsDelta;
}

/**
 * Merges `workers` workers' throwaway seconds `rounds` times, reading each second as the coordinator
 * does; returns the last merge's totals (what a test checks the work was done on).
 */
export function warmMerge(
  cohorts: readonly string[],
  workers: number,
  rounds = WARM_MERGE_ROUNDS,
): { succeeded: number; seconds: number } {
  const names = cohorts.length > 0 ? cohorts : ['default'];
  const deltas: MetricsDelta[] = [];
  for (let w = 0; w < Math.max(1, workers); w++) for (let t = 0; t < 2; t++) deltas.push(stormDelta(t, names, w));
  let last = new Aggregate();
  for (let i = 0; i < rounds; i++) {
    last = new Aggregate();
    deltas.forEach((d, k) => last.add(k >> 1, d));
    last.bucketAt(0);
    last.bucketAt(1);
    last.connectedNow();
  }
  return { succeeded: last.totals.succeeded, seconds: last.timeline().length };
}
