/**
 * The resolved scenario: durations in µs, shares as fractions, every device count filled in. It is
 * what the plan and the engine run and what results.json records (so a run can be reproduced from
 * its report), hence part of the results contract rather than of scenario/.
 */
import type { DeviceKind, TransportScheme } from '../util/target-url.js';

export interface ResolvedPublish {
  everyUs: number;
  qos: 0 | 1 | 2;
  topic: string;
  payloadBytes: number;
  echo: boolean;
  stopBeforeEndUs: number;
  /** How the device keeps its telemetry across sessions (issue 24; files before 1.4.0 read as none). */
  store: ResolvedStore;
}

/** A device's message store (engine/message-store.ts): `publish.store` or its SDK preset's default. */
export interface ResolvedStore {
  /** Unacknowledged QoS 1/2 publishes resent after a reconnect: in any new session, a resumed one only, never. */
  resend: 'always' | 'session' | 'never';
  /** Publishes held while offline; null = no limit, 0 = none (dropped by the device). */
  offlineQueue: number | null;
  /** Which message the device drops when the queue is full. */
  overflow: 'dropOldest' | 'dropNewest';
  /** QoS 0 publishes are queued offline too (MQTT.js queueQoSZero); false: dropped. */
  queueQos0: boolean;
}

/** `publish.store: none`, herd's default: firmware that keeps nothing (no resend, no offline queue). */
export const STORE_NONE: Readonly<ResolvedStore> = {
  resend: 'never',
  offlineQueue: 0,
  overflow: 'dropNewest',
  queueQos0: false,
};

export interface ResolvedRequests {
  everyUs: number;
  qos: 0 | 1 | 2;
  payloadBytes: number;
  stopBeforeEndUs: number;
}

/** Cloud → device messages the cloud keeps sending whether the device is online or not (issue 16). */
export interface ResolvedDownlink {
  everyUs: number;
  qos: 0 | 1 | 2;
  payloadBytes: number;
  stopBeforeEndUs: number;
  /** The cloud sends only in [fromUs, untilUs) from the run origin (untilUs null: until teardown − stopBeforeEndUs). */
  fromUs: number;
  untilUs: number | null;
}

export interface ResolvedDevice {
  transport: TransportScheme;
  tls: Record<string, unknown> | null;
  /** websocket devices: hello frame template and subprotocol (null for MQTT devices or when unset). */
  hello: string | null;
  subprotocol: string | null;
  sessionExpiryS: number | null;
  publish: ResolvedPublish | null;
  requests: ResolvedRequests | null;
  downlink: ResolvedDownlink | null;
  protocol: DeviceKind;
  mqttVersion: 4 | 5;
  clientId: string;
  username: string | null;
  password: string | null;
  keepaliveUs: number;
  cleanSession: boolean;
  connectTimeoutUs: number;
  /** How long a host name's answer serves the target's attempts (0: each attempt looks it up). */
  dnsTtlUs: number;
  /** Connect path asked for (default auto): js, native (the native storm core where it applies) or auto. */
  engine: 'js' | 'native' | 'auto';
}

export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated' | 'proportional';

/**
 * Written only when set, so results of scenarios without them keep their shape:
 * `jitterShare` (jitter proportional; absent = 0.05) and `resetAfterUs` (absent = the backoff
 * restarts on every connect).
 */
export interface PolicyExtras {
  jitterShare?: number | undefined;
  resetAfterUs?: number | undefined;
  /** What the device does when an MQTT 5 server steers it (absent = adopt Server Keep Alive only). */
  serverSignals?: { backoffOn: number[]; followServerReference: boolean; adoptServerKeepAlive: boolean } | undefined;
}

export type ResolvedReconnect =
  | { policy: 'none' }
  | ({ policy: 'fixed'; delayUs: number; jitter: Jitter; maxAttempts: number | null } & PolicyExtras)
  | ({
      policy: 'linear';
      initialUs: number;
      stepUs: number;
      maxUs: number;
      jitter: Jitter;
      maxAttempts: number | null;
    } & PolicyExtras)
  | ({
      policy: 'exponential';
      initialUs: number;
      multiplier: number;
      maxUs: number;
      jitter: Jitter;
      maxAttempts: number | null;
    } & PolicyExtras);

export interface ResolvedCohort {
  name: string;
  share: number;
  devices: number;
  device: ResolvedDevice;
  reconnect: ResolvedReconnect;
  /** Failover list; null = the scenario target. */
  targets: string[] | null;
}

export type ConnectWave =
  | { type: 'ramp'; name: string; atUs: number; devices: number; overUs: number }
  | { type: 'spike'; name: string; atUs: number; devices: number }
  | { type: 'steps'; name: string; atUs: number; devices: number; steps: number; everyUs: number }
  | {
      type: 'rate';
      name: string;
      atUs: number;
      devices: number;
      rate: number;
      overUs: number;
      arrival: 'uniform' | 'poisson';
    };

/** How herd drops a device in an outage wave: the one list the schemas, types and docs read. */
export const OUTAGE_MODES = ['disconnect', 'reset', 'silent', 'reboot'] as const;
export type OutageMode = (typeof OUTAGE_MODES)[number];

export type EventWave =
  | {
      type: 'outage';
      name: string;
      atUs: number;
      share: number;
      cohort: string | null;
      mode: OutageMode;
      offlineUs: number;
    }
  | { type: 'churn'; name: string; atUs: number; overUs: number; perMinute: number };

export type ResolvedWave = ConnectWave | EventWave;

/**
 * A time window whose disconnected devices are tracked until they are back: a device-side outage
 * wave (herd drops the devices), an outage of the embedded target (the target drops them) or a
 * declared outage (the scenario's own commands break and restore the target).
 */
export interface OutageWindow {
  name: string;
  side: 'device' | 'target' | 'declared';
  atUs: number;
  offlineUs: number;
  mode: string;
}

/** What became of a declared outage's command (results.json `outages[].commands[].outcome`). */
export const COMMAND_OUTCOMES = [
  'ok',
  'failed',
  'timeout',
  'interrupted',
  'not-run',
  'spawn-error',
  'other-shard',
] as const;
export type CommandOutcome = (typeof COMMAND_OUTCOMES)[number];

/** A declared outage: `break` runs at atUs, `restore` (if any) at atUs + offlineUs, by /bin/sh -c. */
export interface DeclaredOutage {
  name: string;
  atUs: number;
  offlineUs: number;
  break: string;
  restore: string | null;
  timeoutUs: number;
}

export interface ResolvedScenario {
  version: number;
  name: string;
  description: string | null;
  /** "embedded" or a URL. */
  target: string;
  /** Options of the embedded target (profile and failure knobs), as written; null = defaults. */
  embeddedTarget: Record<string, unknown> | null;
  seed: number;
  scale: number;
  devices: number;
  /** The scenario-wide device options (cohorts override them). */
  device: ResolvedDevice;
  cohorts: ResolvedCohort[];
  waves: ResolvedWave[];
  /** Device outage waves in order, then the embedded target's outages. */
  outageWindows: OutageWindow[];
  /** Commands that break and restore the target (scenario `declaredOutages`), in list order. */
  declaredOutages: DeclaredOutage[];
  /** The rule for outages herd did not cause (metrics/observed-outages.ts); null = off. */
  observedOutages: { windowUs: number; minDevices: number; share: number } | null;
  holdUs: number;
  /** Time from the run origin at which teardown starts. */
  durationUs: number;
  thresholds: Record<string, string[]>;
}

export function isConnectWave(w: ResolvedWave): w is ConnectWave {
  return w.type === 'ramp' || w.type === 'spike' || w.type === 'steps' || w.type === 'rate';
}

/** A wave's own length: from its start to its last intended action. */
export function waveLengthUs(w: ResolvedWave): number {
  switch (w.type) {
    case 'ramp':
    case 'rate':
    case 'churn':
      return w.overUs;
    case 'spike':
      return 0;
    case 'steps':
      return (w.steps - 1) * w.everyUs;
    case 'outage':
      return w.offlineUs;
  }
}
