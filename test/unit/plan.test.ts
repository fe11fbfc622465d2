import { describe, expect, it } from 'vitest';
import { buildPlan, idsFor, peakConnectRatePerS, sliceIds, waveTimesUs } from '../../src/plan/plan.js';
import { resolveScenario } from '../../src/scenario/resolve.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { createRng } from '../../src/util/rng.js';

function resolved(input: Record<string, unknown>, overrides = {}) {
  return resolveScenario(scenarioSchema.parse({ name: 't', ...input }), overrides);
}

describe('wave times', () => {
  it('ramp spreads devices evenly from its start', () => {
    expect(
      waveTimesUs({ type: 'ramp', name: 'r', atUs: 1_000_000, devices: 4, overUs: 2_000_000 }, createRng(1)),
    ).toEqual([1_000_000, 1_500_000, 2_000_000, 2_500_000]);
  });
  it('spike puts every device at the same instant', () => {
    expect(waveTimesUs({ type: 'spike', name: 's', atUs: 5, devices: 3 }, createRng(1))).toEqual([5, 5, 5]);
  });
  it('steps split devices into equal spikes, the remainder spread', () => {
    expect(waveTimesUs({ type: 'steps', name: 's', atUs: 0, devices: 7, steps: 3, everyUs: 10 }, createRng(1))).toEqual(
      [0, 0, 10, 10, 20, 20, 20],
    );
  });
  it('uniform rate spaces connects at 1/rate', () => {
    expect(
      waveTimesUs(
        { type: 'rate', name: 'r', atUs: 0, devices: 4, rate: 4, overUs: 1_000_000, arrival: 'uniform' },
        createRng(1),
      ),
    ).toEqual([0, 250_000, 500_000, 750_000]);
  });
  it('poisson arrivals are sorted, inside the wave, and fixed by the seed', () => {
    const w = {
      type: 'rate' as const,
      name: 'p',
      atUs: 100,
      devices: 1000,
      rate: 100,
      overUs: 10_000_000,
      arrival: 'poisson' as const,
    };
    const a = waveTimesUs(w, createRng(42));
    const b = waveTimesUs(w, createRng(42));
    const c = waveTimesUs(w, createRng(43));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every((t, i) => t >= 100 && t < 100 + 10_000_000 && (i === 0 || t >= (a[i - 1] as number)))).toBe(true);
  });
});

describe('plan', () => {
  it('assigns ids in intended-time order across overlapping waves', () => {
    const s = resolved({
      devices: 6,
      waves: [
        { type: 'ramp', devices: 3, over: '3s' },
        { type: 'spike', devices: 3, at: '1500ms' },
      ],
    });
    const plan = buildPlan(s);
    expect([...plan.connectAtUs]).toEqual([0, 1_000_000, 1_500_000, 1_500_000, 1_500_000, 2_000_000]);
    expect([...plan.waveOf]).toEqual([0, 0, 1, 1, 1, 0]);
    expect(plan.durationUs).toBe(3_000_000);
  });

  it('is a pure function of the scenario and seed', () => {
    const s = resolved({ devices: 500, seed: 9, waves: [{ type: 'rate', rate: 50, over: '10s', arrival: 'poisson' }] });
    expect([...buildPlan(s).connectAtUs]).toEqual([...buildPlan(s).connectAtUs]);
  });

  it('reports the peak connect rate over any one-second window', () => {
    const s = resolved({
      devices: 150,
      waves: [
        { type: 'ramp', devices: 100, over: '10s' },
        { type: 'spike', at: '20s' },
      ],
    });
    expect(peakConnectRatePerS(buildPlan(s))).toBe(50);
  });
});

describe('splitting the plan', () => {
  it('slices are disjoint and their union is every id', () => {
    for (const [devices, count] of [
      [10, 3],
      [7, 7],
      [5, 8],
      [1000, 4],
    ] as const) {
      const all: number[] = [];
      for (let i = 0; i < count; i++) all.push(...sliceIds(devices, i, count));
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: devices }, (_, i) => i));
    }
  });

  it('shards × workers reproduce the unsplit schedule exactly', () => {
    const s = resolved({
      devices: 1003,
      seed: 3,
      waves: [{ type: 'rate', rate: 100, over: '5s', arrival: 'poisson' }, { type: 'spike' }],
    });
    const plan = buildPlan(s);
    const union: [number, number][] = [];
    for (let shard = 0; shard < 4; shard++) {
      for (let worker = 0; worker < 3; worker++) {
        for (const id of idsFor(plan.devices, { index: shard, count: 4 }, { index: worker, count: 3 })) {
          union.push([id, plan.connectAtUs[id] as number]);
        }
      }
    }
    union.sort((a, b) => a[0] - b[0]);
    expect(union.length).toBe(plan.devices);
    expect(union.map(([, t]) => t)).toEqual([...plan.connectAtUs]);
    expect(new Set(union.map(([id]) => id)).size).toBe(plan.devices);
  });
});
