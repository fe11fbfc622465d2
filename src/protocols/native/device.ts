/**
 * Devices on the native storm core: a connect-only MQTT device over plain TCP whose socket, CONNECT,
 * CONNACK parse, PINGREQ and DISCONNECT live in the addon (native/). It is a `Device` like any
 * other, so the engine's plans, measurement rules, accounting and reports do not know the
 * difference. One NativeCore per owner (a worker's runner) dispatches the addon's outcome batches
 * to devices by slot.
 *
 * Timing: the attempt start is the owner's clock, as on the JavaScript path; TCP connected and
 * CONNACK are stamped by the addon on CLOCK_MONOTONIC and moved onto the owner's clock with one
 * offset per batch.
 */
import type { Failure } from '../classify.js';
import type { ConnState, PhaseTimes } from '../device-base.js';
import type { Device, DeviceOwner } from '../device.js';
import { CLOSE_GRACE_MS, type MqttOwner } from '../mqtt/connection.js';
import { loadNative, type NativeBinding, type NativeHandle } from './binding.js';
import { EV_CLOSED, EV_FAILED, EV_LOST, EV_PONG, EV_READY, EVENT_STRIDE, nativeFailure } from './codes.js';

export interface NativeOpenOptions {
  deviceId: number;
  /** IP literal of the target. */
  ip: string;
  port: number;
  localAddress: string | undefined;
  connectPacket: Buffer;
  protocolVersion: 4 | 5;
  connectTimeoutMs: number;
}

const cores = new WeakMap<MqttOwner, NativeCore>();

/** Opens one attempt on the owner's native core (created on first use). Needs loadNative() !== null. */
export function openNativeDevice(owner: MqttOwner, o: NativeOpenOptions, maxPacketBytes: number): NativeDevice {
  let core = cores.get(owner);
  if (core === undefined) {
    const b = loadNative();
    if (b === null) throw new Error('openNativeDevice: the native core is not available');
    core = new NativeCore(b, owner as DeviceOwner, maxPacketBytes);
    cores.set(owner, core);
  }
  return core.open(o);
}

/** Closes the owner's native core, if it has one (every socket at once). */
export function closeNativeCore(owner: MqttOwner): void {
  cores.get(owner)?.close();
  cores.delete(owner);
}

/** [live connections, bytes the addon holds] for the owner's core; [0, 0] without one. */
export function nativeCoreStats(owner: MqttOwner): [number, number] {
  return cores.get(owner)?.stats() ?? [0, 0];
}

export class NativeCore {
  readonly b: NativeBinding;
  readonly h: NativeHandle;
  readonly owner: DeviceOwner;
  private readonly devices: (NativeDevice | undefined)[] = [];
  /** Increments per delivered batch: a device opened during a batch ignores that batch's older events. */
  batch = 0;

  constructor(b: NativeBinding, owner: DeviceOwner, maxPacketBytes: number) {
    this.b = b;
    this.owner = owner;
    this.h = b.create((ev) => this.onBatch(ev), maxPacketBytes);
  }

  open(o: NativeOpenOptions): NativeDevice {
    const d = new NativeDevice(this, o.deviceId);
    this.devices[o.deviceId] = d;
    d.start(o);
    return d;
  }

  close(): void {
    this.b.close(this.h);
  }

  stats(): [number, number] {
    return this.b.stats(this.h);
  }

  private onBatch(ev: Float64Array): void {
    const seq = ++this.batch;
    const offsetUs = this.owner.now() - this.b.nowUs();
    for (let k = 0; k + EVENT_STRIDE <= ev.length; k += EVENT_STRIDE) {
      const d = this.devices[ev[k] as number];
      // An event of an attempt that was since aborted, or of one before a reopen in this very batch.
      if (d === undefined || d.openedInBatch === seq) continue;
      d.onEvent(ev[k + 1] as number, ev[k + 2] as number, (ev[k + 3] as number) + offsetUs, (ev[k + 4] as number) + offsetUs);
    }
  }
}

export class NativeDevice implements Device {
  readonly deviceId: number;
  state: ConnState = 'connecting';
  socketOpenUs = NaN;
  tcpConnectedUs = NaN;
  readyUs = NaN;
  pingSentUs = NaN;
  sessionPresent = false;
  readonly tlsResumed = null;
  readonly mqtt = null;
  /** Who closed a session we ended: 'peer' (server first) or 'us' (grace ran out, reset, abort). */
  endedBy: 'peer' | 'us' | null = null;
  openedInBatch: number;
  private readonly core: NativeCore;
  private timer: NodeJS.Timeout | null = null;

  constructor(core: NativeCore, deviceId: number) {
    this.core = core;
    this.deviceId = deviceId;
    this.openedInBatch = core.batch;
  }

  start(o: NativeOpenOptions): void {
    const c = this.core;
    this.socketOpenUs = c.owner.now();
    const err = c.b.open(c.h, o.deviceId, o.ip, o.port, o.localAddress ?? null, o.connectPacket, o.protocolVersion);
    if (err !== 0) {
      // EMFILE, EADDRNOTAVAIL…: still data, reported after the caller has the device (as on the JS path).
      this.state = 'closed';
      const f = nativeFailure(err, 'tcpConnect');
      queueMicrotask(() => c.owner.onFailed(this, f));
      return;
    }
    this.timer = setTimeout(onConnectTimeout, o.connectTimeoutMs, this);
  }

  /** µs since origin when CONNACK (accepted) arrived; NaN before. */
  get connackUs(): number {
    return this.readyUs;
  }

  /** Bytes the addon holds for this connection beyond its fixed ~48-byte record. */
  get bufferedBytes(): number {
    return this.state === 'closed' ? 0 : this.core.b.bufferedBytes(this.core.h, this.deviceId);
  }

  phaseTimes(): PhaseTimes {
    return {
      dnsUs: null,
      tcpConnectUs: this.tcpConnectedUs - this.socketOpenUs,
      tlsHandshakeUs: null,
      wsUpgradeUs: null,
      mqttConnackUs: this.readyUs - this.tcpConnectedUs,
      serviceUs: this.readyUs - this.socketOpenUs,
    };
  }

  ping(): void {
    if (this.state !== 'connected' || !Number.isNaN(this.pingSentUs)) return;
    this.pingSentUs = this.core.owner.now();
    this.core.b.ping(this.core.h, this.deviceId);
  }

  /** DISCONNECT, then the server closes first; forced after CLOSE_GRACE_MS. */
  end(): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (this.state !== 'connected') return this.abort();
    this.core.b.end(this.core.h, this.deviceId);
    this.state = 'closing';
    this.timer = setTimeout(onCloseGrace, CLOSE_GRACE_MS, this);
  }

  abort(): void {
    this.closeNow(false);
  }

  reset(): void {
    this.closeNow(true);
  }

  silence(): void {
    if (this.state === 'connected') this.core.b.silence(this.core.h, this.deviceId);
  }

  expire(f: Failure): void {
    if (this.state !== 'connected') return;
    this.core.b.abort(this.core.h, this.deviceId);
    this.state = 'closed';
    this.core.owner.onLost(this, f);
  }

  /** One outcome from the addon; times already on the owner's clock. */
  onEvent(kind: number, code: number, t1Us: number, t2Us: number): void {
    const owner = this.core.owner;
    if (kind === EV_PONG) {
      this.pingSentUs = NaN;
    } else if (kind === EV_READY && this.state === 'connecting') {
      this.clearTimer();
      // Both stamps are the addon's; never before the attempt began on the owner's clock.
      this.tcpConnectedUs = Math.max(t1Us, this.socketOpenUs);
      this.readyUs = Math.max(t2Us, this.tcpConnectedUs);
      this.sessionPresent = code === 1;
      this.state = 'connected';
      owner.onConnected(this);
    } else if (kind === EV_FAILED && this.state === 'connecting') {
      this.clearTimer();
      this.state = 'closed';
      if (!Number.isNaN(t1Us)) this.tcpConnectedUs = t1Us;
      owner.onFailed(this, nativeFailure(code, Number.isNaN(t1Us) ? 'tcpConnect' : 'mqttConnack'));
    } else if (kind === EV_LOST && this.state === 'connected') {
      this.state = 'closed';
      owner.onLost(this, nativeFailure(code, 'held'));
    } else if (kind === EV_CLOSED && this.state === 'closing' && this.endedBy === null) {
      // (endedBy set: herd already closed it itself and reports that close; this one is stale.)
      this.clearTimer();
      this.state = 'closed';
      this.endedBy = 'peer';
      owner.onClosed(this);
    }
  }

  handleConnectTimeout(): void {
    this.timer = null;
    if (this.state !== 'connecting') return;
    const c = this.core;
    const phase = c.b.tcpConnected(c.h, this.deviceId) === 1 ? 'mqttConnack' : 'tcpConnect';
    c.b.abort(c.h, this.deviceId);
    this.state = 'closed';
    c.owner.onFailed(this, { origin: 'timeout', phase, code: 'CONNECT_TIMEOUT' });
  }

  handleCloseGrace(): void {
    this.timer = null;
    if (this.state !== 'closing') return;
    this.core.b.abort(this.core.h, this.deviceId);
    this.state = 'closed';
    this.endedBy = 'us';
    this.core.owner.onClosed(this);
  }

  /** Abort or reset: a session (held or ending) hears onClosed; a pending attempt reports nothing more. */
  private closeNow(rst: boolean): void {
    if (this.state === 'closed') return;
    const wasSession = this.state === 'connected' || this.state === 'closing';
    this.clearTimer();
    if (rst) this.core.b.reset(this.core.h, this.deviceId);
    else this.core.b.abort(this.core.h, this.deviceId);
    this.state = wasSession ? 'closing' : 'closed';
    if (!wasSession) return;
    this.endedBy = 'us';
    queueMicrotask(() => {
      this.state = 'closed';
      this.core.owner.onClosed(this);
    });
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

function onConnectTimeout(d: NativeDevice): void {
  d.handleConnectTimeout();
}
function onCloseGrace(d: NativeDevice): void {
  d.handleCloseGrace();
}
