/**
 * Turns a validated scenario into the resolved form the plan and the engine use: durations in µs,
 * shares as fractions, wave and cohort device counts filled in, --scale and flag overrides applied.
 * The resolved scenario is what results.json records, so a run can be reproduced from its report.
 */
import { HerdError } from '../errors.js';
import { mustParseDurationUs } from '../util/duration.js';
import type { CohortInput, DeviceOptions, ReconnectInput, Scenario } from './schema.js';
import { parseTargetUrl } from '../util/target-url.js';
import {
  waveLengthUs,
  type OutageWindow,
  type ResolvedCohort,
  type ResolvedDevice,
  type ResolvedReconnect,
  type ResolvedScenario,
  type ResolvedWave,
} from '../results/resolved-scenario.js';

export interface Overrides {
  target?: string;
  /** --target-profile: the embedded target's profile, overriding the scenario's. */
  targetProfile?: string;
  devices?: number;
  seed?: number;
  scale?: number;
}

export function parseShare(v: number | string): number {
  return typeof v === 'number' ? v : Number(v.slice(0, -1)) / 100;
}

type WaveInput = Scenario['waves'][number];

/** Churn events are planned ahead (pure plan), so their number is bounded like the fleet is. */
export const MAX_CHURN_EVENTS = 10_000_000;

export function resolveScenario(s: Scenario, overrides: Overrides = {}, defaultSeed = 1): ResolvedScenario {
  // A bad --target is named as the flag, whichever command passed it.
  if (overrides.target !== undefined && overrides.target !== 'embedded') parseTargetUrl(overrides.target, '--target');
  const scale = overrides.scale ?? 1;
  const problems: string[] = [];
  const baseDevices = overrides.devices ?? s.devices;
  // --devices sets the fleet size before scaling, so `--devices 200 --scale 5` means 1,000 devices.
  const devices = Math.round(baseDevices * scale);
  const waveScale = devices / s.devices;

  const connectInputs = s.waves.map((w, i) => ({ w, i })).filter(({ w }) => isConnectInput(w));
  const isOpen = (w: WaveInput): boolean => w.type !== 'rate' && (w as { devices?: number }).devices === undefined;
  const openIndex = connectInputs.find(({ w }) => isOpen(w))?.i ?? -1;
  for (const { w, i } of connectInputs) {
    if (isOpen(w) && i !== openIndex) {
      problems.push(`waves[${i}].devices: only one wave may leave its device count out (it takes the devices left)`);
    }
  }
  const counts = s.waves.map((w) => fixedCount(w, waveScale));
  const fixedTotal = counts.reduce<number>((a, c) => a + (c ?? 0), 0);

  const waves: ResolvedWave[] = [];
  let cursorUs = 0;
  let lastEventUs = 0;
  let assigned = 0;
  s.waves.forEach((w, i) => {
    const name = w.name ?? `${w.type}-${i + 1}`;
    const atUs = w.at === undefined ? cursorUs : mustParseDurationUs(w.at);
    let rw: ResolvedWave;
    if (w.type === 'outage') {
      if (w.cohort !== undefined && !(s.cohorts ?? []).some((c) => c.name === w.cohort)) {
        problems.push(`waves[${i}].cohort: no cohort is named "${w.cohort}"`);
      }
      rw = { type: 'outage', name, atUs, share: parseShare(w.share), cohort: w.cohort ?? null, mode: w.mode, offlineUs: mustParseDurationUs(w.offline) };
    } else if (w.type === 'churn') {
      rw = { type: 'churn', name, atUs, overUs: mustParseDurationUs(w.over), perMinute: parseShare(w.perMinute) };
      const events = rw.perMinute * devices * (rw.overUs / 60e6);
      if (events > MAX_CHURN_EVENTS) {
        problems.push(`waves[${i}]: this churn would disconnect ${Math.round(events).toLocaleString('en')} devices; at most ${MAX_CHURN_EVENTS.toLocaleString('en')} per wave`);
      }
    } else {
      const n = counts[i] ?? Math.max(0, devices - fixedTotal);
      assigned += n;
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
      cursorUs = Math.max(cursorUs, atUs + waveLengthUs(rw));
    }
    lastEventUs = Math.max(lastEventUs, atUs + waveLengthUs(rw));
    waves.push(rw);
  });
  if (connectInputs.length === 0) problems.push('waves: at least one wave must connect devices (ramp, spike, steps or rate)');
  if (assigned !== devices && connectInputs.length > 0) {
    problems.push(
      `waves: the waves connect ${assigned} devices but devices is ${devices}` +
        (scale !== 1 ? ` (after --scale ${scale})` : '') +
        '; give one wave no device count to take the rest, or make the counts add up',
    );
  }
  const holdUs = mustParseDurationUs(s.hold);
  let durationUs = lastEventUs + holdUs;
  if (s.duration !== undefined) {
    durationUs = mustParseDurationUs(s.duration);
    if (durationUs < lastEventUs) {
      problems.push(`duration: ${s.duration} ends before the last wave does (at ${lastEventUs / 1e6}s)`);
    }
  }
  const embeddedTarget = resolveEmbedded(s, overrides);
  const device = resolveDevice(s.device);
  const reconnect = resolveReconnect(s.reconnect);
  const cohorts = resolveCohorts(s.cohorts, s.device, reconnect, devices, problems);
  cohorts.forEach((c, i) => {
    const where = s.cohorts === undefined ? 'device' : `cohorts[${i}].device`;
    if (c.device.protocol !== 'websocket') return;
    if (c.device.transport === 'mqtts') problems.push(`${where}.transport: websocket devices use ws or wss, not mqtts`);
    if (c.device.publish !== null) problems.push(`${where}.publish: telemetry is for MQTT devices; websocket devices do not publish`);
    if (c.device.requests !== null) problems.push(`${where}.requests: requests are for MQTT devices`);
  });
  cohorts.forEach((c, i) => {
    if (c.device.requests !== null && c.targets !== null) problems.push(`cohorts[${i}].requests: requests go through the run's target; a cohort with its own targets cannot take them`);
  });
  if (problems.length > 0) {
    throw new HerdError('E_SCENARIO_INVALID', `scenario "${s.name}" is not valid`, problems);
  }
  return {
    version: s.version,
    name: s.name,
    description: s.description ?? null,
    target: overrides.target ?? (typeof s.target === 'string' ? s.target : 'embedded'),
    embeddedTarget,
    seed: overrides.seed ?? s.seed ?? defaultSeed,
    scale,
    devices,
    device,
    cohorts,
    waves,
    outageWindows: outageWindows(waves, embeddedTarget),
    holdUs,
    durationUs,
    thresholds: Object.fromEntries(Object.entries(s.thresholds ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])),
  };
}

function resolveEmbedded(s: Scenario, o: Overrides): Record<string, unknown> | null {
  if (o.target !== undefined && o.target !== 'embedded') return null;
  const written = typeof s.target === 'string' ? null : (s.target.embedded as Record<string, unknown>);
  if (o.targetProfile === undefined) return written;
  return { ...(written ?? {}), profile: o.targetProfile };
}

function outageWindows(waves: ResolvedWave[], embedded: Record<string, unknown> | null): OutageWindow[] {
  const out: OutageWindow[] = [];
  for (const w of waves) {
    if (w.type === 'outage') out.push({ name: w.name, side: 'device', atUs: w.atUs, offlineUs: w.offlineUs, mode: w.mode });
  }
  const targetOutages = (embedded?.outages ?? []) as { at: string; duration: string; mode?: string }[];
  targetOutages.forEach((o, i) => {
    out.push({
      name: `target-outage-${i + 1}`,
      side: 'target',
      atUs: mustParseDurationUs(o.at),
      offlineUs: mustParseDurationUs(o.duration),
      mode: o.mode ?? 'close',
    });
  });
  return out;
}

function isConnectInput(w: WaveInput): boolean {
  return w.type === 'ramp' || w.type === 'spike' || w.type === 'steps' || w.type === 'rate';
}

function fixedCount(w: WaveInput, waveScale: number): number | undefined {
  if (w.type === 'rate') return Math.round(w.rate * waveScale * (mustParseDurationUs(w.over) / 1e6));
  if (w.type === 'outage' || w.type === 'churn') return 0;
  return w.devices === undefined ? undefined : Math.round(w.devices * waveScale);
}

function resolveDevice(d: DeviceOptions): ResolvedDevice {
  const p = d.publish;
  // A websocket device speaks plain WebSocket: the default transport (mqtt) means ws for it.
  const transport = d.protocol === 'websocket' && d.transport === 'mqtt' ? 'ws' : d.transport;
  return {
    transport,
    hello: d.hello ?? null,
    requests:
      d.requests === undefined
        ? null
        : {
            everyUs: mustParseDurationUs(d.requests.every),
            qos: d.requests.qos,
            payloadBytes: d.requests.payloadBytes,
            stopBeforeEndUs: mustParseDurationUs(d.requests.stopBeforeEnd),
          },
    subprotocol: d.subprotocol ?? null,
    tls: d.tls === undefined ? null : { ...d.tls },
    sessionExpiryS: d.sessionExpiry === undefined ? null : Math.round(mustParseDurationUs(d.sessionExpiry) / 1e6),
    publish:
      p === undefined
        ? null
        : {
            everyUs: mustParseDurationUs(p.every),
            qos: p.qos,
            topic: p.topic,
            payloadBytes: p.payloadBytes,
            echo: p.echo,
            stopBeforeEndUs: mustParseDurationUs(p.stopBeforeEnd),
          },
    protocol: d.protocol,
    mqttVersion: d.mqttVersion === '3.1.1' ? 4 : 5,
    clientId: d.clientId,
    username: d.username ?? null,
    password: d.password ?? null,
    keepaliveUs: mustParseDurationUs(d.keepalive),
    cleanSession: d.cleanSession,
    connectTimeoutUs: mustParseDurationUs(d.connectTimeout),
  };
}

export function resolveReconnect(r: ReconnectInput): ResolvedReconnect {
  switch (r.policy) {
    case 'none':
      return { policy: 'none' };
    case 'fixed':
      return { policy: 'fixed', delayUs: mustParseDurationUs(r.delay), jitter: r.jitter, maxAttempts: r.maxAttempts ?? null };
    case 'linear':
      return {
        policy: 'linear',
        initialUs: mustParseDurationUs(r.initial),
        stepUs: mustParseDurationUs(r.step),
        maxUs: mustParseDurationUs(r.max),
        jitter: r.jitter,
        maxAttempts: r.maxAttempts ?? null,
      };
    case 'exponential':
      return {
        policy: 'exponential',
        initialUs: mustParseDurationUs(r.initial),
        multiplier: r.multiplier,
        maxUs: mustParseDurationUs(r.max),
        jitter: r.jitter,
        maxAttempts: r.maxAttempts ?? null,
      };
  }
}

function resolveCohorts(
  inputs: CohortInput[] | undefined,
  base: DeviceOptions,
  reconnect: ResolvedReconnect,
  devices: number,
  problems: string[],
): ResolvedCohort[] {
  if (inputs === undefined) {
    return [{ name: 'default', share: 1, devices, device: resolveDevice(base), reconnect, targets: null }];
  }
  const shares = inputs.map((c) => parseShare(c.share));
  const total = shares.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-9) problems.push(`cohorts: the shares add up to ${Math.round(total * 10_000) / 100}%, expected 100%`);
  const names = new Set<string>();
  inputs.forEach((c, i) => {
    if (names.has(c.name)) problems.push(`cohorts[${i}].name: "${c.name}" is used twice`);
    names.add(c.name);
    c.targets?.forEach((t, j) => {
      try {
        parseTargetUrl(t, `cohorts[${i}].targets[${j}]`);
      } catch (err) {
        problems.push((err as Error).message);
      }
    });
  });
  // Largest remainder, so cohort sizes add up to the fleet exactly.
  const exact = shares.map((s) => (s / (total || 1)) * devices);
  const sizes = exact.map(Math.floor);
  let left = devices - sizes.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    sizes[i] = (sizes[i] as number) + 1;
    left--;
  }
  return inputs.map((c, i) => ({
    name: c.name,
    share: shares[i] as number,
    devices: sizes[i] as number,
    device: resolveDevice({ ...base, ...stripUndefined(c.device ?? {}) } as DeviceOptions),
    reconnect: c.reconnect === undefined ? reconnect : resolveReconnect(c.reconnect),
    targets: c.targets ?? null,
  }));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
