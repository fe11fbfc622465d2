/**
 * Devices on the native storm core: an MQTT device over plain TCP or TLS whose socket, TLS
 * handshake, CONNECT, CONNACK parse, PINGREQ, DISCONNECT and messaging (PUBLISH at QoS 0/1,
 * SUBSCRIBE, their acknowledgements, inbound PUBLISH: native/src/msg.c, messaging.ts) live in the
 * addon (native/); a host name is looked up first (lookup.ts). It is a `Device` like any other: the
 * engine does not know the difference. One NativeCore per owner (core.ts) dispatches the addon's
 * outcome batches to devices by slot.
 *
 * Timing: the attempt start is the owner's clock, as on the JavaScript path; TCP connected, TLS done
 * and CONNACK come from the addon as µs since it opened the socket, all read on its one clock, and
 * are added to the owner's stamp of that open (the start, or the lookup's answer). (Moving them by
 * an offset of the two clocks read one after the other put a phase before the attempt whenever a
 * pause — a GC, the scheduler — fell between the two reads: tcpConnect 0 µs.)
 *
 * Memory (docs/performance.md, "Memory per held connection"): a device's state lives in rows of
 * typed arrays indexed by its slot, and its `Device` is one small handle per slot, made the first
 * time the slot opens and reused by every later attempt — a held session costs ~100 bytes of
 * JavaScript and an attempt allocates nothing that outlives it (the core keeps its connect timeout).
 */
import type { Failure } from '../classify.js';
import type { ConnState, Device, MqttSession, PhaseTimes } from '../device.js';
import type { ServerSignal } from '../mqtt/server-signals.js';
import { CLOSE_GRACE_MS } from '../mqtt/connection.js';
import type { ResolvedTls } from '../transports/tls-options.js';
import { EV_CLOSED, EV_FAILED, EV_LOST, EV_PONG, EV_READY, EV_TLS, nativeFailure } from './codes.js';
import { EV_TIMEOUT, TIMEOUT_PHASES, TLS_RESUMED } from './codes.js';
import { deliverMessagingEvent } from './messaging.js';
import { CLOSED, CLOSING, CONNECTED, CONNECTING, TIMES, type NativeRows } from './rows.js';
import { T_DNS, T_OPEN, T_PING, T_READY, T_TCP, T_TLS } from './rows.js';
import { lookUpThenOpen, type LookingUp } from './lookup.js';
import { attachTls } from './tls-attach.js';
import { EACH_ATTEMPT, type NameCache } from '../names.js';

export interface NativeOpenOptions {
  deviceId: number;
  /** IP literal of the target ('' with `hostName`). */
  ip: string;
  /** A host name to look up on each attempt (a `dns` phase, as on the JavaScript path) instead of `ip`. */
  hostName?: string;
  port: number;
  localAddress: string | undefined;
  connectPacket: Buffer;
  protocolVersion: 4 | 5;
  connectTimeoutMs: number;
  /** How many slots the owner has (sizes the per-slot rows once); grown on demand without it. */
  slotCount?: number;
  /** mqtts://: the target's resolved TLS settings (the certificate must carry `ip` unless a servername is set). */
  tls?: ResolvedTls;
  /** With `hostName`: the target's shared answers (PreparedTarget.names); absent, each attempt looks up alone. */
  names?: NameCache;
}

const STATES: readonly ConnState[] = ['connecting', 'connected', 'closing', 'closed'];
const ENDED_BY: readonly ('peer' | 'us' | null)[] = [null, 'peer', 'us'];
const ATTACHED = -1;
const DETACHED_CLOSED = -2;
const BY_PEER = 1;
const BY_US = 2;

/** The `Device` of one slot: a handle onto the core's rows, reused by every attempt of the slot. */
export class NativeDevice implements Device, MqttSession, LookingUp<NativeOpenOptions> {
  readonly deviceId: number;
  private readonly core: NativeRows;
  /**
   * ATTACHED: the slot's handle. Else a reboot abandoned this session and the slot went on
   * (NativeCore.open): the addon's index of its dark socket, DETACHED_CLOSED once closed.
   */
  private dark = ATTACHED;

  constructor(core: NativeRows, slot: number) {
    this.core = core;
    this.deviceId = slot;
  }

  get state(): ConnState {
    if (this.dark !== ATTACHED) return this.dark === DETACHED_CLOSED ? 'closed' : 'connected';
    return STATES[this.core.state[this.deviceId] as number] as ConnState;
  }
  get socketOpenUs(): number {
    return this.core.times[this.deviceId * TIMES + T_OPEN] as number;
  }
  /** µs since origin when the host name's lookup answered; NaN for an IP target. */
  get dnsDoneUs(): number {
    return this.core.times[this.deviceId * TIMES + T_DNS] as number;
  }
  /** What the addon's stamps count from: the socket's open (after the lookup, when there was one). */
  private get wireOpenUs(): number {
    const dns = this.dnsDoneUs;
    return Number.isNaN(dns) ? this.socketOpenUs : dns;
  }
  get tcpConnectedUs(): number {
    return this.core.times[this.deviceId * TIMES + T_TCP] as number;
  }
  get readyUs(): number {
    return this.core.times[this.deviceId * TIMES + T_READY] as number;
  }
  /** µs since origin when CONNACK (accepted) arrived; NaN before. */
  get connackUs(): number {
    return this.readyUs;
  }
  get pingSentUs(): number {
    return this.core.times[this.deviceId * TIMES + T_PING] as number;
  }
  get sessionPresent(): boolean {
    return this.core.sessionPresent[this.deviceId] === 1;
  }
  /** Who closed a session we ended: 'peer' (server first) or 'us' (grace ran out, reset, abort). */
  get endedBy(): 'peer' | 'us' | null {
    return ENDED_BY[this.core.endedBy[this.deviceId] as number] ?? null;
  }
  /** µs since origin when the TLS handshake finished; NaN before it and on plain TCP. */
  get tlsDoneUs(): number {
    return this.core.times[this.deviceId * TIMES + T_TLS] as number;
  }
  /** Whether the TLS handshake resumed a session; null on plain TCP or before it finished. */
  get tlsResumed(): boolean | null {
    const r = this.core.tlsResumed[this.deviceId] as number;
    return r === 0 ? null : r === 2;
  }
  /** The device's MQTT session: itself (publish and subscribe go to the addon). */
  get mqtt(): NativeDevice {
    return this;
  }

  /** PUBLISH at QoS 0 or 1: 0, the packet id, or -1 (SEND_REFUSED) when refused; QoS 2 is always refused. */
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain = false, tag = 0, dup = false): number {
    if (!this.is(CONNECTED)) return -1;
    const flags = qos | (retain ? 4 : 0) | (dup ? 8 : 0);
    return this.core.b.publish(this.core.h, this.deviceId, topic, payload, flags, tag);
  }

  /** SUBSCRIBE: the packet id, or -1 (SEND_REFUSED). SUBACK → owner.onSubscribed. */
  subscribe(topics: readonly string[], qos: 0 | 1 | 2): number {
    if (!this.is(CONNECTED) || topics.length === 0) return -1;
    return this.core.b.subscribe(this.core.h, this.deviceId, topics, qos);
  }
  /** The MQTT 5 CONNACK/DISCONNECT signal of this attempt (the core read it: native/src/signal.c). */
  get serverSignal(): ServerSignal | null {
    // Most runs never get one: no map lookup per connect then.
    const signals = this.core.signals;
    return signals.size === 0 ? null : (signals.get(this.deviceId) ?? null);
  }

  /** Bytes the addon holds for this connection beyond its fixed ~56-byte record. */
  get bufferedBytes(): number {
    return this.is(CLOSED) || this.dark !== ATTACHED ? 0 : this.core.b.bufferedBytes(this.core.h, this.deviceId);
  }

  start(o: NativeOpenOptions): void {
    this.set(T_OPEN, this.core.owner.now());
    // The core keeps the connect timeout (EV_TIMEOUT): no timer object per attempt on this side.
    const timeoutMs = Math.ceil(o.connectTimeoutMs);
    if (o.hostName === undefined) this.openTo(o, o.ip, timeoutMs);
    else lookUpThenOpen(this.core, this, o, o.names ?? EACH_ATTEMPT, o.hostName, timeoutMs);
  }

  /** The attempt's socket, to `ip`, with `timeoutMs` of its connect timeout (the lookup took the rest). */
  openTo(o: NativeOpenOptions, ip: string, timeoutMs: number): void {
    const c = this.core;
    const slot = this.deviceId;
    const tls = o.tls !== undefined;
    let err = c.b.open(
      c.h,
      slot,
      ip,
      o.port,
      o.localAddress ?? null,
      o.connectPacket,
      o.protocolVersion,
      timeoutMs,
      tls,
    );
    // A host name is the TLS identity (SNI, the certificate's name), as on the JavaScript path.
    if (err === 0 && tls) err = attachTls(c, slot, o.tls as ResolvedTls, o.hostName ?? ip);
    if (err !== 0) {
      // EMFILE, EADDRNOTAVAIL…: still data, reported after the caller has the device (as on the JS path).
      c.state[slot] = CLOSED;
      const f = nativeFailure(err, 'tcpConnect');
      queueMicrotask(() => c.owner.onFailed(this, f));
    }
  }

  phaseTimes(): PhaseTimes {
    const tcp = this.tcpConnectedUs;
    const ready = this.readyUs;
    const open = this.socketOpenUs;
    const wire = this.wireOpenUs;
    const tls = this.tlsDoneUs;
    const p: PhaseTimes = Number.isNaN(tls)
      ? { tcpConnectUs: tcp - wire, mqttConnackUs: ready - tcp, serviceUs: ready - open }
      : { tcpConnectUs: tcp - wire, tlsHandshakeUs: tls - tcp, mqttConnackUs: ready - tls, serviceUs: ready - open };
    if (wire !== open) p.dnsUs = wire - open;
    return p;
  }

  ping(): void {
    if (!this.is(CONNECTED) || !Number.isNaN(this.pingSentUs)) return;
    this.set(T_PING, this.core.owner.now());
    this.core.b.ping(this.core.h, this.deviceId);
  }

  /** DISCONNECT, then the server closes first; forced after CLOSE_GRACE_MS. */
  end(): void {
    if (this.is(CLOSED) || this.is(CLOSING)) return;
    if (!this.is(CONNECTED)) return this.abort();
    const c = this.core;
    c.b.end(c.h, this.deviceId);
    c.state[this.deviceId] = CLOSING;
    c.timers[this.deviceId] = setTimeout(onCloseGrace, CLOSE_GRACE_MS, this);
  }

  abort(): void {
    if (this.dark !== ATTACHED) this.closeDetached();
    else this.closeNow(false);
  }

  reset(): void {
    if (this.dark !== ATTACHED) this.closeDetached();
    else this.closeNow(true);
  }

  /**
   * The slot opens again while this session, silenced by a reboot, is still held: its socket stays
   * open on its own (as an abandoned JavaScript connection does) and this handle now speaks for it
   * alone; the slot gets a new handle. False when the addon had no silenced connection there.
   */
  detach(): boolean {
    const k = this.core.b.detach(this.core.h, this.deviceId);
    if (k < 0) return false;
    this.dark = k;
    return true;
  }

  /** Closes the dark socket of a detached handle; its close is reported as a session's is. */
  private closeDetached(): void {
    if (this.dark === DETACHED_CLOSED) return;
    this.core.b.closeDetached(this.core.h, this.dark);
    this.dark = DETACHED_CLOSED;
    queueMicrotask(() => this.core.owner.onClosed(this));
  }

  silence(): void {
    if (this.is(CONNECTED)) this.core.b.silence(this.core.h, this.deviceId);
  }

  expire(f: Failure): void {
    if (!this.is(CONNECTED)) return;
    const c = this.core;
    c.b.abort(c.h, this.deviceId);
    c.state[this.deviceId] = CLOSED;
    c.owner.onLost(this, f);
  }

  /** One outcome from the addon; its phase times in µs since the attempt's socket opened (NaN: not reached). */
  onEvent(kind: number, code: number, t1Us: number, t2Us: number): void {
    const c = this.core;
    const slot = this.deviceId;
    const owner = c.owner;
    if (kind === EV_PONG) {
      this.set(T_PING, NaN);
    } else if (kind === EV_TLS && this.is(CONNECTING)) {
      this.set(T_TLS, this.wireOpenUs + t1Us);
      const resumed = (code & TLS_RESUMED) !== 0;
      c.tlsResumed[slot] = resumed ? 2 : 1;
      c.tls.count(c.tlsSetting[slot] as number, code);
    } else if (kind === EV_READY && this.is(CONNECTING)) {
      // One clock behind every phase: in order and never before the open, without a clamp.
      this.set(T_TCP, this.wireOpenUs + t1Us);
      this.set(T_READY, this.wireOpenUs + t2Us);
      c.sessionPresent[slot] = code === 1 ? 1 : 0;
      c.state[slot] = CONNECTED;
      owner.onConnected(this);
    } else if (kind === EV_FAILED && this.is(CONNECTING)) {
      c.state[slot] = CLOSED;
      if (!Number.isNaN(t1Us)) this.set(T_TCP, this.wireOpenUs + t1Us);
      owner.onFailed(this, nativeFailure(code, this.failedIn(t1Us)));
    } else if (kind === EV_TIMEOUT && this.is(CONNECTING)) {
      c.state[slot] = CLOSED;
      owner.onFailed(this, { origin: 'timeout', phase: TIMEOUT_PHASES[code] as string, code: 'CONNECT_TIMEOUT' });
    } else if (kind === EV_LOST && this.is(CONNECTED)) {
      c.state[slot] = CLOSED;
      owner.onLost(this, nativeFailure(code, 'held'));
    } else if (kind === EV_CLOSED && this.is(CLOSING) && c.endedBy[slot] === 0) {
      // (endedBy set: herd already closed it itself and reports that close; this one is stale.)
      c.clearTimer(slot);
      c.state[slot] = CLOSED;
      c.endedBy[slot] = BY_PEER;
      owner.onClosed(this);
    }
  }

  /** A PUBACK, SUBACK or inbound PUBLISH from the addon (messaging.ts); only a held session hears it. */
  onMessaging(kind: number, code: number, t1: number, t2: number, blob: Buffer | undefined, offsetUs: number): void {
    if (this.is(CONNECTED)) deliverMessagingEvent(this.core.owner, this, kind, code, t1, t2, blob, offsetUs);
  }

  handleCloseGrace(): void {
    const c = this.core;
    c.timers[this.deviceId] = null;
    if (!this.is(CLOSING)) return;
    c.b.abort(c.h, this.deviceId);
    c.state[this.deviceId] = CLOSED;
    c.endedBy[this.deviceId] = BY_US;
    c.owner.onClosed(this);
  }

  /** Abort or reset: a session (held or ending) hears onClosed; a pending attempt reports nothing more. */
  private closeNow(rst: boolean): void {
    if (this.is(CLOSED)) return;
    const c = this.core;
    const slot = this.deviceId;
    const wasSession = this.is(CONNECTED) || this.is(CLOSING);
    c.clearTimer(slot);
    if (!wasSession) c.tls.countUnreported(c.tlsSetting[slot] as number, slot);
    if (rst) c.b.reset(c.h, slot);
    else c.b.abort(c.h, slot);
    c.state[slot] = wasSession ? CLOSING : CLOSED;
    if (!wasSession) return;
    c.endedBy[slot] = BY_US;
    const attempt = c.attempt[slot];
    queueMicrotask(() => {
      // The engine opens a slot again only after this report; if anything did it sooner, the
      // close is still reported but the new attempt's state is left alone.
      if (c.attempt[slot] === attempt) c.state[slot] = CLOSED;
      c.owner.onClosed(this);
    });
  }

  /** The phase a failed attempt was in: `tcpUs` NaN when TCP never connected. */
  private failedIn(tcpUs: number): string {
    if (Number.isNaN(tcpUs)) return 'tcpConnect';
    const tlsPending = this.core.tlsSetting[this.deviceId] !== 0 && Number.isNaN(this.tlsDoneUs);
    return tlsPending ? 'tlsHandshake' : 'mqttConnack';
  }

  /** Whether the slot's current attempt is in `state` (never, for a detached handle: the slot went on). */
  private is(state: number): boolean {
    return this.dark === ATTACHED && this.core.state[this.deviceId] === state;
  }

  private set(which: number, us: number): void {
    this.core.times[this.deviceId * TIMES + which] = us;
  }
}

function onCloseGrace(d: NativeDevice): void {
  d.handleCloseGrace();
}
