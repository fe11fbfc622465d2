/**
 * The plan: a pure function of the resolved scenario (and its seed) giving every device's intended
 * connect time, measured from the run origin (MEASUREMENT.md rule 1: absolute, never "sleep after
 * the previous one"). Device ids are assigned in order of intended time, so id 0 connects first.
 */
import { createRng, deriveSeed } from '../util/rng.js';
import type { ResolvedScenario, ResolvedWave } from '../scenario/resolve.js';

export interface Plan {
  devices: number;
  /** Intended connect time of device `id`, µs from the run origin; non-decreasing in id. */
  connectAtUs: Float64Array;
  /** Index into scenario.waves of the wave that connects device `id`. */
  waveOf: Uint16Array;
  /** Time from the origin at which teardown starts. */
  durationUs: number;
}

export function buildPlan(s: ResolvedScenario): Plan {
  const times: number[] = [];
  const waves: number[] = [];
  s.waves.forEach((w, wi) => {
    const rng = createRng(deriveSeed(s.seed, 1, wi));
    for (const t of waveTimesUs(w, rng)) {
      times.push(t);
      waves.push(wi);
    }
  });
  const order = times.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  const connectAtUs = new Float64Array(order.length);
  const waveOf = new Uint16Array(order.length);
  order.forEach((src, id) => {
    connectAtUs[id] = times[src] as number;
    waveOf[id] = waves[src] as number;
  });
  return { devices: order.length, connectAtUs, waveOf, durationUs: s.durationUs };
}

/** Intended times of one wave's connects, µs from the origin, integer, non-decreasing. */
export function waveTimesUs(w: ResolvedWave, rng: () => number): number[] {
  const n = w.devices;
  const out = new Array<number>(n);
  switch (w.type) {
    case 'spike':
      out.fill(w.atUs);
      return out;
    case 'ramp':
      for (let i = 0; i < n; i++) out[i] = w.atUs + Math.floor((i * w.overUs) / n);
      return out;
    case 'steps': {
      let i = 0;
      for (let k = 0; k < w.steps; k++) {
        const inStep = Math.floor(((k + 1) * n) / w.steps) - Math.floor((k * n) / w.steps);
        for (let j = 0; j < inStep; j++) out[i++] = w.atUs + k * w.everyUs;
      }
      return out;
    }
    case 'rate':
      if (w.arrival === 'uniform') {
        for (let i = 0; i < n; i++) out[i] = w.atUs + Math.floor((i * 1e6) / w.rate);
        return out;
      }
      // A Poisson process conditioned on n arrivals in [0, over) is n sorted uniform points.
      for (let i = 0; i < n; i++) out[i] = w.atUs + Math.floor(rng() * w.overUs);
      return out.sort((a, b) => a - b);
  }
}

/**
 * The ids of devices that belong to slice `index` of `count` (0-based). Round-robin by id keeps
 * every slice's load spread over the whole timeline. Slices are disjoint and their union is all ids.
 */
export function sliceIds(devices: number, index: number, count: number): Uint32Array {
  const n = Math.max(0, Math.ceil((devices - index) / count));
  const ids = new Uint32Array(n);
  for (let k = 0, id = index; id < devices; id += count) ids[k++] = id;
  return ids;
}

/** Worker `w` of `workers` inside shard `shard` of `shards`: a slice of a slice, still exact. */
export function idsFor(devices: number, shard: { index: number; count: number }, worker: { index: number; count: number }): Uint32Array {
  const shardIds = sliceIds(devices, shard.index, shard.count);
  const local = sliceIds(shardIds.length, worker.index, worker.count);
  return local.map((k) => shardIds[k] as number);
}

/** Highest number of devices whose intended connects fall in one second: the peak connect rate. */
export function peakConnectRatePerS(plan: Plan): number {
  let peak = 0;
  let lo = 0;
  for (let hi = 0; hi < plan.devices; hi++) {
    const t = plan.connectAtUs[hi] as number;
    while ((plan.connectAtUs[lo] as number) <= t - 1e6) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  return peak;
}
