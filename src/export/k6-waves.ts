/**
 * Waves → k6 scenarios (pure). Each herd wave becomes one k6 scenario whose executor starts
 * iterations at herd's intended times, measured from the same origin (k6's test start).
 *
 * What k6's executors do, read from their source (lib/executor/*.go):
 * - constant-arrival-rate starts iteration k at k × timeUnit/rate, k = 0, 1, … while the
 *   duration lasts: exactly herd's evenly spread `ramp` and uniform `rate` waves.
 * - ramping-arrival-rate starts event n (1-based) when the area under the rate curve reaches n
 *   (its closed-form `cal()`): it can never start several iterations at one instant, so a burst
 *   becomes a jump to a constant rate for a short window.
 * - shared-iterations with vus = iterations starts every VU at the scenario start: an exact spike.
 */
import type { ConnectWave } from '../results/resolved-scenario.js';

export interface K6Stage {
  duration: string;
  target: number;
}

export type K6Scenario =
  | {
      executor: 'constant-arrival-rate';
      startTime: string;
      rate: number;
      timeUnit: string;
      duration: string;
      preAllocatedVUs: number;
      maxVUs: number;
      gracefulStop: string;
    }
  | {
      executor: 'ramping-arrival-rate';
      startTime: string;
      startRate: number;
      timeUnit: string;
      stages: K6Stage[];
      preAllocatedVUs: number;
      maxVUs: number;
      gracefulStop: string;
    }
  | {
      executor: 'shared-iterations';
      startTime: string;
      vus: number;
      iterations: number;
      maxDuration: string;
      gracefulStop: string;
    };

/**
 * How the script recomputes herd's intended connect time of iteration i of a wave (µs from the
 * origin), so connect.total is measured from the plan, free of coordinated omission.
 * even:   atUs + floor(i × spanUs / devices)              (ramp, rate)
 * bursts: atUs + k × everyUs, k = ceil((i+1)·steps/devices) − 1   (spike: steps = 1)
 */
export type IntendedTimes =
  | { kind: 'even'; atUs: number; spanUs: number; devices: number }
  | { kind: 'bursts'; atUs: number; everyUs: number; steps: number; devices: number };

export interface WaveMapping {
  scenario: K6Scenario;
  intended: IntendedTimes;
  /** Executor-side length: when the executor stops starting iterations, µs after the wave start. */
  executorUs: number;
  /** What k6 cannot reproduce exactly for this wave ("not expressible" lines). */
  notes: string[];
}

/** Width of the window a burst is spread over: k6's timers have millisecond granularity anyway. */
export const BURST_WINDOW_US = 1_000;

export interface WaveContext {
  /** When devices disconnect, µs from the origin. */
  teardownUs: number;
  /** Extra time after teardown for connects still in flight and clean disconnects. */
  graceUs: number;
}

/** Maps one wave; null when it has no devices (k6 rejects empty scenarios). */
export function mapWave(w: ConnectWave, ctx: WaveContext): WaveMapping | null {
  if (w.devices <= 0) return null;
  switch (w.type) {
    case 'ramp':
      return w.overUs > 0 ? evenWave(w.atUs, w.devices, w.overUs, ctx, [], w.name) : spikeWave(w.atUs, w.devices, ctx);
    case 'rate':
      // herd starts device i at floor(i × 1e6 / rate): the same even spread with span n/rate.
      // Poisson arrivals have no k6 executor: k6-gaps.ts lists them, the script spreads evenly.
      return evenWave(w.atUs, w.devices, (w.devices * 1e6) / w.rate, ctx, [], w.name);
    case 'spike':
      return spikeWave(w.atUs, w.devices, ctx);
    case 'steps':
      if (w.steps <= 1 || w.everyUs <= 0) return spikeWave(w.atUs, w.devices, ctx);
      return stepsWave(w.atUs, w.devices, w.steps, w.everyUs, w.name, ctx);
  }
}

function evenWave(
  atUs: number,
  devices: number,
  spanUs: number,
  ctx: WaveContext,
  notes: string[],
  name: string,
): WaveMapping {
  // Stop half a period after the last start so the executor's stop never races iteration n.
  const spanNs = Math.round(spanUs * 1000);
  const durationNs = Math.round(spanNs - spanNs / (2 * devices));
  if (spanNs % devices !== 0) {
    notes = [
      ...notes,
      `wave "${name}": k6 truncates the start period to whole nanoseconds: start k is up to k ns early (at most ${formatDrift(devices)})`,
    ];
  }
  return {
    scenario: {
      executor: 'constant-arrival-rate',
      startTime: k6Duration(atUs * 1000),
      rate: devices,
      timeUnit: k6Duration(spanNs),
      duration: k6Duration(durationNs),
      preAllocatedVUs: devices,
      maxVUs: devices,
      gracefulStop: gracefulStop(atUs, durationNs / 1000, ctx),
    },
    intended: { kind: 'even', atUs, spanUs, devices },
    executorUs: durationNs / 1000,
    notes,
  };
}

function spikeWave(atUs: number, devices: number, ctx: WaveContext): WaveMapping {
  const maxUs = Math.max(0, ctx.teardownUs - atUs) + ctx.graceUs;
  return {
    scenario: {
      executor: 'shared-iterations',
      startTime: k6Duration(atUs * 1000),
      vus: devices,
      iterations: devices,
      maxDuration: k6Duration(maxUs * 1000),
      gracefulStop: k6Duration(ctx.graceUs * 1000),
    },
    intended: { kind: 'bursts', atUs, everyUs: 0, steps: 1, devices },
    executorUs: 0,
    notes: [],
  };
}

function stepsWave(
  atUs: number,
  devices: number,
  steps: number,
  everyUs: number,
  name: string,
  ctx: WaveContext,
): WaveMapping {
  const windowUs = Math.min(BURST_WINDOW_US, everyUs);
  const stages: K6Stage[] = [];
  for (let k = 0; k < steps; k++) {
    // Same split as plan.ts waveTimesUs: step k gets floor((k+1)n/s) − floor(kn/s) devices.
    const inStep = Math.floor(((k + 1) * devices) / steps) - Math.floor((k * devices) / steps);
    // Jump to inStep per window, hold it for one window (inStep starts), drop to 0 until the next step.
    // The last step keeps one idle window so its last start is not on the executor's stop instant.
    stages.push(
      { duration: '0s', target: inStep },
      { duration: k6Duration(windowUs * 1000), target: inStep },
      { duration: '0s', target: 0 },
      { duration: k6Duration((k === steps - 1 ? windowUs : everyUs - windowUs) * 1000), target: 0 },
    );
  }
  const executorUs = (steps - 1) * everyUs + 2 * windowUs;
  return {
    scenario: {
      executor: 'ramping-arrival-rate',
      startTime: k6Duration(atUs * 1000),
      startRate: 0,
      timeUnit: k6Duration(windowUs * 1000),
      stages,
      preAllocatedVUs: devices,
      maxVUs: devices,
      gracefulStop: gracefulStop(atUs, executorUs, ctx),
    },
    intended: { kind: 'bursts', atUs, everyUs, steps, devices },
    executorUs,
    notes: [
      `wave "${name}": each step's devices start spread over the ${k6Duration(windowUs * 1000)} after herd's ` +
        `instant (k6 arrival-rate executors cannot start many iterations at one instant); ` +
        `connect.total is still measured from herd's intended instant`,
    ],
  };
}

/** Iterations outlive the executor: each holds its connection until teardown, then disconnects. */
function gracefulStop(atUs: number, executorUs: number, ctx: WaveContext): string {
  const afterUs = Math.max(0, ctx.teardownUs - (atUs + executorUs)) + ctx.graceUs;
  return k6Duration(Math.ceil(afterUs) * 1000);
}

/** An exact k6 (Go) duration string for a whole number of nanoseconds, in the largest exact unit. */
export function k6Duration(ns: number): string {
  const n = Math.round(ns);
  if (n === 0) return '0s';
  if (n % 1e9 === 0) return `${n / 1e9}s`;
  if (n % 1e6 === 0) return `${n / 1e6}ms`;
  if (n % 1e3 === 0) return `${n / 1e3}us`;
  return `${n}ns`;
}

/** Devices herd numbers before wave `index` when ids run wave by wave. */
export function firstIds(waves: readonly ConnectWave[]): number[] {
  let next = 0;
  return waves.map((w) => {
    const first = next;
    next += Math.max(0, w.devices);
    return first;
  });
}

/**
 * herd numbers device ids in order of intended time across all waves; the script numbers them
 * wave by wave. The two agree unless a wave starts before an earlier wave's last connect.
 */
export function wavesOverlap(waves: readonly ConnectWave[], lengthUs: (w: ConnectWave) => number): boolean {
  let endUs = -Infinity;
  for (const w of waves) {
    if (w.devices <= 0) continue;
    if (w.atUs < endUs) return true;
    endUs = Math.max(endUs, w.atUs + lengthUs(w));
  }
  return false;
}

function formatDrift(devices: number): string {
  return devices < 1000
    ? `${devices} ns`
    : devices < 1e6
      ? `${round3(devices / 1e3)} µs`
      : `${round3(devices / 1e6)} ms`;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
