import { describe, expect, it } from 'vitest';
import { judgeLevel } from '../../src/run/breakpoint/level.js';
import { levelScenario } from '../../src/run/breakpoint/level-run.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { parseStopWhen } from '../../src/run/breakpoint/conditions.js';
import { createHistogram, encodeHistogram, recordUs, summarize } from '../../src/metrics/histogram.js';
import type { ErrorCount, Results, TimelineBucket } from '../../src/results/types.js';

/** Values below 2048 µs are exact in herd's 3-digit HDR histograms, so percentiles here are exact. */
function hist(values: Record<number, number>): string {
  const h = createHistogram();
  for (const [v, n] of Object.entries(values)) for (let i = 0; i < n; i++) recordUs(h, Number(v));
  const out = encodeHistogram(h);
  h.destroy();
  return out;
}

function summary(values: Record<number, number>): Results['latency'][string] {
  const h = createHistogram();
  for (const [v, n] of Object.entries(values)) for (let i = 0; i < n; i++) recordUs(h, Number(v));
  const s = summarize(h);
  h.destroy();
  return s;
}

function bucket(t: number, b: Partial<TimelineBucket> & { lat?: Record<number, number> }): TimelineBucket {
  const { lat, ...rest } = b;
  return {
    t,
    attempts: 0,
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    dropped: 0,
    disconnects: 0,
    connected: 0,
    handshaking: 0,
    errorsByOrigin: { local: 0, network: 0, tls: 0, protocol: 0, timeout: 0 },
    connectP50Us: null,
    connectP90Us: null,
    connectP99Us: null,
    connectMaxUs: null,
    loopDelayP99Us: null,
    reconnects: 0,
    offlineAttempts: 0,
    peakHandshaking: 0,
    connectHistogram: lat ? hist(lat) : null,
    harnessRssBytes: null,
    messagesSent: 0,
    messagesDelivered: 0,
    ...rest,
  };
}

function results(
  buckets: TimelineBucket[],
  errors: ErrorCount[] = [],
  extra: { saturated?: boolean; dropped?: number; latency?: Results['latency'] } = {},
): Results {
  return {
    run: { status: 'completed', abortReason: null },
    attempts: {
      planned: 0,
      reconnects: 0,
      offline: 0,
      gaveUp: 0,
      started: 0,
      succeeded: 0,
      failed: 0,
      timedOut: 0,
      dropped: extra.dropped ?? 0,
      inFlightAtEnd: 0,
      lostToHarness: 0,
    },
    latency: extra.latency ?? {},
    errors,
    timeline: { bucketMs: 1000, buckets },
    health: {
      saturated: extra.saturated ?? false,
      reasons: extra.saturated ? ['worker 0: event-loop delay p99 reached 250ms in 1s (limit 200ms)'] : [],
      workerFailures: [],
      workers: [],
    },
  } as unknown as Results;
}

const STOP = parseStopWhen({
  'errors.rate': '< 1%',
  'connect.total': 'p(99) < 1500us',
  'attempts.timedOut': '== 0',
  'shed.rate': '< 5%',
});
const W = { rate: 50, settleS: 2, measureS: 2 };

describe('judging one breakpoint level', () => {
  it('parses its stop conditions without problems', () => expect(STOP.problems).toEqual([]));

  it('excludes the settle seconds: timeouts there do not fail the level', () => {
    const r = results([
      bucket(0, { timedOut: 5, succeeded: 40, lat: { 1900: 40 } }),
      bucket(1, { timedOut: 5 }),
      bucket(2, { succeeded: 50, lat: { 1000: 50 } }),
      bucket(3, { succeeded: 50, lat: { 1000: 50 } }),
    ]);
    const j = judgeLevel(r, W, STOP.thresholds);
    expect(j.verdict).toBe('passed');
    expect(j.ended).toEqual({ succeeded: 100, failed: 0, timedOut: 0, shed: 0 });
    expect(j.achievedPerS).toBe(50);
    expect(j.connectP50Us).toBe(1000);
    expect(j.connectP99Us).toBe(1000);
    expect(j.errorRate).toBe(0);
    expect(j.window).toEqual({ settleS: 2, endS: 4 });
    expect(j.tipping).toEqual([]);
  });

  it('names every broken condition in the order written, and the signs by the second they first showed', () => {
    const r = results(
      [
        bucket(1, { succeeded: 50, lat: { 1000: 50 } }),
        bucket(2, { succeeded: 50, lat: { 1000: 50 } }),
        bucket(3, {
          succeeded: 50,
          failed: 2,
          timedOut: 3,
          lat: { 1000: 49, 2000: 1 },
          errorsByOrigin: { local: 0, network: 0, tls: 0, protocol: 2, timeout: 3 },
        }),
      ],
      [
        { origin: 'protocol', phase: 'mqttConnack', code: 'CONNACK_03', count: 2 },
        { origin: 'timeout', phase: 'mqttConnack', code: 'CONNECT_TIMEOUT', count: 3 },
      ],
    );
    const j = judgeLevel(r, W, STOP.thresholds);
    expect(j.verdict).toBe('failed');
    expect(j.ended).toEqual({ succeeded: 100, failed: 2, timedOut: 3, shed: 2 });
    expect(j.errorRate).toBe(5 / 105);
    expect(j.shedRate).toBe(2 / 105);
    expect(j.connectP99Us).toBe(1000);
    expect(j.brokenBy).toEqual(['errors.rate', 'attempts.timedOut']);
    expect(j.stopConditions.map((c) => [c.metric, c.passed])).toEqual([
      ['errors.rate', false],
      ['connect.total', true],
      ['attempts.timedOut', false],
      ['shed.rate', true],
    ]);
    // Same second: the cause (the target shedding) is named before its consequence (timeouts).
    expect(j.tipping.map((t) => [t.signal, t.firstAtS])).toEqual([
      ['shedding', 3],
      ['timeouts', 3],
    ]);
  });

  it('names a listen-queue overflow: timeouts before TCP connected, or tcpConnect on the 1 s step', () => {
    const syn = results(
      [bucket(2, { succeeded: 10, timedOut: 1, lat: { 1000: 10 } })],
      [{ origin: 'timeout', phase: 'tcpConnect', code: 'CONNECT_TIMEOUT', count: 1 }],
    );
    expect(judgeLevel(syn, W, STOP.thresholds).tipping.map((t) => t.signal)).toEqual(['listen-queue', 'timeouts']);
    const step = results([bucket(2, { succeeded: 10, lat: { 1000: 10 } })], [], {
      latency: { 'phase.tcpConnect': summary({ 1000: 90, 1_003_000: 10 }) },
    });
    const j = judgeLevel(step, W, STOP.thresholds);
    expect(j.tipping.map((t) => t.signal)).toEqual(['listen-queue']);
    expect(j.tcpConnectP99Us).toBeGreaterThanOrEqual(1_000_000);
  });

  it('a flagged harness decides a level only by its effect', () => {
    const clean = [bucket(2, { succeeded: 50, lat: { 1000: 50 } })];
    // Passed anyway: the flag stands beside the verdict, the verdict stands.
    const passed = judgeLevel(results(clean, [], { saturated: true }), W, STOP.thresholds);
    expect(passed.verdict).toBe('passed');
    expect(passed.harness.flagged).toBe(true);
    expect(passed.harness.limited).toBe(false);
    // Failed on latency that the target's own service time does not have: the harness's lag decided it.
    const slow = [bucket(2, { succeeded: 50, lat: { 1000: 40, 1900: 10 } })];
    const lagged = judgeLevel(
      results(slow, [], { saturated: true, latency: { 'connect.service': summary({ 1000: 50 }) } }),
      W,
      STOP.thresholds,
    );
    expect(lagged.verdict).toBe('harness');
    // Failed on the target's own service time too: the target's failure.
    const own = judgeLevel(
      results(slow, [], { saturated: true, latency: { 'connect.service': summary({ 1900: 50 }) } }),
      W,
      STOP.thresholds,
    );
    expect(own.verdict).toBe('failed');
    expect(own.harness.flagged).toBe(true);
    // Attempts the harness never started always make it the harness's level.
    const dropped = judgeLevel(results(clean, [], { dropped: 3 }), W, STOP.thresholds);
    expect(dropped.verdict).toBe('harness');
    expect(dropped.harness.reasons[0]).toBe('3 attempts could not be started in time by the harness');
  });
});

describe('the scenario of one level', () => {
  const user = {
    $schema: '../schemas/scenario.schema.json',
    name: 'bp',
    devices: 10,
    device: { connectTimeout: '1s' },
    reconnect: { policy: 'fixed', delay: '1s' },
    cohorts: [{ name: 'a', share: 1, reconnect: { policy: 'fixed', delay: '2s' } }],
    waves: [{ type: 'spike' }],
    duration: '1m',
    thresholds: { 'errors.rate': '< 1%' },
    breakpoint: { startRate: 10 },
  };

  it('connect-rate: a settle and a measure wave of fresh devices at the rate, no retries, a drain', () => {
    const s = levelScenario(user, 300, { mode: 'connect-rate', settleS: 2, measureS: 4, drainS: 1.5 }, 2);
    expect(s).toEqual({
      name: 'bp level 3 at 300/s',
      devices: 1800,
      device: { connectTimeout: '1s' },
      reconnect: { policy: 'none' },
      cohorts: [{ name: 'a', share: 1 }],
      waves: [
        { type: 'rate', name: 'settle', rate: 300, over: '2s' },
        { type: 'rate', name: 'measure', rate: 300, over: '4s' },
      ],
      hold: '1500ms',
    });
    // It is a valid scenario with exactly that plan.
    const { resolved } = validateScenario(s, 'level');
    expect(resolved.devices).toBe(1800);
    expect(resolved.waves.map((w) => [w.name, w.atUs])).toEqual([
      ['settle', 0],
      ['measure', 2_000_000],
    ]);
  });

  it('held-devices: that many devices arriving at the fixed rate, all held', () => {
    const s = levelScenario(user, 1500, { mode: 'held-devices', arrivalRate: 200, holdS: 5, drainS: 1.5 }, 0);
    expect(s.waves).toEqual([{ type: 'ramp', name: 'connect', devices: 1500, over: '7500ms' }]);
    expect(s.hold).toBe('6500ms');
    expect(s.devices).toBe(1500);
    expect(validateScenario(s, 'level').resolved.devices).toBe(1500);
  });
});
