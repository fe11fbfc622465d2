import { describe, expect, it } from 'vitest';
import {
  BURST_WINDOW_US,
  firstIds,
  k6Duration,
  mapWave,
  wavesOverlap,
  type K6Stage,
} from '../../src/export/k6-waves.js';
import { waveTimesUs } from '../../src/plan/plan.js';
import { waveLengthUs, type ConnectWave as ResolvedWave } from '../../src/results/resolved-scenario.js';

const ctx = { teardownUs: 60_000_000, graceUs: 15_000_000 };
const noRng = (): number => {
  throw new Error('uniform waves draw no random numbers');
};

/** Go's time.ParseDuration for the strings k6Duration writes, in ns. */
function parseNs(d: string): number {
  const m = /^(\d+)(ns|us|ms|s)$/.exec(d);
  if (!m) throw new Error(`unexpected duration ${d}`);
  return Number(m[1]) * { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns' | 'us' | 'ms' | 's'];
}

/** k6's constant-arrival-rate (lib/executor/constant_arrival_rate.go): k × floor(timeUnit/rate) while < duration. */
function constantArrivalStartsNs(rate: number, timeUnit: string, duration: string): number[] {
  const periodNs = Math.floor(parseNs(timeUnit) / rate);
  const out: number[] = [];
  for (let k = 0; k * periodNs < parseNs(duration); k++) out.push(k * periodNs);
  return out;
}

/** k6's ramping-arrival-rate `cal()` (lib/executor/ramping_arrival_rate.go), full execution segment. */
function rampingArrivalStartsNs(startRate: number, timeUnit: string, stages: K6Stage[]): number[] {
  const unit = parseNs(timeUnit);
  const out: number[] = [];
  let stageStart = 0;
  let doneSoFar = 0;
  let endCount = 0;
  let from = startRate / unit;
  let i = 1;
  for (const st of stages) {
    const to = st.target / unit;
    const dur = parseNs(st.duration);
    if (from !== to) {
      endCount += dur * ((to - from) / 2 + from);
      for (; i <= endCount; i++) {
        const x = (from * dur - Math.sqrt(dur * (from * from * dur + 2 * (i - doneSoFar) * (to - from)))) / (from - to);
        out.push(Math.trunc(x) + stageStart);
      }
    } else {
      endCount += dur * to;
      for (; i <= endCount; i++) out.push(Math.trunc((i - doneSoFar) / to) + stageStart);
    }
    doneSoFar = endCount;
    from = to;
    stageStart += dur;
  }
  return out;
}

describe('k6Duration', () => {
  it('writes the largest exact unit', () => {
    expect(k6Duration(0)).toBe('0s');
    expect(k6Duration(10e9)).toBe('10s');
    expect(k6Duration(9_995e6)).toBe('9995ms');
    expect(k6Duration(1_500_000)).toBe('1500us');
    expect(k6Duration(333_333_333)).toBe('333333333ns');
  });
});

describe('mapWave: ramp', () => {
  const w: ResolvedWave = { type: 'ramp', name: 'ramp-up', atUs: 2_000_000, devices: 1000, overUs: 10_000_000 };

  it('becomes a constant-arrival-rate scenario stopping half a period after the last start', () => {
    expect(mapWave(w, ctx)?.scenario).toEqual({
      executor: 'constant-arrival-rate',
      startTime: '2s',
      rate: 1000,
      timeUnit: '10s',
      duration: '9995ms',
      preAllocatedVUs: 1000,
      maxVUs: 1000,
      // teardown 60 s − (2 s + 9.995 s) + 15 s of grace
      gracefulStop: '63005ms',
    });
  });

  it("starts exactly herd's planned times", () => {
    const m = mapWave(w, ctx);
    if (m?.scenario.executor !== 'constant-arrival-rate') throw new Error('expected constant-arrival-rate');
    const k6Us = constantArrivalStartsNs(m.scenario.rate, m.scenario.timeUnit, m.scenario.duration).map(
      (ns) => w.atUs + ns / 1000,
    );
    expect(k6Us).toEqual(waveTimesUs(w, noRng));
    expect(m.notes).toEqual([]);
  });

  it('a ramp over 0s is a spike', () => {
    expect(mapWave({ ...w, overUs: 0 }, ctx)?.scenario.executor).toBe('shared-iterations');
  });
});

describe('mapWave: rate', () => {
  it('uniform: the same even spread, within a microsecond', () => {
    const w: ResolvedWave = {
      type: 'rate',
      name: 'r',
      atUs: 0,
      devices: 7,
      rate: 3,
      overUs: 2_333_333,
      arrival: 'uniform',
    };
    const m = mapWave(w, ctx);
    expect(m?.scenario).toEqual({
      executor: 'constant-arrival-rate',
      startTime: '0s',
      rate: 7,
      timeUnit: '2333333333ns',
      duration: '2166666666ns',
      preAllocatedVUs: 7,
      maxVUs: 7,
      gracefulStop: '72833334us',
    });
    if (m?.scenario.executor !== 'constant-arrival-rate') throw new Error('expected constant-arrival-rate');
    // k6 truncates its tick to whole ns (333333333 ns here): start k is up to k ns early.
    const k6Ns = constantArrivalStartsNs(m.scenario.rate, m.scenario.timeUnit, m.scenario.duration);
    const herdUs = waveTimesUs(w, noRng);
    expect(k6Ns).toHaveLength(herdUs.length);
    k6Ns.forEach((ns, k) => expect(Math.abs(ns / 1000 - (herdUs[k] as number))).toBeLessThan(1));
    expect(m.notes).toEqual([
      'wave "r": k6 truncates the start period to whole nanoseconds: start k is up to k ns early (at most 7 ns)',
    ]);
  });

  it('poisson: uniform at the mean rate (the gap is listed by k6Gaps as waves[i].arrival)', () => {
    const w: ResolvedWave = {
      type: 'rate',
      name: 'storm',
      atUs: 1_000_000,
      devices: 500,
      rate: 100,
      overUs: 5_000_000,
      arrival: 'poisson',
    };
    const m = mapWave(w, ctx);
    expect(m?.scenario).toMatchObject({
      executor: 'constant-arrival-rate',
      startTime: '1s',
      rate: 500,
      timeUnit: '5s',
      duration: '4995ms',
    });
    expect(m?.notes).toEqual([]);
  });
});

describe('mapWave: spike', () => {
  it('becomes shared-iterations with one VU per device, lasting until teardown plus grace', () => {
    const w: ResolvedWave = { type: 'spike', name: 'herd', atUs: 5_000_000, devices: 2000 };
    expect(mapWave(w, ctx)).toEqual({
      scenario: {
        executor: 'shared-iterations',
        startTime: '5s',
        vus: 2000,
        iterations: 2000,
        maxDuration: '70s',
        gracefulStop: '15s',
      },
      intended: { kind: 'bursts', atUs: 5_000_000, everyUs: 0, steps: 1, devices: 2000 },
      executorUs: 0,
      notes: [],
    });
  });

  it('a wave of 0 devices maps to nothing', () => {
    expect(mapWave({ type: 'spike', name: 'none', atUs: 0, devices: 0 }, ctx)).toBeNull();
  });
});

describe('mapWave: steps', () => {
  const w: ResolvedWave = { type: 'steps', name: 'stairs', atUs: 1_000_000, devices: 10, steps: 3, everyUs: 2_000_000 };

  it('becomes ramping-arrival-rate stages: a 1 ms window per step, idle in between', () => {
    const m = mapWave(w, ctx);
    expect(m?.scenario).toEqual({
      executor: 'ramping-arrival-rate',
      startTime: '1s',
      startRate: 0,
      timeUnit: '1ms',
      stages: [
        { duration: '0s', target: 3 },
        { duration: '1ms', target: 3 },
        { duration: '0s', target: 0 },
        { duration: '1999ms', target: 0 },
        { duration: '0s', target: 3 },
        { duration: '1ms', target: 3 },
        { duration: '0s', target: 0 },
        { duration: '1999ms', target: 0 },
        { duration: '0s', target: 4 },
        { duration: '1ms', target: 4 },
        { duration: '0s', target: 0 },
        { duration: '1ms', target: 0 },
      ],
      preAllocatedVUs: 10,
      maxVUs: 10,
      gracefulStop: '69998ms',
    });
    expect(m?.notes[0]).toMatch(/^wave "stairs": each step's devices start spread over the 1ms after herd's instant/);
  });

  it("k6's cal() starts each step's devices within the window after herd's instant", () => {
    const m = mapWave(w, ctx);
    if (m?.scenario.executor !== 'ramping-arrival-rate') throw new Error('expected ramping-arrival-rate');
    const k6Us = rampingArrivalStartsNs(m.scenario.startRate, m.scenario.timeUnit, m.scenario.stages).map(
      (ns) => w.atUs + ns / 1000,
    );
    const herdUs = waveTimesUs(w, noRng);
    expect(k6Us).toHaveLength(herdUs.length);
    k6Us.forEach((t, i) => {
      const planned = herdUs[i] as number;
      expect(t).toBeGreaterThan(planned);
      expect(t).toBeLessThanOrEqual(planned + BURST_WINDOW_US);
    });
    // The last start is not on the executor's stop instant.
    const endUs = m.scenario.stages.reduce((a, s) => a + parseNs(s.duration) / 1000, 0);
    expect(Math.max(...k6Us) - w.atUs).toBeLessThan(endUs);
  });

  it('narrows the window when steps are closer than 1 ms', () => {
    const m = mapWave({ ...w, everyUs: 400 }, ctx);
    if (m?.scenario.executor !== 'ramping-arrival-rate') throw new Error('expected ramping-arrival-rate');
    expect(m.scenario.timeUnit).toBe('400us');
    expect(m.scenario.stages.slice(0, 4)).toEqual([
      { duration: '0s', target: 3 },
      { duration: '400us', target: 3 },
      { duration: '0s', target: 0 },
      { duration: '0s', target: 0 },
    ]);
  });

  it('one step is a spike', () => {
    expect(mapWave({ ...w, steps: 1 }, ctx)?.scenario.executor).toBe('shared-iterations');
  });
});

describe('device ids', () => {
  it('are numbered wave by wave', () => {
    const waves: ResolvedWave[] = [
      { type: 'spike', name: 'a', atUs: 0, devices: 5 },
      { type: 'ramp', name: 'b', atUs: 0, devices: 7, overUs: 1_000_000 },
      { type: 'spike', name: 'c', atUs: 2_000_000, devices: 3 },
    ];
    expect(firstIds(waves)).toEqual([0, 5, 12]);
    expect(wavesOverlap(waves, waveLengthUs)).toBe(false);
    expect(
      wavesOverlap([waves[1] as ResolvedWave, { type: 'spike', name: 'd', atUs: 500_000, devices: 1 }], waveLengthUs),
    ).toBe(true);
  });
});
