/**
 * A session's life as the engine tells it: every part that reacts to attempts, connects, losses,
 * closes and ticks (fleet, recorder, steering, outages, keepalive, messaging) is a SessionListener,
 * and the runner tells them all, in the one order engine-parts.ts registers them. Each hook is a
 * plain call with the slot, the device and numbers: nothing is allocated per event, and a hook a
 * listener does not have costs nothing (each hook's listeners are collected once, up front).
 */
import type { NameTally } from '../results/names.js';
import type { Failure } from '../protocols/classify.js';
import type { Device, DeviceOwner, InboundMessage } from '../protocols/device.js';
import type { DeliveryState } from '../metrics/delivery.js';

/** What the listeners kept for the run's end (SessionListener.finish adds it; RunEnd carries it). */
export interface RunKept {
  /** Per cohort with echo telemetry: end-to-end delivery state. */
  delivery: Record<string, DeliveryState>;
  /** Per target given by host name: its lookups and the attempts each address got. */
  names: NameTally[];
}

/** The arguments a device reports one of its DeviceOwner events with. */
export type DeviceReport<K extends keyof DeviceOwner> = Parameters<NonNullable<DeviceOwner[K]>>;

export interface SessionListener {
  /** The run starts, before the first attempt. */
  start?(): void;
  /** An attempt opened a socket for `slot`. */
  attemptStarted?(slot: number, c: Device): void;
  /** The handshake succeeded (also during teardown, which then ends the session at once). */
  connected?(slot: number, c: Device, nowUs: number): void;
  /**
   * The session is held (never during teardown). Returns true when this listener ended it at once:
   * the listeners after it do not hear of it.
   */
  held?(slot: number, c: Device, nowUs: number): boolean;
  /** MQTT: a SUBACK, a PUBACK/PUBCOMP, an inbound PUBLISH. */
  subscribed?(slot: number, granted: readonly number[], latencyUs: number, nowUs: number): void;
  /** `tag`: what the publisher gave publish() (herd's telemetry: seq + 1; 0 = none). */
  published?(slot: number, tag: number, latencyUs: number, reasonCode: number): void;
  message?(slot: number, m: InboundMessage, c: Device): void;
  failed?(slot: number, c: Device, f: Failure, nowUs: number): void;
  /**
   * A held session ended without herd asking. `herdsOutage`: herd's own silent outage had made its
   * link dark, so it ends as that outage's drop, not as the target's doing.
   */
  lost?(slot: number, c: Device, f: Failure, nowUs: number, herdsOutage: boolean): void;
  /** A session herd ended has closed. */
  closed?(slot: number, c: Device, nowUs: number): void;
  /** Once a second (and at the plan's end) while the run is not tearing down. */
  tick?(nowUs: number): void;
  /** Teardown begins: the scheduler has stopped, held sessions are about to be ended. */
  teardown?(nowUs: number): void;
  /** The run is over, before the recorder's last delta: a listener records what only the end decides. */
  ending?(): void;
  /** The run is over: adds what the listener kept to the run's end (after the recorder's last delta). */
  finish?(kept: RunKept): void;
}

type Hook<K extends keyof SessionListener> = NonNullable<SessionListener[K]>;

/** The listeners that have hook `k`, in order, each bound once. */
function hooks<K extends keyof SessionListener>(listeners: readonly SessionListener[], k: K): Hook<K>[] {
  const out: Hook<K>[] = [];
  for (const l of listeners) {
    const hook = l[k] as ((this: SessionListener, ...args: never[]) => unknown) | undefined;
    if (hook !== undefined) out.push(hook.bind(l) as Hook<K>);
  }
  return out;
}

/** Tells every listener, in order; itself a listener with every hook. */
export class SessionLife implements Required<SessionListener> {
  private readonly onStart: Hook<'start'>[];
  private readonly onAttempt: Hook<'attemptStarted'>[];
  private readonly onConnected: Hook<'connected'>[];
  private readonly onHeld: Hook<'held'>[];
  private readonly onSubscribed: Hook<'subscribed'>[];
  private readonly onPublished: Hook<'published'>[];
  private readonly onMessage: Hook<'message'>[];
  private readonly onFailed: Hook<'failed'>[];
  private readonly onLost: Hook<'lost'>[];
  private readonly onClosed: Hook<'closed'>[];
  private readonly onTick: Hook<'tick'>[];
  private readonly onTeardown: Hook<'teardown'>[];
  private readonly onEnding: Hook<'ending'>[];
  private readonly onFinish: Hook<'finish'>[];

  constructor(listeners: readonly SessionListener[]) {
    this.onStart = hooks(listeners, 'start');
    this.onAttempt = hooks(listeners, 'attemptStarted');
    this.onConnected = hooks(listeners, 'connected');
    this.onHeld = hooks(listeners, 'held');
    this.onSubscribed = hooks(listeners, 'subscribed');
    this.onPublished = hooks(listeners, 'published');
    this.onMessage = hooks(listeners, 'message');
    this.onFailed = hooks(listeners, 'failed');
    this.onLost = hooks(listeners, 'lost');
    this.onClosed = hooks(listeners, 'closed');
    this.onTick = hooks(listeners, 'tick');
    this.onTeardown = hooks(listeners, 'teardown');
    this.onEnding = hooks(listeners, 'ending');
    this.onFinish = hooks(listeners, 'finish');
  }

  // Indexed loops: the hot path allocates no iterator.
  start(): void {
    const h = this.onStart;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'start'>)();
  }
  attemptStarted(slot: number, c: Device): void {
    const h = this.onAttempt;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'attemptStarted'>)(slot, c);
  }
  connected(slot: number, c: Device, nowUs: number): void {
    const h = this.onConnected;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'connected'>)(slot, c, nowUs);
  }
  /** Returns true when a listener ended the session. */
  held(slot: number, c: Device, nowUs: number): boolean {
    const h = this.onHeld;
    for (let i = 0; i < h.length; i++) if ((h[i] as Hook<'held'>)(slot, c, nowUs)) return true;
    return false;
  }
  subscribed(slot: number, granted: readonly number[], latencyUs: number, nowUs: number): void {
    const h = this.onSubscribed;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'subscribed'>)(slot, granted, latencyUs, nowUs);
  }
  published(slot: number, tag: number, latencyUs: number, reasonCode: number): void {
    const h = this.onPublished;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'published'>)(slot, tag, latencyUs, reasonCode);
  }
  message(slot: number, m: InboundMessage, c: Device): void {
    const h = this.onMessage;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'message'>)(slot, m, c);
  }
  /** DeviceOwner.onSubscribed's arguments, heard at `nowUs`. */
  deviceSubscribed(nowUs: number, ...[c, , granted, latencyUs]: DeviceReport<'onSubscribed'>): void {
    this.subscribed(c.deviceId, granted, latencyUs, nowUs);
  }
  /** DeviceOwner.onPublished's arguments. */
  devicePublished(...[c, , , latencyUs, reasonCode, tag]: DeviceReport<'onPublished'>): void {
    this.published(c.deviceId, tag, latencyUs, reasonCode);
  }
  /** DeviceOwner.onMessage's arguments. */
  deviceMessage(...[c, m]: DeviceReport<'onMessage'>): void {
    this.message(c.deviceId, m, c);
  }
  failed(slot: number, c: Device, f: Failure, nowUs: number): void {
    const h = this.onFailed;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'failed'>)(slot, c, f, nowUs);
  }
  lost(slot: number, c: Device, f: Failure, nowUs: number, herdsOutage: boolean): void {
    const h = this.onLost;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'lost'>)(slot, c, f, nowUs, herdsOutage);
  }
  closed(slot: number, c: Device, nowUs: number): void {
    const h = this.onClosed;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'closed'>)(slot, c, nowUs);
  }
  tick(nowUs: number): void {
    const h = this.onTick;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'tick'>)(nowUs);
  }
  teardown(nowUs: number): void {
    const h = this.onTeardown;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'teardown'>)(nowUs);
  }
  ending(): void {
    const h = this.onEnding;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'ending'>)();
  }
  finish(kept: RunKept): void {
    const h = this.onFinish;
    for (let i = 0; i < h.length; i++) (h[i] as Hook<'finish'>)(kept);
  }
}
