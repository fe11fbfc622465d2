/**
 * The scheduler with a µs wake-up (the native core's timerfd, modelled on the fake clock): every
 * attempt starts at its intended µs, with no early wake-up and no millisecond rounding; an earlier
 * event re-arms it; stop disarms it; until the wake-up can be armed (no native core yet) the clock's
 * ms timers serve, as without one.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler, type PreciseWake, type SchedulerHost } from '../../src/engine/scheduler.js';
import { EV_RECONNECT } from '../../src/engine/event-heap.js';
import type { TimerHandle } from '../../src/util/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A precise wake-up on the fake clock, recording every arm (µs after now) and disarm. */
class FakeWake implements PreciseWake {
  readonly arms: number[] = [];
  disarms = 0;
  available = true;
  private h: TimerHandle | null = null;
  constructor(private readonly clock: FakeClock) {}
  arm(afterUs: number, fn: () => void): boolean {
    if (!this.available) return false;
    if (this.h !== null) this.clock.clearTimeout(this.h);
    this.arms.push(afterUs);
    this.h = this.clock.setTimeoutUs(
      () => {
        this.h = null;
        fn();
      },
      afterUs,
      undefined,
    );
    return true;
  }
  disarm(): void {
    this.disarms++;
    if (this.h !== null) this.clock.clearTimeout(this.h);
    this.h = null;
  }
}

function setUp(plannedUs: number[], wake: FakeWake | undefined, clock: FakeClock) {
  const opened: [string, number, number][] = [];
  const host: SchedulerHost = {
    handshaking: 0,
    planned: (slot, atUs) => {
      opened.push(['planned', slot, clock.nowUs() - atUs]);
      return true;
    },
    churn: () => {},
    event: (_kind, slot, atUs) => {
      opened.push(['event', slot, clock.nowUs() - atUs]);
      return true;
    },
  };
  const s = new Scheduler(
    {
      clock,
      slots: plannedUs.length,
      plannedAtUs: (slot) => plannedUs[slot] as number,
      churn: { slot: new Uint32Array(0), atUs: new Float64Array(0) },
      maxHandshakesInFlight: 0,
      precise: wake,
    },
    host,
  );
  return { s, opened, at: () => opened.map(([, slot]) => slot) };
}

describe('engine: scheduler with a µs wake-up', () => {
  it('starts each attempt at its intended µs: armed for the exact wait, no lag, one wake-up each', () => {
    const clock = new FakeClock();
    const wake = new FakeWake(clock);
    const { s, opened } = setUp([2_500, 2_700, 5_050], wake, clock);
    s.start();
    clock.advanceTo(10_000);
    // [kind, slot, lag µs]: every one on time.
    expect(opened).toEqual([
      ['planned', 0, 0],
      ['planned', 1, 0],
      ['planned', 2, 0],
    ]);
    expect(wake.arms).toEqual([2_500, 200, 2_350]);
    expect(clock.pending).toBe(0);
    s.stop();
  });

  it('without it, the same plan wakes on whole ms: early by up to 1 ms, then 1 ms later (the lag it removes)', () => {
    const clock = new FakeClock();
    const { s, opened } = setUp([2_500, 2_700, 5_050], undefined, clock);
    s.start();
    clock.advanceTo(10_000);
    // floor(2.5 ms) = 2 ms: nothing due, then 1 ms more → 3,000 µs (lag 500 and 300); 5,050 → 5,000 + 1 ms.
    expect(opened).toEqual([
      ['planned', 0, 500],
      ['planned', 1, 300],
      ['planned', 2, 950],
    ]);
    s.stop();
  });

  it('an earlier event re-arms it for the event; stop disarms it and leaves nothing pending', () => {
    const clock = new FakeClock();
    const wake = new FakeWake(clock);
    const { s, opened } = setUp([50_000], wake, clock);
    s.start();
    clock.advanceTo(1_000);
    s.push(4_321, 7, EV_RECONNECT);
    clock.advanceTo(20_000);
    expect(opened).toEqual([['event', 7, 0]]);
    // 50 ms from 0, then 3,321 µs from 1,000 for the event, then 45,679 µs back to the plan.
    expect(wake.arms).toEqual([50_000, 3_321, 45_679]);
    s.stop();
    expect(wake.disarms).toBeGreaterThanOrEqual(1);
    expect(clock.pending).toBe(0);
    clock.advanceTo(100_000);
    expect(opened).toHaveLength(1); // the planned attempt never starts after stop
  });

  it('while it cannot be armed (no native core yet), the clock’s ms timer serves; once it can, it is used', () => {
    const clock = new FakeClock();
    const wake = new FakeWake(clock);
    wake.available = false;
    const { s, opened } = setUp([1_500, 3_200], wake, clock);
    s.start();
    clock.advanceTo(1_999);
    expect(opened).toEqual([]); // floor(1.5 ms) = 1 ms: woke early at 1,000, re-armed for 1 ms more
    wake.available = true;
    clock.advanceTo(10_000);
    expect(opened).toEqual([
      ['planned', 0, 500],
      ['planned', 1, 0],
    ]);
    expect(wake.arms).toEqual([1_200]);
    s.stop();
  });
});
