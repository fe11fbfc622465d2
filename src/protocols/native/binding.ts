/**
 * Loads the optional native storm core (native/, built at install by scripts/build-native.js).
 * Absent or unloadable, herd runs every device on the JavaScript path; `nativeUnavailable()` says why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's surface (native/src/binding.c). `core` is an opaque handle. */
export interface NativeBinding {
  /**
   * `events`: the batch's `count` outcomes, EVENT_STRIDE numbers each, at the start of an array the
   * core reuses for the next batch (read it during the call only); `refs`: the Server References of
   * the batch's EV_SIGNAL events that carry one, in order (absent without any); `blob`: the inbound
   * bytes its EV_MESSAGE and EV_SUBACK events point into (absent without any).
   */
  create(
    onBatch: (events: Float64Array, count: number, refs?: string[], blob?: Buffer) => void,
    maxPacketBytes: number,
    onWake?: () => void,
  ): NativeHandle;
  /** Outcomes the core's reused batch array holds (a larger batch comes in an array of its own). */
  readonly batchKeptEvents: number;
  /**
   * 0, or the errno of a failure before anything was sent. The core owns the attempt's connect
   * timeout (native/src/deadline.h): once `connectTimeoutMs` (whole ms, as a Node timer started now)
   * passes before CONNACK, the socket is closed and EV_TIMEOUT reports the phase it was in. A
   * socket already connected when connect() returns (loopback, near targets) sends CONNECT at once,
   * or, with `tlsFollows` (useTls next), its ClientHello from useTls.
   */
  open(
    core: NativeHandle,
    id: number,
    ip: string,
    port: number,
    sourceIp: string | null,
    connectPacket: Buffer,
    protocolVersion: number,
    connectTimeoutMs: number,
    tlsFollows: boolean,
  ): number;
  ping(core: NativeHandle, id: number): void;
  /**
   * PUBLISH on a held connection (`flags` = QoS | retain << 2 | dup << 3): 0 for QoS 0, the packet
   * id for QoS 1 (its PUBACK comes back as EV_PUBACK with `tag`), -1 when refused (not held,
   * in-flight cap, send buffer full, QoS 2).
   */
  publish(core: NativeHandle, id: number, topic: string, payload: Buffer, flags: number, tag: number): number;
  /** SUBSCRIBE to `topics` at `qos` on a held connection: the packet id (EV_SUBACK), or -1 when refused. */
  subscribe(core: NativeHandle, id: number, topics: readonly string[], qos: number): number;
  end(core: NativeHandle, id: number): void;
  abort(core: NativeHandle, id: number): void;
  reset(core: NativeHandle, id: number): void;
  silence(core: NativeHandle, id: number): void;
  /**
   * A reboot: the silenced connection of slot `id` leaves the slot with its socket still open (for
   * the target to close or take over); its index for closeDetached, or -1 when the slot holds none.
   */
  detach(core: NativeHandle, id: number): number;
  closeDetached(core: NativeHandle, index: number): void;
  /** Bytes one connection holds beyond its fixed record (unsent CONNECT, ≤ 6 kept header bytes). */
  bufferedBytes(core: NativeHandle, id: number): number;
  close(core: NativeHandle): void;
  /**
   * [live connections, bytes the core holds, connect deadlines queued (pending attempts and stale
   * entries), whether its last wake-up stopped at its per-turn bound with socket events still waiting].
   */
  stats(core: NativeHandle): [number, number, number, boolean];
  /**
   * Arms the core's one wake-up (a timerfd on its epoll set) `us` µs from now, replacing an armed
   * one; `us` < 0 disarms it. When it expires, `onWake` is called once, after the outcomes of the
   * same loop turn. While armed it keeps the process alive, as a Node timer does.
   */
  wakeAfter(core: NativeHandle, us: number): void;
  /** CLOCK_MONOTONIC in µs: the clock of the timestamps in a batch. */
  nowUs(): number;
  /**
   * Tests: the core's MQTT 5 signal reader run on one CONNACK (2) or DISCONNECT (14) body fed in
   * pieces of `pieceBytes` (0: whole): an EV_SIGNAL's code, t1, t2 and Server Reference, or null if malformed.
   */
  parseSignal(body: Buffer, packetType: number, pieceBytes: number): [number, number, number, string | null] | null;
  /**
   * A TLS setting of the core (native/src/tls_binding.c): its index (≥ 1). Versions as 0x0303…,
   * `alpn` in wire format, `checkName` the name or IP the certificate must carry, `maxSessions` 0
   * to keep none. Throws E_NATIVE when OpenSSL refuses a part of it.
   */
  tlsConfig(
    core: NativeHandle,
    ca: Buffer | null,
    verify: boolean,
    minVersion: number,
    maxVersion: number,
    ciphers: string,
    alpn: Buffer | null,
    servername: string | null,
    checkName: string,
    certs: Buffer[],
    keys: Buffer[],
    maxSessions: number,
    pskWithoutKeyExchange: boolean,
  ): number;
  /** Makes the attempt just opened on `id` a TLS one: 0, or an outcome code (the attempt is dropped). */
  useTls(core: NativeHandle, id: number, setting: number, offerSession: boolean): number;
  /** Whether slot `id` has a TLS session of that setting to offer. */
  tlsHasSession(core: NativeHandle, setting: number, id: number): boolean;
  /** The JavaScript path's code for a TLS outcome code (a verification result's name, ERR_SSL_…). */
  tlsCodeName(code: number): string;
  /** EV_TLS's code of a handshake attempt `id` finished and has not reported yet, taken; else -1. */
  tlsTakeDone(core: NativeHandle, id: number): number;
}
export type NativeHandle = { readonly __brand: 'herd-native-core' };

// src/protocols/native and dist/protocols/native sit at the same depth below the package root.
export const ADDON_PATH = fileURLToPath(new URL('../../../native/build/Release/herd_native.node', import.meta.url));

const outdated = (what: string): string => `built before it ${what}; rebuild it with \`node scripts/build-native.js\``;

let loaded: NativeBinding | null | undefined;
let reason = '';

/** The addon, or null when it is not built or does not load (reason in nativeUnavailable()). */
export function loadNative(): NativeBinding | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== 'linux') reason = 'the native core uses epoll and is built on Linux only';
  else if (!existsSync(ADDON_PATH))
    reason = `${ADDON_PATH} is not built (npm install builds it when a C toolchain and Node headers are present; see docs/performance.md)`;
  else ({ binding: loaded, reason } = loadAddon(ADDON_PATH));
  return loaded;
}

/** Loads the addon at `path`: the binding, or null and why (it does not load, or it is out of date). */
export function loadAddon(path: string): { binding: NativeBinding | null; reason: string } {
  try {
    const b = createRequire(import.meta.url)(path) as Partial<NativeBinding>;
    // An addon built from older sources would ignore MQTT 5 server signals, refuse TLS or telemetry:
    // the JS path, said once.
    const missing =
      typeof b.parseSignal !== 'function'
        ? 'read MQTT 5 server signals'
        : typeof b.useTls !== 'function'
          ? 'spoke TLS'
          : typeof b.publish !== 'function'
            ? 'carried telemetry'
            : typeof b.detach !== 'function'
              ? 'kept a rebooted device’s old connection open'
              : 'tcpConnected' in b // gone since the core keeps the connect timeouts
                ? 'kept the connect timeouts'
                : typeof b.tlsTakeDone !== 'function'
                  ? 'reported a TLS handshake with its attempt’s next outcome'
                  : typeof b.batchKeptEvents !== 'number'
                    ? 'delivered its outcomes with their count in an array it reuses'
                    : typeof b.wakeAfter !== 'function'
                      ? 'woke the scheduler at µs precision'
                      : null;
    if (missing !== null) return { binding: null, reason: `${path} is out of date (${outdated(missing)})` };
    return { binding: b as NativeBinding, reason: '' };
  } catch (err) {
    return { binding: null, reason: `${path} does not load: ${(err as Error).message.split('\n')[0] ?? ''}` };
  }
}

/** Why the native core is not available; '' when it is. */
export function nativeUnavailable(): string {
  loadNative();
  return reason;
}
