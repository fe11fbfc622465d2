/**
 * The target watching its own host: the model (service times, admission, outages) runs on timers,
 * so when the machine cannot give the target's event loop the time the model asks for, the
 * target's answers come late by that much and the measured latencies describe the box, not the
 * modelled cloud. A drift probe records how late the loop ran; past LAG_BOUND_MS it counts.
 */
import { performance } from 'node:perf_hooks';

/** Lateness the model tolerates: well under any device timeout, well over timer granularity. */
export const LAG_BOUND_MS = 100;
const PROBE_MS = 20;

/** Plain JSON: crosses the IPC boundary to herd. */
export interface TargetLag {
  boundMs: number;
  /** The longest the target's event loop ran late (probe drift or a service ending late), ms. */
  maxMs: number;
  /** Probe ticks and service ends later than boundMs. */
  overBoundTotal: number;
}

export class LagProbe {
  private timer: NodeJS.Timeout | null = null;
  private expectedMs = 0;
  readonly lag: TargetLag = { boundMs: LAG_BOUND_MS, maxMs: 0, overBoundTotal: 0 };

  start(): void {
    this.expectedMs = performance.now() + PROBE_MS;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.record(now - this.expectedMs);
      this.expectedMs = now + PROBE_MS;
    }, PROBE_MS);
    this.timer.unref();
  }

  record(lateMs: number): void {
    if (lateMs > this.lag.maxMs) this.lag.maxMs = Math.round(lateMs);
    if (lateMs > LAG_BOUND_MS) this.lag.overBoundTotal++;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** Several processes' lag as one: the worst lateness and every count. */
export function mergeLag(all: readonly TargetLag[]): TargetLag {
  return {
    boundMs: LAG_BOUND_MS,
    maxMs: Math.max(0, ...all.map((l) => l.maxMs)),
    overBoundTotal: all.reduce((a, l) => a + l.overBoundTotal, 0),
  };
}
