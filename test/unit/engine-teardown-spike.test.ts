/**
 * Issue 22: a spike planned exactly at teardown is part of the run. On the fake clock the teardown
 * tick (armed at 2.0 s for 2.4 s) fires before the scheduler's timer for the spike (armed at 2.2 s
 * for 2.4 s); the spike used to be counted as dropped — and the run as harness-limited.
 */
import { describe, expect, it } from 'vitest';
import { startEngine } from '../helpers/engine.js';

describe("engine: an attempt intended at the run's last instant", () => {
  it('is started at exactly 2.4 s, not dropped, when teardown is due at the same instant', async () => {
    const e = startEngine({
      devices: 2,
      waves: [
        { type: 'spike', at: '2200ms', devices: 1 },
        { type: 'spike', at: '2400ms' },
      ],
      duration: '2400ms',
    });
    e.to(20e6);
    await e.end;
    expect(e.opened.map((o) => o.map((d) => d.socketOpenUs))).toEqual([[2_200_000], [2_400_000]]);
    expect(e.counter('dropped')).toBe(0);
    expect(e.counter('started')).toBe(2);
    expect(e.clock.pending).toBe(0);
  });

  it('the handshake cap still applies: with the cap full, the attempt at teardown is dropped', async () => {
    // The first device's handshake never completes; with at most one in flight the second cannot start.
    const e = startEngine(
      {
        devices: 2,
        waves: [
          { type: 'spike', at: '2200ms', devices: 1 },
          { type: 'spike', at: '2400ms' },
        ],
        duration: '2400ms',
      },
      { handshakeUs: () => null, pingAnswerUs: () => null, closeUs: 1_000 },
      { maxHandshakesInFlight: 1 },
    );
    e.to(30e6);
    await e.end;
    expect(e.opened.map((o) => o.length)).toEqual([1, 0]);
    expect(e.counter('dropped')).toBe(1);
  });
});
