/**
 * The engine's one seam to protocols/: a `Device` of any kind, the one `DeviceOwner` every kind
 * reports to, and the row a device kind fills in the table of kinds (kinds.ts). Types only, so
 * every kind's folder can import it without a cycle.
 */
import type { Failure } from './classify.js';
import type { NameCache } from './names.js';
import type { ServerSignal } from './mqtt/server-signals.js';
import type { ResolvedTls } from './transports/tls-options.js';
import type { ResolvedDevice } from '../results/resolved-scenario.js';
import type { DeviceKind, KindUrls, TargetAddress, TransportScheme } from '../util/target-url.js';

export type ConnState = 'connecting' | 'handshaking' | 'connected' | 'closing' | 'closed';

/**
 * Durations of one successful attempt in µs. A phase the device's kind or transport does not have
 * is absent (no DNS for an IP, no TLS on plain TCP, no CONNACK for a plain WebSocket device…).
 */
export interface PhaseTimes {
  dnsUs?: number;
  tcpConnectUs?: number;
  tlsHandshakeUs?: number;
  wsUpgradeUs?: number;
  /** MQTT only: CONNECT sent (transport ready) → CONNACK received. */
  mqttConnackUs?: number;
  /** Attempt start (socketOpenUs) → ready. */
  serviceUs: number;
}

/** An inbound MQTT PUBLISH. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  /** µs since origin when the packet was decoded. */
  receivedUs: number;
}

/** What the engine uses of a device's MQTT session: telemetry, requests, server signals. */
export interface MqttSession {
  readonly deviceId: number;
  readonly state: ConnState;
  readonly sessionPresent: boolean;
  /** The last MQTT 5 CONNACK/DISCONNECT signal (issue 16); null without one. */
  readonly serverSignal: ServerSignal | null;
  /** SUBSCRIBE: the packet id, or -1 when it could not be sent. SUBACK → owner.onSubscribed. */
  subscribe(topics: readonly string[], qos: 0 | 1 | 2): number;
  /**
   * PUBLISH: 0 for QoS 0, the packet id for QoS 1/2, or -1 when it could not be sent. `tag` (the
   * owner's number for the message) comes back with its PUBACK / PUBCOMP in owner.onPublished;
   * `dup` marks a resend of a message an earlier session never had acknowledged.
   */
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain?: boolean, tag?: number, dup?: boolean): number;
}

/** A device as the engine drives it, whatever its kind (tests put small in-process devices behind it). */
export interface Device {
  /** The owner's slot for this device. */
  readonly deviceId: number;
  readonly state: ConnState;
  /** µs since origin: attempt start, and protocol ready (CONNACK / upgrade); NaN until reached. */
  readonly socketOpenUs: number;
  readonly readyUs: number;
  /** When the outstanding keepalive ping was sent; NaN when none is outstanding. */
  readonly pingSentUs: number;
  readonly tlsResumed: boolean | null;
  /** MQTT: CONNACK session-present; false for devices without sessions. */
  readonly sessionPresent: boolean;
  /** The MQTT session (telemetry, requests) on either connect path; null without one (plain WebSocket). */
  readonly mqtt: MqttSession | null;
  /**
   * MQTT 5: the last CONNACK/DISCONNECT signal of this attempt (issue 16), on either connect path;
   * null or absent without one. An accepting CONNACK without properties is a signal with every
   * property null on the JavaScript path and no signal on the native core: steering treats both alike.
   */
  readonly serverSignal?: ServerSignal | null;
  phaseTimes(): PhaseTimes;
  /** A keepalive ping unless one is outstanding. */
  ping(): void;
  /** Ends the session cleanly (the owner hears onClosed). */
  end(): void;
  /** Closes at once (onClosed for a session; a pending attempt reports nothing more). */
  abort(): void;
  /** Closes at once with a TCP RST where possible. */
  reset(): void;
  /** The path goes dark: nothing read or written, the socket stays open. */
  silence(): void;
  /** The engine declared the held session dead: lost with `f` (onLost). */
  expire(f: Failure): void;
}

/** What every device reports to, whatever its kind: the engine's runner, or a test. */
export interface DeviceOwner {
  /** µs since the run origin. */
  now(): number;
  /** The attempt's handshakes are done (CONNACK accepted, upgrade done…). */
  onConnected(d: Device): void;
  /** The attempt failed before it was ready (exactly once per attempt, unless it connected). */
  onFailed(d: Device, f: Failure): void;
  /** A connected session ended without being asked to. */
  onLost(d: Device, f: Failure): void;
  /** A session we ended has closed. */
  onClosed(d: Device): void;
  /** MQTT: SUBACK arrived: granted QoS (or MQTT 5 reason codes ≥ 0x80) per topic, µs since SUBSCRIBE. */
  onSubscribed?(d: Device, packetId: number, granted: number[], latencyUs: number): void;
  /**
   * MQTT: a QoS 1 publish got its PUBACK, or a QoS 2 publish its PUBCOMP (or a failing MQTT 5
   * PUBREC): µs since PUBLISH was written; reasonCode 0 = success (MQTT 5 codes ≥ 0x80 = refused);
   * `tag` as given to publish() (0 when none).
   */
  onPublished?(d: Device, packetId: number, qos: 1 | 2, latencyUs: number, reasonCode: number, tag: number): void;
  /** MQTT: an inbound PUBLISH (a QoS 2 duplicate awaiting PUBREL is not delivered twice). */
  onMessage?(d: Device, m: InboundMessage): void;
  /** Devices without MQTT: one inbound message (a WebSocket frame, a datagram…) and when it arrived. */
  onData?(d: Device, data: Buffer, receivedUs: number): void;
  /**
   * A batch of outcomes was reported, one after the other in one turn of the event loop (the
   * native core's): what waits on them can go on now, in that turn, instead of a turn later.
   */
  batchEnded?(): void;
}

/** A target validated for a device kind once per process (kinds.ts prepareTarget). */
export interface PreparedTarget {
  kind: DeviceKind;
  endpoint: TargetAddress;
  /** Resolved for mqtts:// and wss:// (the system CA store when no settings were given); else null. */
  tls: ResolvedTls | null;
  /** A host name's answers, shared by the target's attempts (names.ts); null for an IP target. */
  names: NameCache | null;
}

/** What every kind's attempt is opened with; a kind's own options come from its row's `prepare`. */
export interface DeviceOpenOptions {
  /** Index of the device: client certificate, cached TLS session and the owner's slot. */
  deviceId: number;
  localAddress: string | undefined;
  connectTimeoutMs: number;
  /** Largest inbound packet / message. */
  maxPacketBytes: number;
  /** Cap on bytes queued for sending per connection. */
  maxBufferedBytes?: number;
  /** How many slots the owner has (an engine that keeps per-slot rows sizes them once from it). */
  slotCount?: number;
}

/** Identity template expansion (scenario/template.ts): unknown names stay as written. */
export type ExpandTemplate = (template: string, vars: Record<string, string | number>) => string;

/** One cohort as its kind's row prepares it, once per worker. */
export interface CohortSpec {
  device: ResolvedDevice;
  /** The template variables fixed for the cohort: {run}, {worker}, {cohort}. */
  fixed: { run: string; worker: number; cohort: string };
  expand: ExpandTemplate;
}

/**
 * A device kind: one row of the table in kinds.ts. Adding a kind is its folder (the device) plus
 * this row; the engine only asks the row.
 */
export interface DeviceKindRow<Own extends object = object> extends KindUrls {
  /** The transport schemes this kind's devices can use. */
  readonly schemes: readonly TransportScheme[];
  /**
   * Once per cohort: compiles what the cohort fixes (identity templates, the engine option…) and
   * returns the kind's own open options of one device (by global id) for each attempt. `slot` is
   * the device's dense row in this worker: a kind may keep by it what every attempt of the device
   * sends alike (the mqtt kind keeps each CONNECT), and the worker may call this once per device
   * before the run to build it then.
   */
  prepare(c: CohortSpec): (id: number, slot: number) => Own;
  /** Opens one attempt; the device reports to `owner` from then on. */
  open(t: PreparedTarget, o: DeviceOpenOptions & Own, owner: DeviceOwner): Device;
  /**
   * Kinds with a native core: why a cohort that asked for `device.engine: native` runs on the
   * JavaScript path (null when it does not), and whether the native core can carry a target.
   */
  readonly native?: {
    refusal(d: ResolvedDevice): string | null;
    carries(t: PreparedTarget): boolean;
    /** What `carries` accepts, for the notice. */
    readonly carriesWhat: string;
  };
}
