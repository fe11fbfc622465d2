/**
 * The keepalive rule when herd's own worker stalls (docs/metrics.md, "Keepalive"), on a fake clock
 * with exact µs. A stall is the fake clock's `stallTo`: time jumps, then one loop turn runs in
 * Node's order (timers, then the I/O that arrived meanwhile, then immediates). An answer that
 * reached the socket during the stall still answers the PINGREQ; a sweep that catches up on
 * several missed turns sends one PINGREQ and judges it no sooner than K later; a target that really
 * went silent is still declared dead.
 */
import { describe, expect, it } from 'vitest';
import { startEngine, type FakeTarget } from '../helpers/engine.js';

const ANSWERS: FakeTarget = { handshakeUs: () => 0, pingAnswerUs: () => 5_000, closeUs: 1_000 };
const SILENT: FakeTarget = { handshakeUs: () => 0, pingAnswerUs: () => null, closeUs: 1_000 };

/** One device, connected at 0 s, keepalive 5 s: its turns are at 1 s, 6 s, 11 s … (slot 0's spread is 0). */
const ONE = (extra: object = {}): object => ({
  devices: 1,
  device: { keepalive: '5s' },
  reconnect: { policy: 'none' },
  waves: [{ type: 'spike' }],
  hold: '30s',
  ...extra,
});

describe('engine: keepalive across a stall of herd’s worker', () => {
  it('the PINGRESP arrived during the stall: read before the judgement, no KEEPALIVE_TIMEOUT', async () => {
    const e = startEngine(ONE(), ANSWERS);
    e.to(6_000_000); // the PINGREQ of 6.0 s is out; its answer reaches the socket at 6.005 s
    const d = e.opened[0]?.[0];
    expect(d?.pings).toEqual([1_000_000, 6_000_000]);
    // Busy until 11.5 s: the turn of 11 s comes up before the loop reads the answer of 6.005 s.
    e.clock.stallTo(11_500_000);
    expect(d?.state).toBe('connected');
    // Answered, so the turn of 11 s sends the next PINGREQ (at 11.5 s); the turns keep their cadence.
    expect(d?.pings).toEqual([1_000_000, 6_000_000, 11_500_000]);
    e.to(40e6);
    await e.end;
    expect(d?.pings).toEqual([1_000_000, 6_000_000, 11_500_000, 16_000_000, 21_000_000, 26_000_000]);
    expect(e.errors()).toEqual({});
    expect(e.clock.pending).toBe(0);
  });

  it('a stall past two turns: one PINGREQ when it ends, judged no sooner than K later', async () => {
    const e = startEngine(ONE(), ANSWERS);
    e.to(1_500_000); // the PINGREQ of 1.0 s was answered at 1.005 s
    // Busy until 12.5 s: the turns of 6 s and 11 s are both due at once.
    e.clock.stallTo(12_500_000);
    const d = e.opened[0]?.[0];
    expect(d?.state).toBe('connected');
    expect(d?.pings).toEqual([1_000_000, 12_500_000]);
    e.to(40e6);
    await e.end;
    // The turn of 11 s, in the same sweep, finds that PINGREQ 0 µs old: its turn is 18 s (the first
    // whole second K after it), where it is found answered; then every 5 s.
    expect(d?.pings).toEqual([1_000_000, 12_500_000, 18_000_000, 23_000_000, 28_000_000]);
    expect(e.errors()).toEqual({});
  });

  it('a silent target is still declared dead after a stall, at the first turn once the loop has read', async () => {
    const e = startEngine(ONE(), SILENT);
    e.to(1_500_000); // the PINGREQ of 1.0 s is out and never answered
    e.clock.stallTo(9_250_000); // the turn of 6 s is played at 9.25 s: nothing came, so dead there
    const d = e.opened[0]?.[0];
    expect(d?.pings).toEqual([1_000_000]);
    expect(d?.lostAtUs).toBe(9_250_000);
    expect(d?.lostWith).toEqual({ origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT' });
    e.to(40e6);
    await e.end;
    expect(e.errors()).toEqual({ 'network|held|KEEPALIVE_TIMEOUT': 1 });
  });

  it('a PINGREQ sent late in a stall is judged K after it, not in the same sweep', async () => {
    const e = startEngine(ONE(), SILENT);
    e.to(500_000);
    // Busy until 7.2 s: the turn of 1 s sends the first PINGREQ at 7.2 s; the turn of 6 s is in the
    // same sweep but must not judge a PINGREQ 0 µs old: its turn is 13 s (the first whole second K
    // after it), dead there.
    e.clock.stallTo(7_200_000);
    const d = e.opened[0]?.[0];
    expect(d?.pings).toEqual([7_200_000]);
    expect(d?.state).toBe('connected');
    e.to(12_999_999);
    expect(d?.state).toBe('connected');
    e.to(13_000_000);
    expect(d?.lostAtUs).toBe(13_000_000);
    e.to(40e6);
    await e.end;
    expect(e.errors()).toEqual({ 'network|held|KEEPALIVE_TIMEOUT': 1 });
  });

  it('turns played late every second (a busy worker) keep the PINGREQs K apart, as the broker expects', async () => {
    // The broker drops a client silent for 1.5·K: a late turn must not push the next one back.
    const e = startEngine(ONE({ device: { keepalive: '4s' }, hold: '19s' }), ANSWERS);
    for (let s = 1; s <= 18; s++) {
      e.to(s * 1e6 - 1);
      e.clock.stallTo(s * 1e6 + 300_000); // every tick 300 ms late
    }
    e.to(40e6);
    await e.end;
    expect(e.opened[0]?.[0]?.pings).toEqual([1_300_000, 5_300_000, 9_300_000, 13_300_000, 17_300_000]);
    expect(e.errors()).toEqual({});
  });

  describe('a reader that reads a bounded number of socket events per loop turn (the native core)', () => {
    // Three devices, K = 1 s: all connect at 0 s and ping at 1.0 s (answers reach the sockets at
    // 1.005 s). Busy from 1.001 s to 3.5 s; then two answers are read per turn.
    const THREE = {
      devices: 3,
      device: { keepalive: '1s' },
      reconnect: { policy: 'none' },
      waves: [{ type: 'spike' }],
    };

    it('the judgement waits until the transport has read everything: no KEEPALIVE_TIMEOUT', async () => {
      const e = startEngine({ ...THREE, hold: '6s' }, ANSWERS, { socketsBehind: (clock) => clock.unread });
      e.to(1_001_000);
      e.clock.stallTo(3_500_000, 2);
      const all = e.opened.map((s) => s[0]);
      expect(all.map((d) => d?.state)).toEqual(['connected', 'connected', 'connected']);
      // The turn of 2 s, played at 3.5 s, pings again once all three answers were read; then the
      // turns of 4 s and 5 s (the plan ends at 6 s: teardown, no turn).
      expect(all.map((d) => d?.pings)).toEqual(Array(3).fill([1e6, 3_500_000]));
      e.to(20e6);
      await e.end;
      expect(all.map((d) => d?.pings)).toEqual(Array(3).fill([1e6, 3_500_000, 4e6, 5e6]));
      expect(e.errors()).toEqual({});
    });

    it('without the transport’s word the third answer, unread, would be taken for silence', async () => {
      const e = startEngine({ ...THREE, hold: '6s' }, ANSWERS);
      e.to(1_001_000);
      e.clock.stallTo(3_500_000, 2);
      expect(e.opened.map((s) => s[0]?.lostAtUs)).toEqual([NaN, NaN, 3_500_000]);
      e.to(20e6);
      await e.end;
      expect(e.errors()).toEqual({ 'network|held|KEEPALIVE_TIMEOUT': 1 });
    });
  });
});
