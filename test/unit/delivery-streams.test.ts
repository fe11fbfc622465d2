/**
 * The compact delivery streams (issue 26): rings sized to what a stream has seen, blocks moved and
 * reused in shared slabs, and the plain form (StreamState) unchanged — every ring window / 32 words,
 * states from before acks and resends were recorded still read.
 */
import { describe, expect, it } from 'vitest';
import { DeliveryTracker, type DeliveryState } from '../../src/metrics/delivery.js';
import { idOfKey, StreamKeys } from '../../src/metrics/delivery-keys.js';
import { DeliveryStreams, DROPPED, DUPLICATED, SENT } from '../../src/metrics/delivery-streams.js';
import { ack, arrive, markResent } from '../../src/metrics/delivery-window.js';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

describe('DeliveryStreams', () => {
  it('holds one word per ring until a seq needs more, then 2, 4 … up to window / 32', () => {
    const st = new DeliveryStreams(1024);
    const s = st.slot('7');
    expect(st.wordsHeld(s)).toBe(0);
    for (let seq = 0; seq < 30; seq++) arrive(st, s, seq);
    expect(st.wordsHeld(s)).toBe(1);
    arrive(st, s, 40);
    expect(st.wordsHeld(s)).toBe(2);
    ack(st, s, 200); // 200 >> 5 = word 6: the 8-word class
    expect(st.wordsHeld(s)).toBe(8);
    arrive(st, s, 1023);
    expect(st.wordsHeld(s)).toBe(32);
    arrive(st, s, 1024); // the window slides: base 1
    expect(st.wordsHeld(s)).toBe(32);
  });

  it('a sliding window takes full rings and clears the seqs that leave it', () => {
    const t = new DeliveryTracker(64);
    t.recordReceived('p', 0, 10);
    t.recordReceived('p', 100, 10);
    const p = t.toJSON().streams.p;
    // 100 − 64 + 1 = 37; seq 0 left the window; 100 mod 64 = 36: word 1, bit 4.
    expect(p?.base).toBe(37);
    expect(p?.words).toEqual([0, 16]);
    expect(p?.acks).toEqual([0, 0]);
    expect(p?.resends).toEqual([0, 0]);
    expect(t.recordReceived('p', 36, 10)).toBe('tooLate');
  });

  it('writes full rings of exact words whatever it held', () => {
    const t = new DeliveryTracker(1024);
    for (const seq of [0, 31, 32, 100]) t.recordReceived('d', seq, 5);
    t.recordAcked('d', 31);
    t.recordSent('d', 101);
    const d = t.toJSON().streams.d;
    const words = zeros(32);
    words[0] = 2147483649; // bits 0 and 31
    words[1] = 1; // seq 32
    words[3] = 16; // seq 100: word 3, bit 4
    const acks = zeros(32);
    acks[0] = 2147483648;
    expect(d).toEqual({
      highest: 100,
      base: 0,
      words,
      delivered: 4,
      duplicated: 0,
      outOfOrder: 0,
      tooLate: 0,
      acks,
      acked: 1,
      ackedDelivered: 1,
      resent: 0,
      duplicatedByResend: 0,
      resends: zeros(32),
    });
  });

  it('a block given up by a growing stream is reused zeroed by the next stream', () => {
    const st = new DeliveryStreams(1024);
    const a = st.slot('a');
    for (let seq = 0; seq < 32; seq++) arrive(st, a, seq);
    ack(st, a, 3);
    arrive(st, a, 40); // a moves to 2 words; its 1-word block is free
    const b = st.slot('b');
    arrive(st, b, 5);
    expect(st.ringWordsOf(b, 0).slice(0, 2)).toEqual([32, 0]);
    expect(st.ringWordsOf(b, 1).slice(0, 2)).toEqual([0, 0]);
    expect(st.ringWordsOf(a, 0).slice(0, 2)).toEqual([4294967295, 256]);
    expect(st.ringWordsOf(a, 1).slice(0, 2)).toEqual([8, 0]);
  });

  it('keeps 300 streams exact across slab and row growth', () => {
    const t = new DeliveryTracker(1024);
    for (let d = 0; d < 300; d++) {
      const k = String(d);
      t.recordSent(k, d % 70);
      for (let seq = 0; seq < d % 70; seq++) if (seq % 3 !== 0) t.recordReceived(k, seq, 1);
    }
    const st = t.toJSON();
    // Stream 65: seqs 0..64, those not divisible by 3 delivered (43 of 65).
    expect(st.streams['65']?.delivered).toBe(43);
    expect(st.streams['65']?.highest).toBe(64);
    // Bits of seqs not divisible by 3: 0b…0110 from seq 0, from seq 32 (32 mod 3 = 2) 0b…1101, seq 64 set.
    expect(st.streams['65']?.words.slice(0, 4)).toEqual([0xb6db6db6, 0x6db6db6d, 1, 0]);
    // Σ d mod 70 over d < 300 sent; of each stream's n, the ⌈n / 3⌉ seqs divisible by 3 never arrive.
    expect(t.summary().sent).toBe(9850);
    expect(t.summary().delivered).toBe(6468);
    expect(t.summary().lost).toBe(9850 - 6468);
    expect(t.summary().streams).toBe(300);
  });

  it('makes the resend ring on the first resend only', () => {
    const st = new DeliveryStreams(64);
    const s = st.slot('r');
    arrive(st, s, 2);
    expect(st.hasResends(s)).toBe(false);
    markResent(st, s, 2);
    expect(st.hasResends(s)).toBe(true);
    expect(arrive(st, s, 2)).toBe('duplicate');
    expect(st.ringWordsOf(s, 2)).toEqual([4, 0]);
  });

  it('reads a state from before acks and resends were recorded and merges it exactly', () => {
    const old: DeliveryState = {
      window: 64,
      streams: {
        x: { highest: 3, base: 0, words: [0b1011, 0], delivered: 3, duplicated: 1, outOfOrder: 0, tooLate: 0 },
      },
      sent: { x: 5 },
      foreign: 0,
      negativeLatency: 0,
      latencyHistogram: null,
    };
    const t = new DeliveryTracker(64);
    t.recordReceived('x', 2, 1);
    t.recordAcked('x', 4);
    t.mergeState(old);
    expect(t.toJSON().streams.x).toEqual({
      highest: 3,
      base: 0,
      words: [0b1111, 0],
      delivered: 4,
      duplicated: 1,
      outOfOrder: 0,
      tooLate: 0,
      acks: [16, 0],
      acked: 1,
      ackedDelivered: 0,
      resent: 0,
      duplicatedByResend: 0,
      resends: [0, 0],
    });
    expect(t.toJSON().sent).toEqual({ x: 5 });
    expect(t.toJSON().dropped).toEqual({});
    expect(t.summary()).toMatchObject({ sent: 5, delivered: 4, lost: 1, lostByCloud: 1, neverAcknowledged: 0 });
  });
});

describe('StreamKeys', () => {
  it('holds canonical decimal ids as numbers and every other key as given', () => {
    expect(['0', '7', '123456789', '1234567890', '007', '-1', '1e3', 'dev-1', ''].map(idOfKey)).toEqual([
      0, 7, 123456789, -1, -1, -1, -1, -1, -1,
    ]);
    const k = new StreamKeys();
    const given = ['5', 'dev-1', '007', '7', '1234567890', '0'];
    expect(given.map((x) => k.add(x))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(given.map((x) => k.find(x))).toEqual([0, 1, 2, 3, 4, 5]);
    expect([0, 1, 2, 3, 4, 5].map((s) => k.keyOf(s))).toEqual(given);
    expect(k.find('8')).toBe(-1);
    expect(k.find('dev-2')).toBe(-1);
  });

  it('finds 5,000 ids (interleaved, as one worker of two holds them) after its table grew', () => {
    const k = new StreamKeys();
    for (let i = 0; i < 5000; i++) k.add(String(2 * i + 1));
    expect(k.size).toBe(5000);
    expect(k.find('1')).toBe(0);
    expect(k.find('4001')).toBe(2000);
    expect(k.find('9999')).toBe(4999);
    expect(k.find('4000')).toBe(-1);
    expect(k.keyOf(2000)).toBe('4001');
  });

  it('a device id given as a number is the same stream as its decimal string, either way round', () => {
    const t = new DeliveryTracker(64);
    t.recordSent(7, 3); // the engine's way: the id, no string made
    t.recordReceived('7', 0, 10); // a webhook's way: the decimal string
    t.recordReceived(7, 1, 10);
    t.recordAcked(7, 2);
    t.recordSent('1234567890'); // past 9 digits: held by its string, as the number is
    t.recordReceived(1234567890, 0, 10);
    t.recordSent(4000000000.5); // not an integer: its string is its key
    const st = t.toJSON();
    expect(Object.keys(st.sent)).toEqual(['7', '1234567890', '4000000000.5']);
    expect(st.sent).toEqual({ '7': 3, '1234567890': 1, '4000000000.5': 1 });
    expect(st.streams['7']?.words).toEqual([3, 0]);
    expect(st.streams['7']?.acks).toEqual([4, 0]);
    const sum = t.summary();
    expect([sum.streams, sum.sent, sum.delivered, sum.lost]).toEqual([3, 5, 3, 2]);
    const k = new StreamKeys();
    expect([k.addId(12), k.add('13'), k.findId(13), k.find('12'), k.findId(14)]).toEqual([0, 1, 1, 0, -1]);
  });
});

describe('DeliveryStreams counts', () => {
  it('a rare count gets its row only when it leaves its default; a count recorded as 0 is recorded', () => {
    const st = new DeliveryStreams(64);
    const a = st.slot('1');
    const b = st.slot('2');
    expect([st.get(a, SENT), st.get(a, DROPPED), st.get(a, DUPLICATED)]).toEqual([NaN, NaN, 0]);
    st.add(a, DUPLICATED, 0);
    st.set(a, DROPPED, NaN);
    expect(st.get(a, DROPPED)).toBeNaN();
    st.add(b, DROPPED, 0);
    st.add(b, DUPLICATED, 2);
    expect([st.get(b, DROPPED), st.get(b, DUPLICATED), st.get(a, DUPLICATED)]).toEqual([0, 2, 0]);
    const t = new DeliveryTracker(64);
    t.recordDropped('x', 0);
    t.recordDropped('y', 3);
    expect(t.toJSON().dropped).toEqual({ x: 0, y: 3 });
    expect(t.toJSON().sent).toEqual({});
    expect(t.toJSON().streams).toEqual({});
  });
});
