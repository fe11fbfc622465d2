/**
 * The scheduler's rules on a fake clock, with exact expected µs: attempts start at their intended
 * time (open model), the handshake cap holds attempts back (the wait shows as schedule lag), and
 * an attempt not started within connectTimeout of its intended time is dropped, never started late.
 * A batch of handshakes that ended together (the native core's) frees the cap in the same turn.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler, type SchedulerHost } from '../../src/engine/scheduler.js';
import { startEngine, type FakeTarget } from '../helpers/engine.js';
import { FakeClock } from '../helpers/fake-clock.js';

const opens = (e: ReturnType<typeof startEngine>): number[] => e.opened.flatMap((l) => l.map((d) => d.socketOpenUs));

describe('engine: scheduler', () => {
  it('starts every attempt at its intended time: ramp of 10 over 1 s → one every 100 ms from 0', async () => {
    const e = startEngine({ devices: 10, waves: [{ type: 'ramp', over: '1s' }], hold: '2s' });
    e.to(5e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    expect(opens(e)).toEqual([0, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000, 700_000, 800_000, 900_000]);
    expect(e.opened.map((l) => l[0]?.readyUs)).toEqual([
      10_000, 110_000, 210_000, 310_000, 410_000, 510_000, 610_000, 710_000, 810_000, 910_000,
    ]);
    expect(e.counter('started')).toBe(10);
    expect(e.counter('succeeded')).toBe(10);
    expect(e.clock.pending).toBe(0);
  });

  it('the handshake cap admits the next attempts only as handshakes finish', async () => {
    // 6 at once, at most 2 in flight, 10 ms each: pairs at 0, 10 ms and 20 ms.
    const e = startEngine({ devices: 6, waves: [{ type: 'spike' }], hold: '1s' }, undefined, {
      maxHandshakesInFlight: 2,
    });
    e.to(3e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    expect(opens(e)).toEqual([0, 0, 10_000, 10_000, 20_000, 20_000]);
    expect(e.deltas[0]?.peakHandshaking).toBe(2);
  });

  it('at the cap, a handshake ending starts the next attempt at once, not at the next 1 ms re-poll', async () => {
    // 10.4 ms handshakes end between two re-polls: the next pair opens at 10.4 ms, not 11 ms.
    const odd: FakeTarget = { handshakeUs: () => 10_400, pingAnswerUs: () => 1_000, closeUs: 1_000 };
    const e = startEngine({ devices: 6, waves: [{ type: 'spike' }], hold: '1s' }, odd, { maxHandshakesInFlight: 2 });
    e.to(3e6);
    await e.end;
    expect(e.clock.pending).toBe(0);
    expect(opens(e)).toEqual([0, 0, 10_400, 10_400, 20_800, 20_800]);
    expect(e.deltas[0]?.peakHandshaking).toBe(2);
  });

  it('late-drop: an attempt that cannot start within connectTimeout of its intended time is dropped', async () => {
    // Cap 1, 600 ms handshakes, connectTimeout 1 s: the second starts 600 ms late (allowed),
    // the third would start 1.2 s late at 1.2 s → dropped, never opened.
    const slow: FakeTarget = { handshakeUs: () => 600_000, pingAnswerUs: () => 1_000, closeUs: 1_000 };
    const e = startEngine(
      { devices: 3, device: { connectTimeout: '1s' }, waves: [{ type: 'spike' }], hold: '3s' },
      slow,
      { maxHandshakesInFlight: 1 },
    );
    e.to(1_199_999);
    expect(e.counter('dropped')).toBe(0);
    e.to(6e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    expect(opens(e)).toEqual([0, 600_000]);
    expect(e.opened[2]).toEqual([]);
    expect(e.counter('started')).toBe(2);
    expect(e.counter('dropped')).toBe(1);
    // The drop is counted in the second it happened (1.2 s → second 1).
    expect(e.deltas.find((d) => d.counters.dropped > 0)?.t).toBe(1);
  });

  it('a batch of ended handshakes frees the cap in its own turn: the next attempts open before any immediate', () => {
    // 5 intended at 0, cap 2: two open at once; both end in one batch at 7 ms.
    const clock = new FakeClock();
    const opened: [number, number][] = [];
    let handshaking = 0;
    const host: SchedulerHost = {
      get handshaking() {
        return handshaking;
      },
      planned: (slot) => {
        opened.push([slot, clock.nowUs()]);
        handshaking++;
        return true;
      },
      churn: () => {},
      event: () => false,
    };
    const s = new Scheduler(
      {
        clock,
        slots: 5,
        plannedAtUs: () => 0,
        churn: { slot: new Uint32Array(0), atUs: new Float64Array(0) },
        maxHandshakesInFlight: 2,
      },
      host,
    );
    s.start();
    clock.advanceTo(0);
    expect(opened).toEqual([
      [0, 0],
      [1, 0],
    ]);
    clock.advanceTo(7_000);
    handshaking -= 2;
    s.handshakeEnded();
    s.handshakeEnded();
    expect(clock.pending).toBe(1); // the drain the first one asked for, due on the next turn
    s.batchEnded();
    expect(opened.slice(2)).toEqual([
      [2, 7_000],
      [3, 7_000],
    ]);
    expect(clock.pending).toBe(0); // capped again: nothing waits but the next handshake's end
    s.batchEnded(); // no drain asked for: nothing opens
    expect(opened).toHaveLength(4);
    s.stop();
  });
});
