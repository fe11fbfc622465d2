/**
 * The per-slot rows a native core keeps for its devices (core.ts owns them, device.ts reads and
 * writes a slot's): apart from both so neither imports the other's class.
 */
import type { DeviceOwner } from '../device.js';
import type { ServerSignal } from '../mqtt/server-signals.js';
import type { NativeBinding, NativeHandle } from './binding.js';
import type { NativeTlsSettings } from './tls.js';

export const CONNECTING = 0;
export const CONNECTED = 1;
export const CLOSING = 2;
export const CLOSED = 3;
/**
 * Per-slot µs stamps in `times`, TIMES numbers per slot: the attempt's start, TCP connected, ready,
 * ping sent, TLS done, and the host name's lookup done (NaN for an IP target; the socket opened then).
 */
export const T_OPEN = 0;
export const T_TCP = 1;
export const T_READY = 2;
export const T_PING = 3;
export const T_TLS = 4;
export const T_DNS = 5;
export const TIMES = 6;

export interface NativeRows {
  readonly b: NativeBinding;
  readonly h: NativeHandle;
  readonly owner: DeviceOwner;
  /** Per slot: CONNECTING…CLOSED, who closed a session herd ended, CONNACK session-present. */
  readonly state: Uint8Array;
  readonly endedBy: Uint8Array;
  readonly sessionPresent: Uint8Array;
  /** Per slot: the attempt's native TLS setting (0: plain TCP), and TLS resumed (0 not yet, 1 full, 2 resumed). */
  readonly tlsSetting: Uint16Array;
  readonly tlsResumed: Uint8Array;
  readonly tls: NativeTlsSettings;
  /** Per slot: the attempt number (a close queued for an earlier attempt leaves a later one alone). */
  readonly attempt: Uint32Array;
  /** Per slot, TIMES µs stamps on the owner's clock (NaN until reached). */
  readonly times: Float64Array;
  /** Per slot: the connect-timeout or close-grace timer, while one runs. */
  readonly timers: (NodeJS.Timeout | null)[];
  /** The last MQTT 5 CONNACK/DISCONNECT signal of a slot's current attempt, for slots that had one. */
  readonly signals: Map<number, ServerSignal>;
  clearTimer(slot: number): void;
}
