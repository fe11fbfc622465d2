import { describe, expect, it } from 'vitest';
import { DeliveryTracker } from '../../src/metrics/delivery.js';
import { summarize } from '../../src/metrics/histogram.js';

describe('DeliveryTracker', () => {
  it('counts delivered, lost, duplicated and out-of-order exactly', () => {
    const t = new DeliveryTracker(64);
    t.recordSent('dev-1', 10);
    // 0..9 sent; 3 and 7 never arrive, 5 arrives twice, 2 arrives after 4.
    const arrivals = [0, 1, 4, 2, 5, 5, 6, 8, 9];
    const kinds = arrivals.map((seq, i) => t.recordReceived('dev-1', seq, 1000 + i));
    expect(kinds).toEqual([
      'delivered',
      'delivered',
      'delivered',
      'outOfOrder',
      'delivered',
      'duplicate',
      'delivered',
      'delivered',
      'delivered',
    ]);
    expect(t.summary()).toEqual({
      streams: 1,
      published: 10,
      sent: 10,
      delivered: 8,
      lost: 2,
      lostByCloud: 0,
      neverAcknowledged: 2,
      droppedByDevice: 0,
      queuedAtEnd: 0,
      resent: 0,
      duplicated: 1,
      duplicatedByResend: 0,
      duplicatedByCloud: 1,
      outOfOrder: 1,
      tooLate: 0,
      foreign: 0,
    });
    const lat = summarize(t.latencyHistogram()!);
    // The duplicate (index 5, 1005 µs) is not a delivery; 8 latencies recorded.
    expect(lat.count).toBe(8);
    expect(lat.minUs).toBe(1000);
    expect(lat.maxUs).toBe(1008);
  });

  it('slides its window: memory stays fixed and a message older than the window is tooLate', () => {
    const t = new DeliveryTracker(32);
    for (let seq = 0; seq < 1000; seq++) if (seq !== 500) t.recordReceived('p', seq, 10);
    const st = t.toJSON();
    expect(st.streams.p?.words).toHaveLength(1);
    expect(st.streams.p?.base).toBe(1000 - 32);
    expect(t.recordReceived('p', 500, 10)).toBe('tooLate');
    expect(t.recordReceived('p', 990, 10)).toBe('duplicate');
    t.recordSent('p', 1000);
    expect(t.summary()).toEqual({
      streams: 1,
      published: 1000,
      sent: 1000,
      delivered: 999,
      lost: 1,
      lostByCloud: 0,
      neverAcknowledged: 1,
      droppedByDevice: 0,
      queuedAtEnd: 0,
      resent: 0,
      duplicated: 1,
      duplicatedByResend: 0,
      duplicatedByCloud: 1,
      outOfOrder: 0,
      tooLate: 1,
      foreign: 0,
    });
  });

  it('a jump beyond the window clears it and keeps counting', () => {
    const t = new DeliveryTracker(32);
    t.recordReceived('p', 0, 1);
    t.recordReceived('p', 100, 1);
    expect(t.recordReceived('p', 99, 1)).toBe('outOfOrder');
    expect(t.recordReceived('p', 100, 1)).toBe('duplicate');
    expect(t.summary()).toMatchObject({ sent: 101, delivered: 3, lost: 98, duplicated: 1, outOfOrder: 1 });
  });

  it('without a sent count, assumes highest seq + 1 were sent', () => {
    const t = new DeliveryTracker(32);
    t.recordReceived('a', 0, 1);
    t.recordReceived('a', 3, 1);
    t.recordSent('b', 2); // b sent 2, none arrived
    t.recordForeign();
    expect(t.summary()).toEqual({
      streams: 2,
      published: 6,
      sent: 6,
      delivered: 2,
      lost: 4,
      lostByCloud: 0,
      neverAcknowledged: 4,
      droppedByDevice: 0,
      queuedAtEnd: 0,
      resent: 0,
      duplicated: 0,
      duplicatedByResend: 0,
      duplicatedByCloud: 0,
      outOfOrder: 0,
      tooLate: 0,
      foreign: 1,
    });
  });

  it('merges workers through plain JSON exactly; a seq seen by both is one delivery and one duplicate', () => {
    const a = new DeliveryTracker(64);
    const b = new DeliveryTracker(64);
    a.recordSent('x', 6);
    for (const s of [0, 1, 2]) a.recordReceived('x', s, 100);
    for (const s of [2, 3, 5]) b.recordReceived('x', s, 300);
    b.recordReceived('y', 0, 50);
    b.recordSent('y', 1);
    const merged = DeliveryTracker.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    merged.mergeState(JSON.parse(JSON.stringify(b.toJSON())));
    expect(merged.summary()).toEqual({
      streams: 2,
      published: 7,
      sent: 7,
      delivered: 6,
      lost: 1,
      lostByCloud: 0,
      neverAcknowledged: 1,
      droppedByDevice: 0,
      queuedAtEnd: 0,
      resent: 0,
      duplicated: 1,
      duplicatedByResend: 0,
      duplicatedByCloud: 1,
      outOfOrder: 0,
      tooLate: 0,
      foreign: 0,
    });
    expect(summarize(merged.latencyHistogram()!).count).toBe(7);
  });

  it('merging is order-independent for disjoint streams', () => {
    const parts = [0, 1, 2].map((w) => {
      const t = new DeliveryTracker(32);
      t.recordSent(`d${w}`, 5);
      for (let s = 0; s < 5 - w; s++) t.recordReceived(`d${w}`, s, 10 * (w + 1));
      return t.toJSON();
    });
    const fwd = new DeliveryTracker(32);
    const rev = new DeliveryTracker(32);
    for (const p of parts) fwd.mergeState(p);
    for (const p of [...parts].reverse()) rev.mergeState(p);
    expect(fwd.summary()).toEqual(rev.summary());
    expect(fwd.summary()).toMatchObject({ sent: 15, delivered: 12, lost: 3 });
  });

  it("says who lost each message: acknowledged and never delivered is the cloud's; the buckets add up to published", () => {
    const t = new DeliveryTracker(64);
    t.recordSent('d', 10);
    t.recordDropped('d', 2); // two publishes the device refused (never sent, no seq)
    // Acked: 0..6 (PUBACK before or after the echo). Delivered: 0..3 and 7 (7 never acked: its
    // PUBACK was lost with the session). So lost = 5: 4, 5, 6 acked (the cloud's), 8, 9 never acked.
    for (const seq of [0, 1]) t.recordAcked('d', seq);
    for (const seq of [0, 1, 2, 3, 7]) t.recordReceived('d', seq, 100);
    for (const seq of [2, 3, 4, 5, 6, 6]) t.recordAcked('d', seq); // 6 twice: a resend acked again, once
    const s = t.summary();
    expect(s).toMatchObject({
      published: 12,
      sent: 10,
      delivered: 5,
      lost: 5,
      lostByCloud: 3,
      neverAcknowledged: 2,
      droppedByDevice: 2,
    });
    expect(s.delivered + s.lostByCloud + s.neverAcknowledged + s.droppedByDevice).toBe(s.published);
  });

  it('merges the split exactly: a seq acked on one worker and delivered on another is delivered', () => {
    const a = new DeliveryTracker(64);
    const b = new DeliveryTracker(64);
    a.recordSent('d', 4);
    for (const seq of [0, 1, 2, 3]) a.recordAcked('d', seq);
    a.recordReceived('d', 0, 10);
    b.recordReceived('d', 1, 10); // another worker received 1 and 2
    b.recordReceived('d', 2, 10);
    a.recordDropped('d');
    const merged = DeliveryTracker.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    merged.mergeState(JSON.parse(JSON.stringify(b.toJSON())));
    expect(merged.summary()).toMatchObject({
      published: 5,
      delivered: 3,
      lost: 1,
      lostByCloud: 1,
      neverAcknowledged: 0,
      droppedByDevice: 1,
    });
  });

  it('refuses to merge different window sizes', () => {
    expect(() => new DeliveryTracker(32).mergeState(new DeliveryTracker(64).toJSON())).toThrow(/window/);
  });
});
