/**
 * Time as the engine sees it. One time origin across processes: the
 * coordinator picks the origin on the system-wide monotonic clock (process.hrtime, CLOCK_MONOTONIC
 * on Linux); each worker maps it onto its own cheap performance.now() once, then reads µs since the
 * origin without allocating. Timers reach the engine through `EngineClock`, so a test can drive
 * the engine's rules with a fake clock and exact expected microseconds.
 */
import { performance } from 'node:perf_hooks';

export interface RunClock {
  /** µs since the run origin (negative before it). */
  nowUs(): number;
  /** performance.now() value (ms) at the origin, for setTimeout arithmetic. */
  readonly originPerfMs: number;
}

/** An opaque timer or immediate handle. */
export type TimerHandle = object;

/**
 * The clock and timers of the engine. Callbacks take one argument so hot paths pass a shared
 * function and an object instead of allocating a closure per call.
 */
export interface EngineClock {
  /** µs since the run origin. */
  nowUs(): number;
  /** Fires `fn(arg)` after `delayMs` (at least 1 ms, like Node). */
  setTimeout<A>(fn: (arg: A) => void, delayMs: number, arg: A): TimerHandle;
  clearTimeout(h: TimerHandle): void;
  /** Fires `fn(arg)` after the current turn of the event loop. */
  setImmediate<A>(fn: (arg: A) => void, arg: A): TimerHandle;
  clearImmediate(h: TimerHandle): void;
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

/** Node's timers over a run clock. */
export function engineClock(run: Pick<RunClock, 'nowUs'>): EngineClock {
  return {
    nowUs: () => run.nowUs(),
    setTimeout: (fn, delayMs, arg) => setTimeout(fn, delayMs, arg),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    setImmediate: (fn, arg) => setImmediate(fn, arg),
    clearImmediate: (h) => clearImmediate(h as NodeJS.Immediate),
  };
}

export function monotonicNowNs(): bigint {
  return process.hrtime.bigint();
}
