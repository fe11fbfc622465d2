/**
 * The target watching its own host: the model (service times, admission, outages) runs on timers,
 * so when the machine cannot give the target's event loop the time the model asks for, the
 * target's answers come late by that much and the measured latencies describe the box, not the
 * modelled cloud. A drift probe records how late the loop ran (past LAG_BOUND_MS it counts), and
 * event-loop utilisation per second counts the seconds the loop was nearly always busy: the model
 * itself costs nothing, so a busy loop means the socket work alone outran the CPU the host gave.
 *
 * Once the run's measured span is known (measure(): origin to the plan's end), only lateness inside
 * it counts: before the origin no device has asked anything, and after the end the devices are
 * closing (no answer is measured), so a loop that ran late then slowed no figure herd reports —
 * the teardown of 1,000 sessions once marked a quiet 100 connects/s run as slowed by the machine.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Lateness the model tolerates: well under any device timeout, well over timer granularity. */
export const LAG_BOUND_MS = 100;
const PROBE_MS = 20;
/** A second with the event loop busier than this did not get the CPU its I/O needed. */
export const BUSY_SHARE = 0.9;
const BUSY_WINDOW_MS = 1_000;

/** Plain JSON: crosses the IPC boundary to herd. */
export interface TargetLag {
  boundMs: number;
  /** The longest the target's event loop ran late (probe drift or a service ending late), ms. */
  maxMs: number;
  /** Probe ticks and service ends later than boundMs. */
  overBoundTotal: number;
  /** Seconds the event loop was busier than BUSY_SHARE. */
  busySeconds: number;
}

export class LagProbe {
  private timer: NodeJS.Timeout | null = null;
  private expectedMs = 0;
  private windowStartMs = 0;
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  /** The measured span in this process's performance.now() ms; until measure(), everything counts. */
  private fromMs = -Infinity;
  private untilMs = Infinity;
  readonly lag: TargetLag = { boundMs: LAG_BOUND_MS, maxMs: 0, overBoundTotal: 0, busySeconds: 0 };

  /** `nowMs`: this process's performance.now() (a test's own clock). */
  constructor(private readonly nowMs: () => number = () => performance.now()) {}

  /** From now on, lateness counts only from `fromMs` to `untilMs` (performance.now() ms). */
  measure(fromMs: number, untilMs: number): void {
    this.fromMs = fromMs;
    this.untilMs = untilMs;
  }

  /** The part of the span [fromMs, toMs] inside the measured one, ms. */
  private measuredPart(fromMs: number, toMs: number): number {
    return Math.max(0, Math.min(toMs, this.untilMs) - Math.max(fromMs, this.fromMs));
  }

  start(): void {
    this.expectedMs = performance.now() + PROBE_MS;
    this.windowStartMs = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.record(now - this.expectedMs);
      this.expectedMs = now + PROBE_MS;
      if (now - this.windowStartMs >= BUSY_WINDOW_MS) {
        const u = performance.eventLoopUtilization(this.elu);
        this.elu = performance.eventLoopUtilization();
        // A busy second counts when most of it lies inside the measured span.
        const inside = this.measuredPart(this.windowStartMs, now) * 2 > now - this.windowStartMs;
        this.windowStartMs = now;
        if (u.utilization > BUSY_SHARE && inside) this.lag.busySeconds++;
      }
    }, PROBE_MS);
    this.timer.unref();
  }

  /**
   * The loop (or a service ending) ran `lateMs` late, noticed now: late over [now − lateMs, now], of
   * which only the part inside the measured span counts.
   */
  record(lateMs: number): void {
    const now = this.nowMs();
    const late = this.measuredPart(now - Math.max(0, lateMs), now);
    if (late > this.lag.maxMs) this.lag.maxMs = Math.round(late);
    if (late > LAG_BOUND_MS) this.lag.overBoundTotal++;
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
    busySeconds: Math.max(0, ...all.map((l) => l.busySeconds)),
  };
}
