/**
 * Observed outages (herd did not cause them), in exact µs: the rule on its own (losses within a
 * window, refusals after the target had accepted), then the engine on a fake clock against a
 * target that crashes and comes back, then the join of several workers' or shards' parts.
 */
import { describe, expect, it } from 'vitest';
import { ObservedOutageDetector, type ObservedRule } from '../../src/metrics/observed-outages.js';
import { mergeObservedOutages, type ObservedPart } from '../../src/metrics/observed-merge.js';
import { observedOutageResults } from '../../src/metrics/observed-results.js';
import { withOutagePeaks } from '../../src/metrics/outage-peaks.js';
import type { TimelineBucket } from '../../src/results/types.js';
import { createHistogram, decodeHistogram, recordUs } from '../../src/metrics/histogram.js';
import type { Failure } from '../../src/protocols/classify.js';
import { startEngine, type FakeTarget } from '../helpers/engine.js';

const RULE: ObservedRule = { windowUs: 2_000_000, minDevices: 5, share: 0.1 };

function detector(rule: ObservedRule = RULE, devices = 100) {
  const log: string[] = [];
  const d = new ObservedOutageDetector(rule, devices, {
    started: (e, atUs) => log.push(`start ${e} ${atUs}`),
    hit: (slot, e) => log.push(`hit ${slot} ${e}`),
    accepted: (e, atUs) => log.push(`accepted ${e} ${atUs}`),
  });
  return { d, log };
}

describe('observed outages: the rule', () => {
  it('losses: minDevices lost within the window start an event at the first of them; later losses are its hits', () => {
    const { d, log } = detector();
    // 40 connected; 4 losses in 2 s are below minDevices 5 (and 10% of 44 = 5).
    for (let k = 0; k < 4; k++) d.lost(k, 1_000_000 + k * 500_000, 40 - k);
    expect(log).toEqual([]);
    // The 5th is 2.000001 s after the first: the first has left the window (4 in it).
    d.lost(4, 3_000_001, 36);
    expect(log).toEqual([]);
    d.lost(5, 3_000_002, 35);
    expect(log).toEqual(['start 0 1500000', 'hit 1 0', 'hit 2 0', 'hit 3 0', 'hit 4 0', 'hit 5 0']);
    d.lost(6, 3_100_000, 34);
    d.failed(7, 3_200_000);
    d.accepted(9_000_000);
    d.lost(8, 9_100_000, 40); // after the target accepted again: not this event's
    expect(log.slice(6)).toEqual(['hit 6 0', 'hit 7 0', 'accepted 0 9000000']);
  });

  it('losses: the share of the devices connected just before the window counts, not only minDevices', () => {
    const { d, log } = detector({ windowUs: 1_000_000, minDevices: 2, share: 0.5 });
    // 10 connected: 5 must go within 1 s.
    for (let k = 0; k < 4; k++) d.lost(k, 100 + k, 9 - k);
    expect(log).toEqual([]);
    d.lost(4, 104, 5);
    expect(log[0]).toBe('start 0 100');
  });

  it('refusals: minDevices devices failing in a row after the target had accepted; never before it did', () => {
    const { d, log } = detector({ windowUs: 1_000_000, minDevices: 3, share: 0.1 });
    for (let k = 0; k < 5; k++) d.failed(k, 10 + k); // the target has not accepted anyone yet
    d.accepted(1_000);
    d.failed(0, 2_000);
    d.failed(0, 2_001); // one device retrying is one device
    d.failed(1, 2_002);
    d.accepted(2_003); // a success in between: not "in a row"
    d.failed(2, 2_004);
    d.failed(3, 2_005);
    expect(log).toEqual([]);
    d.failed(4, 2_006);
    expect(log).toEqual(['start 0 2004', 'hit 2 0', 'hit 3 0', 'hit 4 0']);
  });

  it('below minDevices nothing starts, however large the share', () => {
    const { d, log } = detector({ windowUs: 1_000_000, minDevices: 5, share: 0.01 }, 4);
    for (let k = 0; k < 4; k++) d.lost(k, k, 3 - k);
    expect(log).toEqual([]);
    expect(d.count).toBe(0);
  });
});

const CRASHED: Failure = { origin: 'network', phase: 'held', code: 'PEER_CLOSED' };

describe('observed outages: the engine', () => {
  it('a broker crash at 5 s, refusing until 8 s: hit = the connected devices, recovery from the first accept', async () => {
    const down = (now: number): boolean => now >= 5e6 && now < 8e6;
    let now = 0;
    const target: FakeTarget = {
      handshakeUs: () => 10_000,
      pingAnswerUs: () => 5_000,
      closeUs: 1_000,
      refusedUs: () => (down(now) ? 1_000 : null),
    };
    const e = startEngine(
      {
        devices: 10,
        device: { keepalive: '60s' },
        reconnect: { policy: 'fixed', delay: '1s', jitter: 'none' },
        waves: [{ type: 'spike' }],
        hold: '15s',
      },
      target,
    );
    e.to(5e6);
    // The crash reaches device k k ms after 5 s.
    for (let k = 0; k < 10; k++) {
      e.to(5e6 + k * 1_000);
      now = e.clock.nowUs();
      e.opened[k]?.[0]?.lose(CRASHED);
    }
    // Retries at 6.000+k and 7.001+k ms are refused after 1 ms; 8.002+k opens, CONNACK 10 ms later.
    for (let t = 5_010_000; t <= 20e6; t += 1_000) {
      now = t;
      e.to(t);
    }
    await e.end;
    for (let k = 0; k < 10; k++)
      expect(e.opened[k]?.map((d) => d.socketOpenUs)).toEqual([
        0,
        6e6 + k * 1_000,
        7_001_000 + k * 1_000,
        8_002_000 + k * 1_000,
      ]);
    const parts = e.deltas.flatMap((d) => Object.entries(d.observed ?? {}));
    expect(new Set(parts.map(([k]) => k))).toEqual(new Set(['0']));
    const last = parts.at(-1)?.[1];
    expect(last?.atUs).toBe(5_000_000);
    expect(last?.acceptedUs).toBe(8_012_000);
    expect(parts.reduce((a, [, p]) => a + p.dropped, 0)).toBe(10);
    expect(parts.reduce((a, [, p]) => a + p.recovered, 0)).toBe(10);
    const rec = createHistogram();
    const att = createHistogram();
    for (const [, p] of parts) {
      if (p.recoveryUs) rec.add(decodeHistogram(p.recoveryUs));
      if (p.attempts) att.add(decodeHistogram(p.attempts));
    }
    expect([rec.totalCount, rec.getValueAtPercentile(0), rec.maxValue]).toEqual([10, 0, 9_007]); // 9 ms, as HDR's highest equivalent value
    expect([att.getValueAtPercentile(0), att.maxValue]).toEqual([3, 3]);
    // Nothing counted twice: not an injected outage, every loss a disconnect.
    expect(e.deltas.some((d) => Object.keys(d.outages).length > 0)).toBe(false);
    expect(e.counter('disconnects')).toBe(10);
  });

  it('devices whose first connect fails in the outage are not hits (they were never connected)', async () => {
    const down = (now: number): boolean => now >= 5e6 && now < 8e6;
    let now = 0;
    const target: FakeTarget = {
      handshakeUs: () => 10_000,
      pingAnswerUs: () => 5_000,
      closeUs: 1_000,
      refusedUs: () => (down(now) ? 1_000 : null),
    };
    const e = startEngine(
      {
        devices: 15,
        device: { keepalive: '60s' },
        reconnect: { policy: 'fixed', delay: '1s', jitter: 'none' },
        waves: [
          { type: 'spike', devices: 10 },
          { type: 'spike', at: '6s', devices: 5 },
        ],
        hold: '10s',
      },
      target,
    );
    e.to(5e6);
    now = 5e6;
    for (let k = 0; k < 10; k++) e.opened[k]?.[0]?.lose(CRASHED);
    for (let t = 5_001_000; t <= 20e6; t += 1_000) {
      now = t;
      e.to(t);
    }
    await e.end;
    // Devices 10–14 tried first at 6 s (refused) and 7.001 s (refused), then connected at 8.012 s.
    for (let k = 10; k < 15; k++) expect(e.opened[k]?.map((d) => d.socketOpenUs)).toEqual([6e6, 7_001_000, 8_002_000]);
    const parts = e.deltas.flatMap((d) => Object.values(d.observed ?? {}));
    expect(parts.reduce((a, p) => a + p.dropped, 0)).toBe(10);
    expect(parts.reduce((a, p) => a + p.recovered, 0)).toBe(10);
  });

  it('observedOutages: false switches it off', async () => {
    const e = startEngine({
      devices: 10,
      observedOutages: false,
      reconnect: { policy: 'fixed', delay: '1s', jitter: 'none' },
      waves: [{ type: 'spike' }],
      hold: '5s',
    });
    e.to(2e6);
    for (let k = 0; k < 10; k++) e.opened[k]?.[0]?.lose(CRASHED);
    e.to(10e6);
    await e.end;
    expect(e.deltas.some((d) => d.observed !== undefined)).toBe(false);
  });
});

function part(
  atUs: number,
  acceptedUs: number | null,
  recoveriesUs: number[],
  dropped = recoveriesUs.length,
): ObservedPart {
  const recoveryUs = createHistogram();
  const attempts = createHistogram();
  for (const r of recoveriesUs) {
    recordUs(recoveryUs, r);
    recordUs(attempts, 2);
  }
  return { atUs, acceptedUs, dropped, recovered: recoveriesUs.length, recoveryUs, attempts };
}

describe('observed outages: joining workers and shards', () => {
  it('one event seen by four shards is one outage; recovery from the earliest first accept', () => {
    const joined = mergeObservedOutages(
      [
        part(40_000_300, 60_600_000, [0, 500]),
        part(40_000_100, 60_600_200, [0, 100]),
        part(40_001_000, 60_601_000, [0]),
        part(40_000_000, null, [], 3),
      ],
      2_000_000,
    );
    expect(joined).toHaveLength(1);
    const j = joined[0] as ObservedPart;
    expect([j.atUs, j.acceptedUs, j.dropped, j.recovered]).toEqual([40_000_000, 60_600_000, 8, 5]);
    // Shifted by each shard's own first accept: 0, 500; 200, 300; 1000.
    expect([
      j.recoveryUs.getValueAtPercentile(0),
      j.recoveryUs.getValueAtPercentile(50),
      j.recoveryUs.maxValue,
    ]).toEqual([0, 300, 1_000]);
    expect(j.attempts.totalCount).toBe(5);
  });

  it('a part starting within the tolerance after the first accept joins; one starting later is another event', () => {
    const joined = mergeObservedOutages(
      [part(10e6, 12e6, [0]), part(16_500_001, 17e6, [0]), part(14e6, 14_500_000, [0])],
      2_000_000,
    );
    expect(joined.map((j) => [j.atUs, j.acceptedUs, j.dropped])).toEqual([
      [10e6, 12e6, 2],
      [16_500_001, 17e6, 1],
    ]);
  });
});

describe('observed outages: results', () => {
  it('an outage the target never ended lasts until the run ended (its timeline, if stopped early); recovery never', () => {
    const bucket = (t: number) =>
      ({ t, attempts: 10, succeeded: t < 12 ? 5 : 0, peakHandshaking: 3 }) as unknown as TimelineBucket;
    const timeline = Array.from({ length: 21 }, (_, t) => bucket(t));
    const [o] = withOutagePeaks(
      timeline,
      observedOutageResults([part(12_500_000, null, [], 25)], 2e6, timeline, 100e6),
    );
    expect(o).toMatchObject({
      name: 'observed-1',
      side: 'observed',
      atUs: 12_500_000,
      offlineUs: 8_500_000,
      targetAcceptedAgain: false,
      dropped: 25,
      recovered: 0,
    });
    expect(o?.recovery).toEqual({ p50Us: null, p90Us: null, p99Us: null, p100Us: null });
    expect([o?.peakAttemptsPerS, o?.peakHandshaking, o?.peakSucceededPerSAfterEnd]).toEqual([10, 3, 0]);
  });
});
