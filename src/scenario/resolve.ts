/**
 * Turns a valid scenario into the resolved form the plan and the engine use (types in
 * results/resolved-scenario.ts): durations in µs, shares as fractions, wave and cohort device counts
 * filled in, --scale and flag overrides applied. Pure; the checks live in scenario/validate.ts,
 * which also uses the wave and cohort helpers here so both agree on every count.
 */
import { mustParseDurationUs } from '../util/duration.js';
import type { CohortInput, DeviceOptions, ReconnectInput, Scenario } from './schema.js';
import { resolveReconnect, sdkDeviceDefaults, sdkStore } from './resolve-reconnect.js';
import type { StoreInput } from './messaging-schema.js';
import { STORE_NONE, type ResolvedStore } from '../results/resolved-scenario.js';
import { declaredName, type DeclaredOutageInput } from './declared-schema.js';
import {
  waveLengthUs,
  type DeclaredOutage,
  type OutageWindow,
  type ResolvedCohort,
  type ResolvedDevice,
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

export type WaveInput = Scenario['waves'][number];

/** The fleet after --devices and --scale; waveScale scales the waves' own counts and rates. */
export function fleetSize(
  scenarioDevices: number,
  o: Overrides,
): { devices: number; scale: number; waveScale: number } {
  const scale = o.scale ?? 1;
  // --devices sets the fleet size before scaling, so `--devices 200 --scale 5` means 1,000 devices.
  const devices = Math.round((o.devices ?? scenarioDevices) * scale);
  return { devices, scale, waveScale: devices / scenarioDevices };
}

export interface WavesResolution {
  waves: ResolvedWave[];
  /** Devices the connect waves connect, to compare with the fleet. */
  assigned: number;
  /** When the last wave's last intended action is. */
  lastEventUs: number;
}

/** Waves in µs with device counts: a wave without a count takes the devices the others leave. */
export function resolveWaves(inputs: readonly WaveInput[], devices: number, waveScale: number): WavesResolution {
  const counts = inputs.map((w) => fixedCount(w, waveScale));
  const fixedTotal = counts.reduce<number>((a, c) => a + (c ?? 0), 0);
  const waves: ResolvedWave[] = [];
  let cursorUs = 0;
  let lastEventUs = 0;
  let assigned = 0;
  inputs.forEach((w, i) => {
    const name = w.name ?? `${w.type}-${i + 1}`;
    const atUs = w.at === undefined ? cursorUs : mustParseDurationUs(w.at);
    let rw: ResolvedWave;
    if (w.type === 'outage') {
      rw = {
        type: 'outage',
        name,
        atUs,
        share: parseShare(w.share),
        cohort: w.cohort ?? null,
        mode: w.mode,
        offlineUs: mustParseDurationUs(w.offline),
      };
    } else if (w.type === 'churn') {
      rw = { type: 'churn', name, atUs, overUs: mustParseDurationUs(w.over), perMinute: parseShare(w.perMinute) };
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
          rw = {
            type: 'rate',
            name,
            atUs,
            devices: n,
            rate: w.rate * waveScale,
            overUs: mustParseDurationUs(w.over),
            arrival: w.arrival,
          };
          break;
      }
      cursorUs = Math.max(cursorUs, atUs + waveLengthUs(rw));
    }
    lastEventUs = Math.max(lastEventUs, atUs + waveLengthUs(rw));
    waves.push(rw);
  });
  return { waves, assigned, lastEventUs };
}

/**
 * The pure conversion of a scenario that scenario/validate.ts found valid (with these overrides):
 * it checks nothing, so it must not be given anything else.
 */
export function resolveScenario(s: Scenario, overrides: Overrides = {}, defaultSeed = 1): ResolvedScenario {
  const { devices, scale, waveScale } = fleetSize(s.devices, overrides);
  const { waves, lastEventUs } = resolveWaves(s.waves, devices, waveScale);
  const holdUs = mustParseDurationUs(s.hold);
  const durationUs = s.duration === undefined ? lastEventUs + holdUs : mustParseDurationUs(s.duration);
  const embeddedTarget = resolveEmbedded(s, overrides);
  const declared = (s.declaredOutages ?? []).map(resolveDeclared);
  return {
    version: s.version,
    name: s.name,
    description: s.description ?? null,
    target: overrides.target ?? (typeof s.target === 'string' ? s.target : 'embedded'),
    embeddedTarget,
    seed: overrides.seed ?? s.seed ?? defaultSeed,
    scale,
    devices,
    device: resolveDevice(s.cohorts === undefined ? { ...s.device, ...sdkDeviceDefaults(s.reconnect) } : s.device),
    cohorts: resolveCohorts(s.cohorts, s.device, s.reconnect, devices),
    waves,
    outageWindows: [...outageWindows(waves, embeddedTarget), ...declared.map(declaredWindow)],
    declaredOutages: declared,
    observedOutages: observedRule(s.observedOutages),
    holdUs,
    durationUs,
    thresholds: Object.fromEntries(Object.entries(s.thresholds ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])),
  };
}

function observedRule(o: Scenario['observedOutages']): ResolvedScenario['observedOutages'] {
  if (o === false) return null;
  return { windowUs: mustParseDurationUs(o.window), minDevices: o.minDevices, share: parseShare(o.share) };
}

function resolveDeclared(o: DeclaredOutageInput, i: number): DeclaredOutage {
  return {
    name: declaredName(o, i),
    atUs: mustParseDurationUs(o.at),
    offlineUs: mustParseDurationUs(o.duration),
    break: o.break,
    restore: o.restore ?? null,
    timeoutUs: mustParseDurationUs(o.timeout),
  };
}

function declaredWindow(o: DeclaredOutage): OutageWindow {
  return { name: o.name, side: 'declared', atUs: o.atUs, offlineUs: o.offlineUs, mode: 'declared' };
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
    if (w.type === 'outage')
      out.push({ name: w.name, side: 'device', atUs: w.atUs, offlineUs: w.offlineUs, mode: w.mode });
  }
  const targetOutages = (embedded?.outages ?? []) as { at: string; duration: string; mode?: string }[];
  targetOutages.forEach((o, i) => {
    // A blackhole drops no connection: nothing for herd to see come back (its loss is lostByCloud).
    if (o.mode === 'blackhole') return;
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

export function isConnectInput(w: WaveInput): boolean {
  return w.type === 'ramp' || w.type === 'spike' || w.type === 'steps' || w.type === 'rate';
}

function fixedCount(w: WaveInput, waveScale: number): number | undefined {
  if (w.type === 'rate') return Math.round(w.rate * waveScale * (mustParseDurationUs(w.over) / 1e6));
  if (w.type === 'outage' || w.type === 'churn') return 0;
  return w.devices === undefined ? undefined : Math.round(w.devices * waveScale);
}

/** `publish.store` over the SDK's store (a preset's) over herd's default, none. */
export function resolveStore(input: StoreInput | undefined, sdk: ResolvedStore | null): ResolvedStore {
  const base = sdk ?? STORE_NONE;
  if (input === undefined) return { ...base };
  if (input === 'none') return { ...STORE_NONE };
  return {
    resend: input.resend ?? base.resend,
    offlineQueue: input.offlineQueue === 'unbounded' ? null : (input.offlineQueue ?? base.offlineQueue),
    overflow: input.overflow ?? base.overflow,
    queueQos0: input.queueQos0 ?? base.queueQos0,
  };
}

export function resolveDevice(d: DeviceOptions, sdk: ResolvedStore | null = null): ResolvedDevice {
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
    downlink:
      d.downlink === undefined
        ? null
        : {
            everyUs: mustParseDurationUs(d.downlink.every),
            qos: d.downlink.qos,
            payloadBytes: d.downlink.payloadBytes,
            stopBeforeEndUs: mustParseDurationUs(d.downlink.stopBeforeEnd),
            fromUs: d.downlink.from === undefined ? 0 : mustParseDurationUs(d.downlink.from),
            untilUs: d.downlink.until === undefined ? null : mustParseDurationUs(d.downlink.until),
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
            store: resolveStore(p.store, sdk),
          },
    protocol: d.protocol,
    mqttVersion: d.mqttVersion === '3.1.1' ? 4 : 5,
    clientId: d.clientId,
    username: d.username ?? null,
    password: d.password ?? null,
    keepaliveUs: mustParseDurationUs(d.keepalive),
    cleanSession: d.cleanSession,
    connectTimeoutUs: mustParseDurationUs(d.connectTimeout),
    dnsTtlUs: mustParseDurationUs(d.dnsTtl),
    engine: d.engine,
  };
}

function resolveCohorts(
  inputs: CohortInput[] | undefined,
  base: DeviceOptions,
  reconnectInput: ReconnectInput,
  devices: number,
): ResolvedCohort[] {
  const reconnect = resolveReconnect(reconnectInput);
  if (inputs === undefined) {
    return [
      {
        name: 'default',
        share: 1,
        devices,
        device: resolveDevice({ ...base, ...sdkDeviceDefaults(reconnectInput) }, sdkStore(reconnectInput)),
        reconnect,
        targets: null,
      },
    ];
  }
  const shares = inputs.map((c) => parseShare(c.share));
  const total = shares.reduce((a, b) => a + b, 0);
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
    device: resolveDevice(cohortDeviceOptions(base, c, reconnectInput), sdkStore(c.reconnect ?? reconnectInput)),
    reconnect: c.reconnect === undefined ? reconnect : resolveReconnect(c.reconnect),
    targets: c.targets ?? null,
  }));
}

/**
 * A cohort's device options: the scenario-wide ones, then what its reconnect preset's SDK defaults
 * (keepalive, CONNACK timeout, clean session), then the cohort's own on top.
 */
export function cohortDeviceOptions(
  base: DeviceOptions,
  c: CohortInput,
  reconnectInput?: ReconnectInput,
): DeviceOptions {
  return {
    ...base,
    ...sdkDeviceDefaults(c.reconnect ?? reconnectInput),
    ...stripUndefined(c.device ?? {}),
  } as DeviceOptions;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
