/**
 * One time origin across processes (MEASUREMENT.md rule 9). The coordinator picks the origin on
 * the system-wide monotonic clock (process.hrtime, CLOCK_MONOTONIC on Linux); each worker maps it
 * onto its own cheap performance.now() once, then reads µs since the origin without allocating.
 */
import { performance } from 'node:perf_hooks';

export interface RunClock {
  /** µs since the run origin (negative before it). */
  nowUs(): number;
  /** performance.now() value (ms) at the origin, for setTimeout arithmetic. */
  readonly originPerfMs: number;
}

export function clockFromOrigin(originNs: bigint): RunClock {
  const hr = process.hrtime.bigint();
  const perf = performance.now();
  const originPerfMs = perf - Number(hr - originNs) / 1e6;
  return {
    originPerfMs,
    nowUs: () => (performance.now() - originPerfMs) * 1000,
  };
}

export function monotonicNowNs(): bigint {
  return process.hrtime.bigint();
}
