/**
 * The embedded target's CONNECT service time is a single-server queue on its own clock: exact
 * completion times with the fake clock, the same whatever CPU the machine has, and work done for
 * devices that gave up still occupies the server.
 */
import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/target/admission.js';
import { ServiceQueue } from '../../src/target/service.js';
import { FakeClock } from '../helpers/fake-clock.js';

function timersOn(clock: FakeClock): { nowMs(): number; after(ms: number, fn: () => void): () => void } {
  return {
    nowMs: () => clock.nowUs() / 1000,
    after: (ms, fn) => {
      const h = clock.setTimeout(fn, ms, undefined);
      return () => clock.clearTimeout(h);
    },
  };
}

describe('ServiceQueue (modelled handshakeCostMs)', () => {
  it('serves one CONNECT at a time, costMs each, in arrival order', () => {
    const clock = new FakeClock();
    const q = new ServiceQueue(6, false, timersOn(clock));
    const doneAtUs: number[] = [];
    for (let i = 0; i < 4; i++) q.submit(() => doneAtUs.push(clock.nowUs()));
    expect(q.waiting).toBe(4);
    expect(q.backlogMs()).toBe(24);
    clock.advanceTo(100_000);
    expect(doneAtUs).toEqual([6_000, 12_000, 18_000, 24_000]);
    expect(q.waiting).toBe(0);
  });

  it('an idle server starts at once; a later arrival waits only for work still ahead of it', () => {
    const clock = new FakeClock();
    const q = new ServiceQueue(6, false, timersOn(clock));
    const doneAtUs: number[] = [];
    q.submit(() => doneAtUs.push(clock.nowUs()));
    clock.advanceTo(4_000);
    q.submit(() => doneAtUs.push(clock.nowUs()));
    clock.advanceTo(50_000);
    q.submit(() => doneAtUs.push(clock.nowUs()));
    clock.advanceTo(100_000);
    expect(doneAtUs).toEqual([6_000, 12_000, 56_000]);
  });

  it('spends its time on a CONNECT whose device already gave up: the next one still waits for it', () => {
    const clock = new FakeClock();
    const q = new ServiceQueue(6, false, timersOn(clock));
    const served: string[] = [];
    let goneAlive = true;
    q.submit(() => served.push(goneAlive ? 'gone:answered' : `gone:dropped@${clock.nowUs()}`));
    goneAlive = false;
    q.submit(() => served.push(`next@${clock.nowUs()}`));
    clock.advanceTo(20_000);
    expect(served).toEqual(['gone:dropped@6000', 'next@12000']);
  });

  it('behind admission: 120/s admitted, and each admitted CONNECT served 6 ms after the one before', () => {
    const clock = new FakeClock();
    const timers = timersOn(clock);
    const admission = new Admission({ ratePerS: 120, burst: 2, queue: 0, queueTimeoutMs: 1_000 }, timers);
    const q = new ServiceQueue(6, false, timers);
    const outcome: string[] = [];
    for (let i = 0; i < 4; i++) {
      admission.request({
        alive: () => true,
        admit: () => q.submit(() => outcome.push(`${i}:served@${clock.nowUs()}`)),
        shed: (reason) => outcome.push(`${i}:${reason}@${clock.nowUs()}`),
      });
    }
    clock.advanceTo(50_000);
    expect(outcome).toEqual(['2:rate_exceeded@0', '3:rate_exceeded@0', '0:served@6000', '1:served@12000']);
  });

  it('tells how late each service ended when the host runs its timers late', () => {
    const clock = new FakeClock();
    const late: number[] = [];
    // A host that runs every timer 50 ms after it was due: both services end in one go at 56 ms.
    const slowHost = {
      nowMs: () => clock.nowUs() / 1000,
      after: (ms: number, fn: () => void) => {
        const h = clock.setTimeout(fn, ms + 50, undefined);
        return () => clock.clearTimeout(h);
      },
    };
    const q = new ServiceQueue(6, false, slowHost, (ms) => late.push(ms));
    const doneAtUs: number[] = [];
    q.submit(() => doneAtUs.push(clock.nowUs()));
    q.submit(() => doneAtUs.push(clock.nowUs()));
    clock.advanceTo(200_000);
    expect(doneAtUs).toEqual([56_000, 56_000]);
    expect(late).toEqual([50, 44]);
  });

  it('handshakeBurnsCpu: the busy loop runs the service at once, on the event loop', () => {
    const clock = new FakeClock();
    const q = new ServiceQueue(1, true, timersOn(clock));
    let served = false;
    q.submit(() => {
      served = true;
    });
    expect(served).toBe(true);
    expect(clock.pending).toBe(0);
  });
});
