/**
 * Turns a validated scenario into the resolved form the plan and the engine use: durations in µs,
 * wave device counts filled in, --scale and flag overrides applied. The resolved scenario is what
 * results.json records, so a run can be reproduced from its report.
 */
import { HerdError } from '../errors.js';
import { mustParseDurationUs } from '../util/duration.js';
import type { Scenario, Wave } from './schema.js';

export interface ResolvedDevice {
  protocol: 'mqtt';
  mqttVersion: 4 | 5;
  clientId: string;
  username: string | null;
  password: string | null;
  keepaliveUs: number;
  cleanSession: boolean;
  connectTimeoutUs: number;
}

export type ResolvedWave =
  | { type: 'ramp'; name: string; atUs: number; devices: number; overUs: number }
  | { type: 'spike'; name: string; atUs: number; devices: number }
  | { type: 'steps'; name: string; atUs: number; devices: number; steps: number; everyUs: number }
  | { type: 'rate'; name: string; atUs: number; devices: number; rate: number; overUs: number; arrival: 'uniform' | 'poisson' };

export interface ResolvedScenario {
  version: number;
  name: string;
  description: string | null;
  target: string;
  seed: number;
  scale: number;
  devices: number;
  device: ResolvedDevice;
  waves: ResolvedWave[];
  holdUs: number;
  /** Time from the run origin at which teardown starts. */
  durationUs: number;
  thresholds: Record<string, string[]>;
}

export interface Overrides {
  target?: string;
  devices?: number;
  seed?: number;
  scale?: number;
}

/** A wave's own length: the time from its start to its last intended connect. */
export function waveLengthUs(w: ResolvedWave): number {
  switch (w.type) {
    case 'ramp':
    case 'rate':
      return w.overUs;
    case 'spike':
      return 0;
    case 'steps':
      return (w.steps - 1) * w.everyUs;
  }
}

export function resolveScenario(s: Scenario, overrides: Overrides = {}, defaultSeed = 1): ResolvedScenario {
  const scale = overrides.scale ?? 1;
  const problems: string[] = [];
  const baseDevices = overrides.devices ?? s.devices;
  // --devices sets the fleet size before scaling, so `--devices 200 --scale 5` means 1,000 devices.
  const devices = Math.round(baseDevices * scale);
  const waveScale = devices / s.devices;

  const waves: ResolvedWave[] = [];
  let cursorUs = 0;
  let assigned = 0;
  const openIndex = s.waves.findIndex((w) => w.type !== 'rate' && w.devices === undefined);
  s.waves.forEach((w, i) => {
    if (w.type !== 'rate' && w.devices === undefined && i !== openIndex) {
      problems.push(`waves[${i}].devices: only one wave may leave its device count out (it takes the devices left)`);
    }
  });

  // Fixed counts first, so the open wave knows the remainder.
  const counts = s.waves.map((w) => fixedCount(w, waveScale));
  const fixedTotal = counts.reduce<number>((a, c) => a + (c ?? 0), 0);
  s.waves.forEach((w, i) => {
    const name = w.name ?? `${w.type}-${i + 1}`;
    const atUs = w.at === undefined ? cursorUs : mustParseDurationUs(w.at);
    const n = counts[i] ?? Math.max(0, devices - fixedTotal);
    assigned += n;
    let rw: ResolvedWave;
    switch (w.type) {
      case 'ramp':
        rw = { type: 'ramp', name, atUs, devices: n, overUs: mustParseDurationUs(w.over) };
        break;
      case 'spike':
        rw = { type: 'spike', name, atUs, devices: n };
        break;
      case 'steps':
        rw = { type: 'steps', name, atUs, devices: n, steps: w.steps, everyUs: mustParseDurationUs(w.every) };
        break;
      case 'rate':
        rw = { type: 'rate', name, atUs, devices: n, rate: w.rate * waveScale, overUs: mustParseDurationUs(w.over), arrival: w.arrival };
        break;
    }
    waves.push(rw);
    cursorUs = Math.max(cursorUs, atUs + waveLengthUs(rw));
  });
  if (assigned !== devices) {
    problems.push(
      `waves: the waves connect ${assigned} devices but devices is ${devices}` +
        (scale !== 1 ? ` (after --scale ${scale})` : '') +
        '; give one wave no device count to take the rest, or make the counts add up',
    );
  }
  const holdUs = mustParseDurationUs(s.hold);
  const lastConnectUs = cursorUs;
  let durationUs = lastConnectUs + holdUs;
  if (s.duration !== undefined) {
    durationUs = mustParseDurationUs(s.duration);
    if (durationUs < lastConnectUs) {
      problems.push(`duration: ${s.duration} ends before the last wave does (at ${lastConnectUs / 1e6}s)`);
    }
  }
  if (problems.length > 0) {
    throw new HerdError('E_SCENARIO_INVALID', `scenario "${s.name}" is not valid`, problems);
  }
  const d = s.device;
  return {
    version: s.version,
    name: s.name,
    description: s.description ?? null,
    target: overrides.target ?? s.target,
    seed: overrides.seed ?? s.seed ?? defaultSeed,
    scale,
    devices,
    device: {
      protocol: d.protocol,
      mqttVersion: d.mqttVersion === '3.1.1' ? 4 : 5,
      clientId: d.clientId,
      username: d.username ?? null,
      password: d.password ?? null,
      keepaliveUs: mustParseDurationUs(d.keepalive),
      cleanSession: d.cleanSession,
      connectTimeoutUs: mustParseDurationUs(d.connectTimeout),
    },
    waves,
    holdUs,
    durationUs,
    thresholds: Object.fromEntries(
      Object.entries(s.thresholds ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
    ),
  };
}

function fixedCount(w: Wave, waveScale: number): number | undefined {
  if (w.type === 'rate') return Math.round(w.rate * waveScale * (mustParseDurationUs(w.over) / 1e6));
  return w.devices === undefined ? undefined : Math.round(w.devices * waveScale);
}
