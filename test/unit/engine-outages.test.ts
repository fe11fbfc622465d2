/**
 * The outage player on a fake clock with exact µs: a device-side reset outage (offline attempts
 * until the window ends, recovery from its end), a device-side silent outage found by keepalive
 * alone, and a target-side outage joined by the sessions it broke — during the window, or found
 * dead by keepalive after an unanswered PINGREQ sent inside it — and not by a later loss.
 */
import { describe, expect, it } from 'vitest';
import type { Failure } from '../../src/protocols/classify.js';
import { createHistogram, decodeHistogram } from '../../src/metrics/histogram.js';
import type { MetricsDelta } from '../../src/metrics/recorder.js';
import { startEngine, type FakeTarget } from '../helpers/engine.js';

const RESET: Failure = { origin: 'network', phase: 'held', code: 'ECONNRESET' };

/** An outage's totals over every delta; recoveryUs lists each delta's recovery min and max. */
function outage(deltas: MetricsDelta[], i: number): { dropped: number; recovered: number; recoveryUs: number[] } {
  let dropped = 0;
  let recovered = 0;
  const recoveryUs: number[] = [];
  for (const d of deltas) {
    const o = d.outages[String(i)];
    if (!o) continue;
    dropped += o.dropped;
    recovered += o.recovered;
    if (o.recoveryUs) {
      const h = decodeHistogram(o.recoveryUs);
      if (h.totalCount > 0) recoveryUs.push(h.minNonZeroValue, h.maxValue);
    }
  }
  return { dropped, recovered, recoveryUs };
}

/** Every hit device's attempts for outage `i`, over every delta, as [count, p50, max]. */
function attemptsPerDevice(deltas: MetricsDelta[], i: number): [number, number, number] {
  const h = createHistogram();
  for (const d of deltas) {
    const enc = d.outages[String(i)]?.attempts;
    if (enc) h.add(decodeHistogram(enc));
  }
  return [h.totalCount, h.getValueAtPercentile(50), h.maxValue];
}

describe('engine: outage player', () => {
  it('a device still retrying when the run ends counts in attempts per device with its attempts so far', async () => {
    // Slot 2 never gets a CONNACK after the outage; slots 0 and 1 come back at their first attempt.
    const target: FakeTarget = {
      handshakeUs: (slot, attempt) => (slot === 2 && attempt > 0 ? null : 10_000),
      pingAnswerUs: () => 5_000,
      closeUs: 1_000,
    };
    const e = startEngine(
      {
        devices: 3,
        device: { keepalive: '30s', connectTimeout: '1s' },
        reconnect: { policy: 'fixed', delay: '500ms', jitter: 'none' },
        waves: [{ type: 'spike' }, { type: 'outage', at: '5s', offline: '2s', mode: 'reset' }],
        hold: '5s',
      },
      target,
    );
    e.to(20e6);
    await e.end;
    expect(e.clock.pending).toBe(0);
    // Slot 2 opens at 7.0 s, times out at 8.0 s, retries 500 ms later: 8.5, 10.0 and 11.5 s — four
    // real attempts when teardown comes at 12 s, and never back.
    expect(e.opened[2]?.map((d) => d.socketOpenUs)).toEqual([0, 7_000_000, 8_500_000, 10_000_000, 11_500_000]);
    expect(outage(e.deltas, 0)).toMatchObject({ dropped: 3, recovered: 2 });
    // Three hit devices in the sample: 1, 1 and 4 (not only the two that came back, max 1).
    expect(attemptsPerDevice(e.deltas, 0)).toEqual([3, 1, 4]);
  });

  it('a device hit again by a later outage before it was back is the earlier one’s interrupted, the later one’s back', async () => {
    // Outage 0 (5 s, 2 s offline) hits all 4; each retries 3 s after its reset, at 8 s. Outage 1
    // (7.5 s, 1 s offline, half the fleet) hits 2 of them again first: their 8 s attempt finds no
    // network and they are back at 11 s, for outage 1. The other 2 are back at 8 s, for outage 0.
    const e = startEngine({
      devices: 4,
      device: { keepalive: '30s' },
      reconnect: { policy: 'fixed', delay: '3s', jitter: 'none' },
      waves: [
        { type: 'spike' },
        { type: 'outage', at: '5s', offline: '2s', mode: 'reset' },
        { type: 'outage', at: '7500ms', offline: '1s', mode: 'reset', share: 0.5 },
      ],
      hold: '10s',
    });
    e.to(30e6);
    await e.end;
    expect(e.clock.pending).toBe(0);
    const interrupted = (i: number): number =>
      e.deltas.reduce((n, d) => n + (d.outages[String(i)]?.interrupted ?? 0), 0);
    expect(outage(e.deltas, 0)).toMatchObject({ dropped: 4, recovered: 2 });
    expect(interrupted(0)).toBe(2);
    expect(outage(e.deltas, 1)).toMatchObject({ dropped: 2, recovered: 2 });
    expect(interrupted(1)).toBe(0);
    const opens = e.opened.map((sessions) => sessions.map((d) => d.socketOpenUs)).sort((a, b) => a[1]! - b[1]!);
    expect(opens).toEqual([
      [0, 8_000_000],
      [0, 8_000_000],
      [0, 11_000_000],
      [0, 11_000_000],
    ]);
  });

  it('a late turn does not move an offline device’s retries: they stay on its own timer, as firmware’s do', async () => {
    // Reset at 5 s, network back at 8.5 s; retries 1 s apart from the drop: 6, 7 and 8 s find no
    // network, 9 s opens. herd is busy from 6.0 to 6.7 s, so the 6 s retry is played at 6.7 s; the
    // devices' own timers still say 7, 8 and 9 s (from herd's late turn they said 7.7 and 8.7 s, and a
    // fleet in lock step drifted apart by however late each turn ran).
    const e = startEngine({
      devices: 2,
      device: { keepalive: '30s' },
      reconnect: { policy: 'fixed', delay: '1s', jitter: 'none' },
      waves: [{ type: 'spike' }, { type: 'outage', at: '5s', offline: '3500ms', mode: 'reset' }],
      hold: '5s',
    });
    e.to(5_999_999);
    e.clock.stallTo(6_700_000);
    e.to(30e6);
    await e.end;
    expect(e.clock.pending).toBe(0);
    for (const sessions of e.opened) expect(sessions.map((d) => d.socketOpenUs)).toEqual([0, 9_000_000]);
    expect(e.counter('offlineAttempts')).toBe(6);
  });

  it('device-side reset: offline attempts until the window ends, then back; recovery from the end', async () => {
    const e = startEngine({
      devices: 4,
      device: { keepalive: '30s' },
      reconnect: { policy: 'fixed', delay: '500ms', jitter: 'none' },
      waves: [{ type: 'spike' }, { type: 'outage', at: '5s', offline: '2s', mode: 'reset' }],
      hold: '5s',
    });
    e.to(20e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    // Reset at 5.0 s; retries at 5.5, 6.0 and 6.5 s find no network; 7.0 s opens, 10 ms to CONNACK.
    for (const sessions of e.opened) {
      expect(sessions.map((d) => d.socketOpenUs)).toEqual([0, 7_000_000]);
      expect(sessions[0]?.endedHow).toBe('reset');
      expect(sessions[1]?.readyUs).toBe(7_010_000);
    }
    expect(e.counter('offlineAttempts')).toBe(12);
    expect(e.counter('reconnects')).toBe(16);
    expect(e.counter('outageDrops')).toBe(4);
    expect(e.counter('disconnects')).toBe(0);
    expect(outage(e.deltas, 0)).toEqual({ dropped: 4, recovered: 4, recoveryUs: [10_000, 10_007] });
  });

  it('device-side silent: the link goes dark, keepalive alone finds it, and the device comes back', async () => {
    const e = startEngine({
      devices: 2,
      device: { keepalive: '2s' },
      reconnect: { policy: 'fixed', delay: '500ms', jitter: 'none' },
      waves: [{ type: 'spike' }, { type: 'outage', at: '5s', offline: '2s', mode: 'silent' }],
      hold: '5s',
    });
    e.to(20e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    for (const sessions of e.opened) {
      const [first, second] = sessions;
      // Turns at 2 and 4 s answered; dark from 5 s; the PINGREQ at 6 s goes unanswered → dead at 8 s.
      expect(first?.dark).toBe(true);
      expect(first?.pings).toEqual([2e6, 4e6, 6e6]);
      expect(first?.lostAtUs).toBe(8e6);
      expect(second?.socketOpenUs).toBe(8_500_000);
      expect(second?.readyUs).toBe(8_510_000);
    }
    // herd's own outage: an outage drop, not a disconnect or a target error.
    expect(e.errors()).toEqual({});
    expect(e.counter('disconnects')).toBe(0);
    expect(e.counter('outageDrops')).toBe(2);
    const o = outage(e.deltas, 0);
    expect(o.dropped).toBe(2);
    expect(o.recovered).toBe(2);
    // 8.51 s − 7 s = 1.51 s: HDR's 3 significant digits hold it as 1,509,376…1,510,399 (min, max).
    expect(o.recoveryUs).toEqual([1_509_376, 1_510_399]);
  });

  it('target-side: sessions lost in the window, or found dead after a PINGREQ sent in it, are hit', async () => {
    // The target silences slots 1 and 2 for the window; slot 3 stays answered.
    let silentTarget = false;
    const target: FakeTarget = {
      handshakeUs: () => 0,
      pingAnswerUs: (slot) => (silentTarget && (slot === 1 || slot === 2) ? null : 5_000),
      closeUs: 1_000,
    };
    const e = startEngine(
      {
        devices: 4,
        target: { embedded: { outages: [{ at: '3s', duration: '4s', mode: 'silent' }] } },
        device: { keepalive: '2s' },
        reconnect: { policy: 'fixed', delay: '4500ms', jitter: 'none' },
        waves: [{ type: 'spike' }],
        hold: '20s',
      },
      target,
    );
    e.to(3e6);
    silentTarget = true;
    e.opened[0]?.[0]?.lose(RESET); // reset at the window's start: hit
    e.to(7e6);
    silentTarget = false;
    e.to(8_500_000);
    e.opened[3]?.[0]?.lose(RESET); // 1.5 s after the window: not its doing
    e.to(30e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    // Slot 1: turns at 2 s (answered) and 4 s (in the silence) → KEEPALIVE_TIMEOUT at 6 s.
    // Slot 2: turns at 1 s and 3 s (answered), 5 s (in the silence) → KEEPALIVE_TIMEOUT at 7 s.
    expect(e.opened[1]?.[0]?.pings).toEqual([2e6, 4e6]);
    expect(e.opened[1]?.[0]?.lostAtUs).toBe(6e6);
    expect(e.opened[2]?.[0]?.pings).toEqual([1e6, 3e6, 5e6]);
    expect(e.opened[2]?.[0]?.lostAtUs).toBe(7e6);
    expect(e.opened.map((s) => s[1]?.readyUs)).toEqual([7_500_000, 10_500_000, 11_500_000, 13_000_000]);
    const o = outage(e.deltas, 0);
    expect(o.dropped).toBe(3);
    expect(o.recovered).toBe(3);
    // Back 0.5 s, 3.5 s and 4.5 s after the window's end, each in its own second: per second the
    // min and max as HDR's 3 significant digits hold them.
    expect(o.recoveryUs).toEqual([499_968, 500_223, 3_497_984, 3_500_031, 4_497_408, 4_501_503]);
    expect(e.errors()).toEqual({ 'network|held|ECONNRESET': 2, 'network|held|KEEPALIVE_TIMEOUT': 2 });
  });

  it('device-side reboot: the old connection is abandoned open and dark, the device reconnects beside it', async () => {
    const e = startEngine({
      devices: 3,
      device: { keepalive: '2s' },
      reconnect: { policy: 'fixed', delay: '500ms', jitter: 'none' },
      waves: [{ type: 'spike' }, { type: 'outage', at: '5s', offline: '2s', mode: 'reboot' }],
      hold: '5s',
    });
    e.to(20e6);
    await e.end;
    expect(e.clock.pending).toBe(0);
    for (const sessions of e.opened) {
      const [first, second] = sessions;
      // Abandoned at 5.0 s: dark, never ended by herd, not lost — still open when the new one comes.
      expect(first?.dark).toBe(true);
      expect(first?.endedHow).toBe('abort'); // only teardown closes it, at 12 s
      expect(first?.lostAtUs).toBeNaN();
      expect(first?.pings).toEqual([2e6, 4e6]); // no keepalive once abandoned
      // Retries at 5.5, 6.0, 6.5 s find no network; 7.0 s opens beside the abandoned one.
      expect(second?.socketOpenUs).toBe(7_000_000);
      expect(second?.readyUs).toBe(7_010_000);
      expect(second?.endedHow).toBe('end');
    }
    expect(e.counter('offlineAttempts')).toBe(9);
    expect(e.counter('outageDrops')).toBe(3);
    expect(e.counter('disconnects')).toBe(0);
    expect(e.errors()).toEqual({});
    expect(outage(e.deltas, 0)).toEqual({ dropped: 3, recovered: 3, recoveryUs: [10_000, 10_007] });
  });
});
