import { describe, expect, it } from 'vitest';
import { reconnectDelayUs } from '../../src/engine/reconnect.js';
import { EventHeap, EV_RECONNECT, EV_OUTAGE } from '../../src/engine/event-heap.js';
import type { ResolvedReconnect } from '../../src/results/resolved-scenario.js';

const half = (): number => 0.5;
const exp = (
  jitter: 'none' | 'full' | 'equal' | 'decorrelated',
  maxAttempts: number | null = null,
): ResolvedReconnect => ({
  policy: 'exponential',
  initialUs: 1_000_000,
  multiplier: 2,
  maxUs: 30_000_000,
  jitter,
  maxAttempts,
});

describe('reconnect policies', () => {
  it('none never reconnects', () => {
    expect(reconnectDelayUs({ policy: 'none' }, 0, 0, half)).toBeNull();
  });

  it('fixed waits the same delay every time', () => {
    const p: ResolvedReconnect = { policy: 'fixed', delayUs: 1_000_000, jitter: 'none', maxAttempts: null };
    expect([0, 1, 5, 50].map((a) => reconnectDelayUs(p, a, 0, half))).toEqual([1e6, 1e6, 1e6, 1e6]);
  });

  it('linear grows by its step up to the cap', () => {
    const p: ResolvedReconnect = {
      policy: 'linear',
      initialUs: 1e6,
      stepUs: 2e6,
      maxUs: 6e6,
      jitter: 'none',
      maxAttempts: null,
    };
    expect([0, 1, 2, 3].map((a) => reconnectDelayUs(p, a, 0, half))).toEqual([1e6, 3e6, 5e6, 6e6]);
  });

  it('exponential doubles up to the cap, with each jitter as defined', () => {
    expect([0, 1, 2, 5, 10].map((a) => reconnectDelayUs(exp('none'), a, 0, half))).toEqual([1e6, 2e6, 4e6, 30e6, 30e6]);
    expect([0, 1, 2].map((a) => reconnectDelayUs(exp('full'), a, 0, half))).toEqual([500_000, 1e6, 2e6]);
    expect([0, 1, 2].map((a) => reconnectDelayUs(exp('equal'), a, 0, half))).toEqual([750_000, 1.5e6, 3e6]);
    // decorrelated: min(cap, initial + U · (3 × previous − initial))
    expect(reconnectDelayUs(exp('decorrelated'), 0, 0, half)).toBe(2e6);
    expect(reconnectDelayUs(exp('decorrelated'), 1, 2e6, half)).toBe(3.5e6);
    expect(reconnectDelayUs(exp('decorrelated'), 9, 25e6, half)).toBe(30e6);
  });

  it('gives up after maxAttempts consecutive failures', () => {
    expect(reconnectDelayUs(exp('none', 3), 2, 0, half)).toBe(4e6);
    expect(reconnectDelayUs(exp('none', 3), 3, 0, half)).toBeNull();
  });
});

describe('event heap', () => {
  it('pops events in time order and drains one kind', () => {
    const h = new EventHeap();
    const times = [50, 10, 40, 10, 30, 20, 60];
    times.forEach((t, i) => h.push(t, i, i === 6 ? EV_OUTAGE : EV_RECONNECT));
    expect(h.drain(EV_OUTAGE)).toBe(1);
    const order: number[] = [];
    let last = -Infinity;
    while (h.size > 0) {
      const at = h.peekAt();
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
      order.push(h.pop()[0]);
    }
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(h.peekAt()).toBe(Infinity);
  });
});
