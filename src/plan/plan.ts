/**
 * The plan: a pure function of the resolved scenario (and its seed) giving every device's intended
 * connect time, measured from the run origin (absolute, never "sleep after
 * the previous one"), its cohort, and the planned events — outages and churn — with the exact
 * devices they hit. Device ids are assigned in order of intended time, so id 0 connects first.
 */
import { createRng, deriveSeed, type Rng } from '../util/rng.js';
import {
  isConnectWave,
  type ConnectWave,
  type OutageMode,
  type ResolvedScenario,
} from '../results/resolved-scenario.js';

export interface PlannedOutage {
  name: string;
  /** device: herd drops the members; target: the embedded target drops whom it drops. */
  side: 'device' | 'target';
  atUs: number;
  offlineUs: number;
  mode: OutageMode;
  /** Device ids hit, ascending (device side only; target-side windows learn theirs at run time). */
  members: Uint32Array;
}

export interface Plan {
  devices: number;
  /** Intended connect time of device `id`, µs from the run origin; non-decreasing in id. */
  connectAtUs: Float64Array;
  /** Index into scenario.waves of the wave that connects device `id`. */
  waveOf: Uint16Array;
  /** Index into scenario.cohorts of device `id`'s cohort. */
  cohortOf: Uint16Array;
  outages: PlannedOutage[];
  /** Churn: device churnIds[k] disconnects cleanly and reconnects at churnAtUs[k]; sorted by time. */
  churnAtUs: Float64Array;
  churnIds: Uint32Array;
  /** Time from the origin at which teardown starts. */
  durationUs: number;
}

export function buildPlan(s: ResolvedScenario): Plan {
  const times: number[] = [];
  const waves: number[] = [];
  s.waves.forEach((w, wi) => {
    if (!isConnectWave(w)) return;
    const rng = createRng(deriveSeed(s.seed, 1, wi));
    for (const t of waveTimesUs(w, rng)) {
      times.push(t);
      waves.push(wi);
    }
  });
  const order = times.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  const n = order.length;
  const connectAtUs = new Float64Array(n);
  const waveOf = new Uint16Array(n);
  order.forEach((src, id) => {
    connectAtUs[id] = times[src] as number;
    waveOf[id] = waves[src] as number;
  });
  const cohortOf = assignCohorts(s, n);
  const outages: PlannedOutage[] = [];
  const churn: [number, number][] = [];
  s.waves.forEach((w, wi) => {
    const rng = createRng(deriveSeed(s.seed, 2, wi));
    if (w.type === 'outage') {
      const cohort = w.cohort === null ? -1 : s.cohorts.findIndex((c) => c.name === w.cohort);
      const eligible: number[] = [];
      for (let id = 0; id < n; id++) if (cohort < 0 || cohortOf[id] === cohort) eligible.push(id);
      const k = Math.round(w.share * eligible.length);
      const members = Uint32Array.from(sample(eligible, k, rng)).sort();
      outages.push({ name: w.name, side: 'device', atUs: w.atUs, offlineUs: w.offlineUs, mode: w.mode, members });
    } else if (w.type === 'churn') {
      const events = Math.round(w.perMinute * n * (w.overUs / 60e6));
      for (let e = 0; e < events && n > 0; e++) {
        churn.push([w.atUs + Math.floor((e * w.overUs) / events), Math.floor(rng() * n)]);
      }
    }
  });
  for (const win of s.outageWindows) {
    // A declared outage is a target outage the user's commands cause: the engine attributes it alike.
    if (win.side === 'target' || win.side === 'declared')
      outages.push({
        name: win.name,
        side: 'target',
        atUs: win.atUs,
        offlineUs: win.offlineUs,
        mode: 'reset',
        members: new Uint32Array(0),
      });
  }
  churn.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return {
    devices: n,
    connectAtUs,
    waveOf,
    cohortOf,
    outages,
    churnAtUs: Float64Array.from(churn.map((c) => c[0])),
    churnIds: Uint32Array.from(churn.map((c) => c[1])),
    durationUs: s.durationUs,
  };
}

/** Cohorts interleaved over the fleet by a seeded shuffle, sizes exactly as resolved. */
function assignCohorts(s: ResolvedScenario, n: number): Uint16Array {
  const out = new Uint16Array(n);
  if (s.cohorts.length <= 1) return out;
  let i = 0;
  s.cohorts.forEach((c, ci) => {
    for (let k = 0; k < c.devices && i < n; k++) out[i++] = ci;
  });
  const rng = createRng(deriveSeed(s.seed, 3));
  for (let j = n - 1; j > 0; j--) {
    const r = Math.floor(rng() * (j + 1));
    const t = out[j] as number;
    out[j] = out[r] as number;
    out[r] = t;
  }
  return out;
}

/** k distinct items chosen uniformly (partial Fisher–Yates). */
function sample(items: number[], k: number, rng: Rng): number[] {
  const a = items.slice();
  for (let j = 0; j < k && j < a.length; j++) {
    const r = j + Math.floor(rng() * (a.length - j));
    const t = a[j] as number;
    a[j] = a[r] as number;
    a[r] = t;
  }
  return a.slice(0, k);
}

/** Intended times of one wave's connects, µs from the origin, integer, non-decreasing. */
export function waveTimesUs(w: ConnectWave, rng: Rng): number[] {
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
export function idsFor(
  devices: number,
  shard: { index: number; count: number },
  worker: { index: number; count: number },
): Uint32Array {
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
