/**
 * The CONNECT service time of the embedded target as a model on its own clock: one server that is
 * busy for `costMs` per admitted CONNECT / upgrade, taking them in arrival order (an M/D/1-style
 * single-server queue). No CPU is burned: the server's "busy until" is a number and a timer ends
 * each service, so the target's capacity (1000 / costMs per second per process) is the same on 2
 * busy cores as on 16 idle ones. Work started is finished even for a device that has already given
 * up, as a real overloaded server does: its place in the queue is spent either way.
 *
 * `burnCpu: true` keeps the old behaviour (a busy loop of costMs on the event loop), whose capacity
 * is whatever CPU the machine leaves the target. Pure except for the injected clock and timer.
 */
import { performance } from 'node:perf_hooks';

export interface ServiceTimers {
  nowMs(): number;
  /** Schedules fn after ms; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

interface Job {
  doneAtMs: number;
  fn: () => void;
}

/** Synchronous CPU work standing in for an expensive connect path (the `burnCpu` option). */
export function burnCpu(ms: number): void {
  if (ms <= 0) return;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: the point is to hold the event loop, as the real code did
  }
}

export class ServiceQueue {
  private readonly jobs: Job[] = [];
  private head = 0;
  private busyUntilMs = 0;
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly costMs: number,
    private readonly burn: boolean,
    private readonly timers: ServiceTimers,
    /** Told how much later than modelled each service ended (the host could not run the timer in time). */
    private readonly onEnd: (lateMs: number) => void = () => {},
  ) {}

  /** CONNECTs admitted and not yet served (waiting or in service). */
  get waiting(): number {
    return this.jobs.length - this.head;
  }

  /** How long a CONNECT submitted now would wait before its service starts, in ms. */
  backlogMs(): number {
    return Math.max(0, this.busyUntilMs - this.timers.nowMs());
  }

  /** Runs `fn` once the server has spent costMs on this CONNECT, after every one submitted before it. */
  submit(fn: () => void): void {
    if (this.costMs <= 0) return fn();
    if (this.burn) {
      burnCpu(this.costMs);
      return fn();
    }
    const now = this.timers.nowMs();
    this.busyUntilMs = Math.max(now, this.busyUntilMs) + this.costMs;
    this.jobs.push({ doneAtMs: this.busyUntilMs, fn });
    this.arm(now);
  }

  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.jobs.length = 0;
    this.head = 0;
  }

  private arm(now: number): void {
    if (this.cancelTimer !== null || this.waiting === 0) return;
    const next = (this.jobs[this.head] as Job).doneAtMs;
    this.cancelTimer = this.timers.after(Math.max(0, next - now), () => {
      this.cancelTimer = null;
      this.finishDue();
    });
  }

  private finishDue(): void {
    const now = this.timers.nowMs();
    while (this.waiting > 0) {
      const job = this.jobs[this.head] as Job;
      if (job.doneAtMs > now) break;
      this.head++;
      this.onEnd(now - job.doneAtMs);
      job.fn();
    }
    if (this.head > 1024 && this.head * 2 > this.jobs.length) {
      this.jobs.splice(0, this.head);
      this.head = 0;
    }
    this.arm(now);
  }
}
