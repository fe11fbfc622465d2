/**
 * Observed outages: fleet-wide loss events herd did not cause, found by one worker from what its
 * own devices saw (pure: times in, decisions out; the engine feeds it and marks the devices).
 *
 * The rule (docs/scenario-reference.md, "Observed outages"):
 * - losses: at least max(minDevices, ⌈share × devices connected just before⌉) sessions lost within
 *   `windowUs`, or
 * - refusals: attempts of at least minDevices devices failing in a row (network, TLS or timeout: the
 *   target did not answer) within `windowUs`, after the target had accepted a connect.
 * The event starts at the first loss or failure of that run; every device lost or failing from then
 * until the target accepts a connect again is one it hit; that first accept ends the outage and
 * recovery is measured from it, as it is from the end of an injected outage.
 * Losses and failures already attributed to an injected or declared outage are never fed in.
 */

export interface ObservedRule {
  windowUs: number;
  minDevices: number;
  /** Share (0–1] of the devices connected just before the window that must be lost in it. */
  share: number;
}

export const DEFAULT_OBSERVED_RULE: ObservedRule = { windowUs: 2_000_000, minDevices: 5, share: 0.1 };

/** Events one worker tracks at most; later candidates are ignored (the cap is reported in the docs). */
export const MAX_OBSERVED_EVENTS = 64;

export interface ObservedSink {
  /** Event `event` (0, 1, … per worker) started at `atUs`. */
  started(event: number, atUs: number): void;
  /** `slot` is one event `event` hit (called once per device and event). */
  hit(slot: number, event: number): void;
  /** The target accepted a connect again at `atUs`: event `event`'s outage ends there. */
  accepted(event: number, atUs: number): void;
}

/** A fixed-size queue of (time, slot) pairs, oldest first; allocation-free once built. */
class Ring {
  private readonly atUs: Float64Array;
  private readonly slot: Int32Array;
  private head = 0;
  size = 0;

  constructor(capacity: number) {
    this.atUs = new Float64Array(Math.max(1, capacity));
    this.slot = new Int32Array(Math.max(1, capacity));
  }

  push(atUs: number, slot: number): void {
    const cap = this.atUs.length;
    if (this.size === cap) {
      this.head = (this.head + 1) % cap;
      this.size--;
    }
    const i = (this.head + this.size) % cap;
    this.atUs[i] = atUs;
    this.slot[i] = slot;
    this.size++;
  }

  /** Forgets entries strictly older than `fromUs`. */
  evictBefore(fromUs: number): void {
    while (this.size > 0 && (this.atUs[this.head] as number) < fromUs) {
      this.head = (this.head + 1) % this.atUs.length;
      this.size--;
    }
  }

  oldestUs(): number {
    return this.atUs[this.head] as number;
  }

  slotAt(k: number): number {
    return this.slot[(this.head + k) % this.slot.length] as number;
  }

  has(slot: number): boolean {
    for (let k = 0; k < this.size; k++) if (this.slotAt(k) === slot) return true;
    return false;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }
}

export class ObservedOutageDetector {
  private readonly rule: ObservedRule;
  private readonly sink: ObservedSink;
  private readonly losses: Ring;
  private readonly failures: Ring;
  /** The event taking hits (started, target not accepting yet), or -1. */
  private active = -1;
  private events = 0;
  /** The target accepted a connect since the last event started (or ever, before the first). */
  private accepting = false;

  /** `devices`: the worker's device count (a device can be in a window several times; older entries go). */
  constructor(rule: ObservedRule, devices: number, sink: ObservedSink) {
    this.rule = rule;
    this.sink = sink;
    this.losses = new Ring(devices);
    this.failures = new Ring(Math.min(devices, Math.max(1, rule.minDevices)));
  }

  /** Events started so far. */
  get count(): number {
    return this.events;
  }

  /** A connected session of `slot` was lost at `nowUs`; `connectedNow` excludes it. */
  lost(slot: number, nowUs: number, connectedNow: number): void {
    if (this.active >= 0) {
      this.sink.hit(slot, this.active);
      return;
    }
    const r = this.losses;
    r.evictBefore(nowUs - this.rule.windowUs);
    r.push(nowUs, slot);
    const needed = Math.max(this.rule.minDevices, Math.ceil(this.rule.share * (connectedNow + r.size)));
    if (r.size >= needed) this.start(r);
  }

  /** An attempt of `slot` failed at `nowUs` because the target did not answer it. */
  failed(slot: number, nowUs: number): void {
    if (this.active >= 0) {
      this.sink.hit(slot, this.active);
      return;
    }
    if (!this.accepting) return;
    const r = this.failures;
    r.evictBefore(nowUs - this.rule.windowUs);
    // Devices, not attempts: one device retrying fast against a refusing port is not a fleet event.
    if (!r.has(slot)) r.push(nowUs, slot);
    if (r.size >= this.rule.minDevices) this.start(r);
  }

  /** A connect succeeded at `nowUs`. */
  accepted(nowUs: number): void {
    this.failures.clear();
    this.accepting = true;
    if (this.active < 0) return;
    this.sink.accepted(this.active, nowUs);
    this.active = -1;
  }

  private start(r: Ring): void {
    if (this.events >= MAX_OBSERVED_EVENTS) {
      r.clear();
      return;
    }
    const event = this.events++;
    this.active = event;
    this.accepting = false;
    this.sink.started(event, r.oldestUs());
    // A device lost and failing again inside the window is one hit (the sink counts it once).
    for (let k = 0; k < r.size; k++) this.sink.hit(r.slotAt(k), event);
    this.losses.clear();
    this.failures.clear();
  }
}
