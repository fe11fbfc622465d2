/**
 * One native storm core per owner (a worker's runner): the addon's handle, the per-slot rows every
 * native device of the owner lives in (see device.ts), and the dispatch of the addon's outcome
 * batches to devices by slot.
 */
import type { DeviceOwner } from '../device.js';
import { loadNative, type NativeBinding, type NativeHandle } from './binding.js';
import type { ServerSignal } from '../mqtt/server-signals.js';
import { EV_SIGNAL, EVENT_STRIDE, nativeSignal, signalHasReference } from './codes.js';
import { NativeDevice, type NativeOpenOptions } from './device.js';
import { isMessagingEvent } from './messaging.js';
import { CLOSED, CONNECTED, CONNECTING, TIMES, type NativeRows } from './rows.js';
import { NativeTlsSettings } from './tls.js';

const cores = new WeakMap<DeviceOwner, NativeCore>();

/** Opens one attempt on the owner's native core (created on first use). Needs loadNative() !== null. */
export function openNativeDevice(owner: DeviceOwner, o: NativeOpenOptions, maxPacketBytes: number): NativeDevice {
  let core = cores.get(owner);
  if (core === undefined) {
    const b = loadNative();
    if (b === null) throw new Error('openNativeDevice: the native core is not available');
    core = new NativeCore(b, owner, maxPacketBytes);
    cores.set(owner, core);
  }
  return core.open(o);
}

/** Closes the owner's native core, if it has one (every socket at once), and its wake-only core. */
export function closeNativeCore(owner: DeviceOwner): void {
  cores.get(owner)?.close();
  cores.delete(owner);
  wakeOnly.get(owner)?.close();
  wakeOnly.delete(owner);
}

/** [live connections, bytes the addon holds, connect deadlines queued] for the owner's core; zeros without one. */
export function nativeCoreStats(owner: DeviceOwner): [number, number, number] {
  const s = cores.get(owner)?.stats();
  return s === undefined ? [0, 0, 0] : [s[0], s[1], s[2]];
}

/**
 * Whether the owner's core left socket events unread in its last loop turn (it reads a bounded
 * number per turn, so timers keep theirs under a storm): what arrived is not all read yet.
 */
export function nativeBehind(owner: DeviceOwner): boolean {
  return cores.get(owner)?.stats()[3] ?? false;
}

/**
 * Owners whose devices run on the JavaScript path (a host name, ws://, QoS 2) and that have no device
 * core: a core with no socket, for the wake-up alone. The packet cap is unused (nothing is read).
 */
const wakeOnly = new WeakMap<DeviceOwner, NativeCore>();
const WAKE_ONLY_MAX_PACKET = 0;

/** The core the owner's wake-up arms on: its device core, else a wake-only one; null without the addon. */
function wakeCore(owner: DeviceOwner): NativeCore | null {
  const core = cores.get(owner);
  const spare = wakeOnly.get(owner);
  if (core !== undefined) {
    // The first native open made a device core: the wake-only one retires, its wake-up disarmed
    // (arm replaces it), never delivered twice.
    if (spare !== undefined) {
      spare.disarmWake();
      spare.close();
      wakeOnly.delete(owner);
    }
    return core;
  }
  if (spare !== undefined) return spare;
  const b = loadNative();
  if (b === null) return null;
  const made = new NativeCore(b, owner, WAKE_ONLY_MAX_PACKET);
  wakeOnly.set(owner, made);
  return made;
}

/**
 * The owner's µs wake-up (the engine scheduler's PreciseWake): a timerfd on a native core's epoll set
 * instead of Node's whole-ms timers — the owner's device core, or, while it has none, a wake-only
 * core, so JavaScript-path devices start on time too. Without the addon `arm` says no and the caller
 * keeps its timer; after closeNativeCore, an armed wake-up still runs, on the next turn.
 */
export function nativeWake(owner: DeviceOwner): { arm(afterUs: number, fn: () => void): boolean; disarm(): void } {
  return {
    arm: (afterUs, fn) => {
      const core = wakeCore(owner);
      if (core === null) return false;
      core.armWake(afterUs, fn);
      return true;
    },
    disarm: () => {
      cores.get(owner)?.disarmWake();
      wakeOnly.get(owner)?.disarmWake();
    },
  };
}

export class NativeCore implements NativeRows {
  readonly b: NativeBinding;
  readonly h: NativeHandle;
  readonly owner: DeviceOwner;
  /** One handle per slot that ever opened. */
  private devices: (NativeDevice | undefined)[] = [];
  /** Per slot: CONNECTING…CLOSED, who closed a session herd ended, CONNACK session-present. */
  state = new Uint8Array(0);
  endedBy = new Uint8Array(0);
  sessionPresent = new Uint8Array(0);
  tlsSetting = new Uint16Array(0);
  tlsResumed = new Uint8Array(0);
  readonly tls: NativeTlsSettings;
  /**
   * Per slot: the attempt number (a close queued for an earlier attempt leaves a later one alone) and the batch it
   * opened in.
   */
  attempt = new Uint32Array(0);
  openedInBatch = new Uint32Array(0);
  /** Per slot, TIMES µs stamps on the owner's clock (NaN until reached). */
  times = new Float64Array(0);
  /** Per slot: the close-grace timer, while one runs (the core keeps the connect timeouts). */
  timers: (NodeJS.Timeout | null)[] = [];
  /** Increments per delivered batch: a device opened during a batch ignores that batch's older events. */
  batch = 0;
  /** The last MQTT 5 signal of the slots whose current attempt had one (most never do: no entry). */
  readonly signals = new Map<number, ServerSignal>();
  /** What the armed wake-up calls; null when none is armed. */
  private wakeFn: (() => void) | null = null;

  constructor(b: NativeBinding, owner: DeviceOwner, maxPacketBytes: number) {
    this.b = b;
    this.owner = owner;
    this.h = b.create(
      (ev, count, refs, blob) => this.onBatch(ev, count, refs, blob),
      maxPacketBytes,
      () => this.onWake(),
    );
    this.tls = new NativeTlsSettings(b, this.h);
  }

  open(o: NativeOpenOptions): NativeDevice {
    const slot = o.deviceId;
    if (slot >= this.state.length) this.grow(Math.max(slot + 1, o.slotCount ?? 0, this.state.length * 2, 256));
    let d = this.devices[slot];
    // Reopened while held: a reboot abandoned the session (silenced), which keeps its socket apart.
    if (d !== undefined && this.state[slot] === CONNECTED && d.detach()) d = undefined;
    if (d === undefined) {
      d = new NativeDevice(this, slot);
      this.devices[slot] = d;
    }
    this.clearTimer(slot);
    this.attempt[slot] = ((this.attempt[slot] as number) + 1) >>> 0;
    this.openedInBatch[slot] = this.batch;
    this.state[slot] = CONNECTING;
    this.endedBy[slot] = 0;
    this.sessionPresent[slot] = 0;
    this.tlsSetting[slot] = 0;
    this.tlsResumed[slot] = 0;
    if (this.signals.size > 0) this.signals.delete(slot);
    // Stamp by stamp: TypedArray.prototype.fill is a builtin call for five numbers, on every attempt.
    for (let k = slot * TIMES, end = k + TIMES; k < end; k++) this.times[k] = NaN;
    d.start(o);
    return d;
  }

  close(): void {
    for (let slot = 0; slot < this.timers.length; slot++) this.clearTimer(slot);
    this.b.close(this.h);
    // A wake-up armed on the closed core still happens, on the next turn: whoever armed it re-arms elsewhere.
    const fn = this.wakeFn;
    this.wakeFn = null;
    if (fn !== null) setImmediate(fn);
  }

  /** Calls `fn` once, `afterUs` µs from now (at least 1), replacing an armed wake-up. */
  armWake(afterUs: number, fn: () => void): void {
    this.wakeFn = fn;
    this.b.wakeAfter(this.h, afterUs);
  }

  disarmWake(): void {
    if (this.wakeFn === null) return;
    this.wakeFn = null;
    this.b.wakeAfter(this.h, -1);
  }

  private onWake(): void {
    const fn = this.wakeFn;
    this.wakeFn = null;
    fn?.();
  }

  stats(): [number, number, number, boolean] {
    return this.b.stats(this.h);
  }

  clearTimer(slot: number): void {
    const t = this.timers[slot];
    if (t !== undefined && t !== null) {
      clearTimeout(t);
      this.timers[slot] = null;
    }
  }

  /** Widens every per-slot row to `cap` slots (new slots closed, their times NaN). */
  private grow(cap: number): void {
    const was = this.state.length;
    const widen = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(
      a: T,
      n: T,
      fill: number,
      per = 1,
    ): T => {
      n.set(a);
      n.fill(fill, was * per);
      return n;
    };
    this.state = widen(this.state, new Uint8Array(cap), CLOSED);
    this.endedBy = widen(this.endedBy, new Uint8Array(cap), 0);
    this.sessionPresent = widen(this.sessionPresent, new Uint8Array(cap), 0);
    this.tlsSetting = widen(this.tlsSetting, new Uint16Array(cap), 0);
    this.tlsResumed = widen(this.tlsResumed, new Uint8Array(cap), 0);
    this.attempt = widen(this.attempt, new Uint32Array(cap), 0);
    this.openedInBatch = widen(this.openedInBatch, new Uint32Array(cap), 0);
    this.times = widen(this.times, new Float64Array(cap * TIMES), NaN, TIMES);
    // Packed, never sparse: slots are dense, and a write far past the end would make these dictionaries.
    while (this.devices.length < cap) this.devices.push(undefined);
    while (this.timers.length < cap) this.timers.push(null);
  }

  /** `ev` is the core's reused array: read here only, its first `count` outcomes. */
  private onBatch(ev: Float64Array, count: number, refs: string[] | undefined, blob: Buffer | undefined): void {
    const seq = ++this.batch;
    // Messaging stamps are on the addon's clock: moved onto the owner's with one offset per batch,
    // read only when the batch has any. Phase stamps need none (device.ts onEvent).
    let offsetUs = NaN;
    let ref = 0;
    const end = Math.min(count * EVENT_STRIDE, ev.length);
    for (let k = 0; k + EVENT_STRIDE <= end; k += EVENT_STRIDE) {
      const slot = ev[k] as number;
      const d = this.devices[slot];
      const kind = ev[k + 1] as number;
      // Taken in order whether or not the event counts, so the next signal gets its own.
      const reference = kind === EV_SIGNAL && signalHasReference(ev[k + 2] as number) ? (refs?.[ref++] ?? null) : null;
      // An event of an attempt that was since aborted, or of one before a reopen in this very batch.
      if (d === undefined || this.openedInBatch[slot] === seq) continue;
      if (kind === EV_SIGNAL) {
        // Read by the engine when the outcome that follows it is reported (steering-state.ts).
        this.signals.set(slot, nativeSignal(ev[k + 2] as number, ev[k + 3] as number, ev[k + 4] as number, reference));
        continue;
      }
      if (isMessagingEvent(kind)) {
        if (Number.isNaN(offsetUs)) offsetUs = this.owner.now() - this.b.nowUs();
        d.onMessaging(kind, ev[k + 2] as number, ev[k + 3] as number, ev[k + 4] as number, blob, offsetUs);
        continue;
      }
      d.onEvent(kind, ev[k + 2] as number, ev[k + 3] as number, ev[k + 4] as number);
    }
    this.owner.batchEnded?.();
  }
}
