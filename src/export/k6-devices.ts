/**
 * Device protocols → k6 code (pure). Each protocol maps through one function returning the
 * imports, the header's requirements and a `connectDevice(d)` that connects, records the
 * outcome, holds until teardown and disconnects. Unknown protocols are listed, never dropped.
 */
import type { ResolvedDevice } from '../results/resolved-scenario.js';

export interface DeviceCode {
  imports: string[];
  /** Lines for the header's "Requires" block. */
  requires: string[];
  /** Type declarations the script needs beside it (file name → content), e.g. xk6-mqtt's. */
  sidecars: Record<string, string>;
  /** Defines `function connectDevice(d: DeviceRun): void`. */
  code: string;
  notes: string[];
}

/** The xk6-mqtt release whose API the script and its declarations follow. */
export const XK6_MQTT = { module: 'github.com/grafana/xk6-mqtt', version: 'v0.2.0', importPath: 'k6/x/mqtt' } as const;
export const XK6_MQTT_DTS = 'xk6-mqtt.d.ts';

export function mapDevice(device: ResolvedDevice): DeviceCode {
  const protocol = device.protocol as string;
  switch (protocol) {
    case 'mqtt':
      return mqttDevice(device);
    case 'ws':
      return wsDevice(device);
    default:
      return unknownDevice(protocol);
  }
}

const js = (v: unknown): string => JSON.stringify(v);

function mqttDevice(d: ResolvedDevice): DeviceCode {
  // MQTT 5 and persistent sessions are gaps (k6-gaps.ts); only approximations are noted here.
  const notes: string[] = [];
  const keepaliveS = Math.round(d.keepaliveUs / 1e6);
  if (keepaliveS * 1e6 !== d.keepaliveUs)
    notes.push(`device.keepalive: xk6-mqtt takes whole seconds; ${d.keepaliveUs / 1e6}s becomes ${keepaliveS}s`);
  const clientOptions = [`client_id: expand(${js(d.clientId)}, d)`];
  if (d.username !== null) clientOptions.push(`username: expand(${js(d.username)}, d)`);
  if (d.password !== null) clientOptions.push(`password: expand(${js(d.password)}, d)`);
  const connectTimeoutMs = Math.round(d.connectTimeoutUs / 1000);
  return {
    imports: [`import { Client } from ${js(XK6_MQTT.importPath)};`],
    requires: [
      `k6 built with the xk6-mqtt extension (${XK6_MQTT.module} ${XK6_MQTT.version}, import path "${XK6_MQTT.importPath}"):`,
      `  xk6 build --with ${XK6_MQTT.module}@${XK6_MQTT.version}`,
      `  (or a k6 whose automatic extension resolution provides "${XK6_MQTT.importPath}").`,
      `Types for "${XK6_MQTT.importPath}": ./${XK6_MQTT_DTS}, written beside this script.`,
    ],
    sidecars: { [XK6_MQTT_DTS]: xk6MqttDeclarations() },
    code: `const CONNECT_TIMEOUT_MS = ${connectTimeoutMs};

/** One device: connect, record, hold until teardown, disconnect cleanly (DISCONNECT first). */
function connectDevice(d: DeviceRun): void {
  const client = new Client({ ${clientOptions.join(', ')} });
  // With an error handler registered xk6-mqtt reports failures here instead of throwing;
  // the outcome is read from client.connected below.
  client.on('error', () => {});
  const openedMs = Date.now();
  herdScheduleLag.add(Math.max(0, openedMs - d.intendedMs));
  client.connect(TARGET, { keepalive: ${keepaliveS}, connect_timeout: CONNECT_TIMEOUT_MS, clean_session: true });
  const doneMs = Date.now();
  if (client.connected) {
    recordConnected(d, openedMs, doneMs);
    setTimeout(() => client.end(), Math.max(0, d.teardownMs - Date.now()));
  } else {
    recordFailed(d, doneMs, doneMs - openedMs >= CONNECT_TIMEOUT_MS);
  }
}`,
    notes: [
      ...notes,
      'a failed MQTT connect keeps its k6 iteration open until the scenario stops (xk6-mqtt offers no way to close a client that never connected); k6 may count it as interrupted',
    ],
  };
}

function wsDevice(d: ResolvedDevice): DeviceCode {
  const connectTimeoutMs = Math.round(d.connectTimeoutUs / 1000);
  return {
    imports: [`import { WebSocket } from 'k6/websockets';`],
    requires: ["k6 v1.0 or newer (TypeScript scripts, the stable 'k6/websockets' module)."],
    sidecars: {},
    code: `const CONNECT_TIMEOUT_MS = ${connectTimeoutMs};

/** One device: open the WebSocket, record, hold until teardown, close. */
function connectDevice(d: DeviceRun): void {
  const openedMs = Date.now();
  herdScheduleLag.add(Math.max(0, openedMs - d.intendedMs));
  const ws = new WebSocket(TARGET);
  let settled = false;
  // k6's WebSocket has no connect timeout of its own: herd's is enforced here.
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    recordFailed(d, Date.now(), true);
    ws.close();
  }, CONNECT_TIMEOUT_MS);
  ws.addEventListener('open', () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    recordConnected(d, openedMs, Date.now());
    setTimeout(() => ws.close(), Math.max(0, d.teardownMs - Date.now()));
  });
  ws.addEventListener('error', () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    recordFailed(d, Date.now(), false);
  });
}`,
    notes: [],
  };
}

function unknownDevice(protocol: string): DeviceCode {
  return {
    imports: [],
    requires: [],
    sidecars: {},
    code: `/** herd's exporter cannot express ${js(protocol)} devices in k6: fail loudly rather than test nothing. */
function connectDevice(d: DeviceRun): void {
  throw new Error(${js(`device protocol "${protocol}" is not expressible in k6`)} + ' (device ' + String(d.id) + ')');
}`,
    notes: [],
  };
}

/**
 * Ambient types for xk6-mqtt: the API of its published index.d.ts at XK6_MQTT.version, written
 * here because no npm package carries them (test/unit/export-k6-xk6-mqtt.test.ts holds them to
 * upstream's signatures, pinned in fixtures/xk6-mqtt-api.json). One deliberate difference:
 * upstream declares QoS as an enum, but the module exports only Client at run time, so an
 * imported enum would be undefined in k6; here QoS is the union of its values.
 */
export function xk6MqttDeclarations(): string {
  return `// Types for the xk6-mqtt k6 extension (${XK6_MQTT.module} ${XK6_MQTT.version}), written by herd:
// its published API (index.d.ts), except QoS, a union of values (the module exports only Client).
declare module '${XK6_MQTT.importPath}' {
  export type QoS = 0 | 1 | 2;
  export interface Will {
    topic: string;
    payload: string;
    qos?: QoS;
    retain?: boolean;
  }
  export interface HasTags {
    tags?: Record<string, string>;
  }
  export type Credentials = { username: string; password: string; };
  export type CredentialsProvider = () => Credentials;
  export interface ClientOptions extends HasTags {
    client_id?: string;
    username?: string;
    password?: string;
    credentials_provider?: CredentialsProvider;
    will?: Will;
  }
  export interface ConnectOptions extends HasTags {
    /** Seconds (default 60). */
    keepalive?: number;
    /** Milliseconds (default 30000). */
    connect_timeout?: number;
    /** Only true has an effect: false leaves Paho's default, a clean session. */
    clean_session?: boolean;
    servers?: string[];
  }
  export interface EndOptions extends HasTags {}
  export interface SubscribeOptions extends HasTags {
    qos?: QoS;
  }
  export type StringOrStrings = string | string[];
  export interface UnsubscribeOptions extends HasTags {}
  export interface PublishOptions extends HasTags {
    qos?: QoS;
    retain?: boolean;
  }
  export type StringOrArrayBuffer = string | ArrayBuffer;
  export class Client {
    readonly connected: boolean;
    constructor(options?: ClientOptions);
    connect(url: string | ConnectOptions, options?: ConnectOptions): void;
    end(options?: EndOptions): void;
    endAsync(options?: EndOptions): Promise<void>;
    reconnect(): void;
    subscribe(topic: StringOrStrings | SubscribeOptions, options?: SubscribeOptions): void;
    subscribeAsync(topic: StringOrStrings | SubscribeOptions, options?: SubscribeOptions): Promise<void>;
    unsubscribe(topics: StringOrStrings, options?: UnsubscribeOptions): void;
    unsubscribeAsync(topics: StringOrStrings, options?: UnsubscribeOptions): Promise<void>;
    publish(topic: string, payload: StringOrArrayBuffer, options?: PublishOptions): void;
    publishAsync(topic: string, payload: StringOrArrayBuffer, options?: PublishOptions): Promise<void>;
    on(event: 'connect', listener: () => void): void;
    on(event: 'end', listener: () => void): void;
    on(event: 'reconnect', listener: () => void): void;
    on(event: 'message', listener: (topic: string, payload: ArrayBuffer) => void): void;
    on(event: 'error', listener: (error: MQTTError) => void): void;
  }
  export interface MQTTError {
    name: 'MQTTError';
    message: string;
    method: string;
  }
}
`;
}
