/**
 * The fleet's state machine: the only code that moves a device between handshaking, connected and
 * closing, and so the only code that changes those gauges. Every session herd ends goes through
 * `endSession` with what happens once it has closed — the reconnect policy, an immediate planned
 * reconnect (churn), or nothing (teardown) — and the fleet carries it out.
 *
 *   opened ──ready──▶ held ──lost──────────────▶ (gone; the caller applies the policy)
 *     │                    │ └─endSession(how, then)─▶ closing ──closed──▶ `then`
 *     └──failed──▶ (gone)  ├─silence──▶ held, dark (ends by keepalive: lost)
 *                          └─abandon──▶ (gone; the dark link is left open for the target: a reboot)
 */
import type { Device } from '../protocols/device.js';
import type { Recorder } from '../metrics/recorder.js';
import type { EngineClock } from '../util/clock.js';
import type { DeviceTable } from './device-table.js';
import { EV_RECONNECT } from './event-heap.js';

export interface FleetHost {
  readonly dev: DeviceTable;
  readonly rec: Recorder;
  readonly tearingDown: boolean;
  /** Adds a scheduler event. */
  push(atUs: number, slot: number, kind: number): void;
  /** A handshake ended: an in-flight slot is free (the scheduler may be waiting on the cap). */
  handshakeEnded?(): void;
}

/** What follows a session herd ended: reconnect by the cohort's policy, at once (churn), or not. */
export type AfterClose = 'policy' | 'now' | 'never';
/** How herd ends it: MQTT DISCONNECT / WebSocket close, TCP reset, or an immediate close. */
export type EndHow = 'end' | 'reset' | 'abort';

const AFTER: readonly AfterClose[] = ['never', 'policy', 'now'];
/** Sessions ended per event-loop turn at teardown: a clean end of thousands must not block. */
const END_BATCH = 256;

export class Fleet {
  /** Each slot's current attempt or session; null when it has none. */
  readonly conns: (Device | null)[];
  private readonly afterClose: Uint8Array;
  /** 1 = the session's link is dark (a device-side silent outage) until keepalive ends it. */
  private readonly dark: Uint8Array;
  /** Connections devices abandoned (reboot outages), still open at the target; aborted at teardown. */
  private readonly abandoned = new Set<Device>();
  private readonly rec: Recorder;
  private readonly h: FleetHost;
  private nConnected = 0;
  private nHandshaking = 0;
  private nClosing = 0;

  constructor(devices: number, host: FleetHost) {
    this.conns = new Array<Device | null>(devices).fill(null);
    this.afterClose = new Uint8Array(devices);
    this.dark = new Uint8Array(devices);
    this.rec = host.rec;
    this.h = host;
  }

  get connected(): number {
    return this.nConnected;
  }
  get handshaking(): number {
    return this.nHandshaking;
  }
  /** Nothing handshaking, held or closing. */
  get idle(): boolean {
    return this.nHandshaking === 0 && this.nClosing <= 0 && this.nConnected <= 0;
  }

  device(slot: number): Device | null {
    return this.conns[slot] ?? null;
  }

  /** Whether the slot holds a session herd can still end (connected and not dark). */
  held(slot: number): boolean {
    return this.conns[slot]?.state === 'connected' && this.dark[slot] === 0;
  }

  isDark(slot: number): boolean {
    return this.dark[slot] === 1;
  }

  opened(slot: number, c: Device): void {
    this.conns[slot] = c;
    this.nHandshaking++;
    this.rec.noteHandshaking(this.nHandshaking);
  }

  /** The handshake finished: the session is held. */
  ready(): void {
    this.nHandshaking--;
    this.nConnected++;
    this.h.handshakeEnded?.();
  }

  failed(slot: number): void {
    this.nHandshaking--;
    this.conns[slot] = null;
    this.h.handshakeEnded?.();
  }

  /** A held session ended without herd asking (isDark says beforehand whether herd had made its link dark). */
  lost(slot: number): void {
    this.nConnected--;
    this.conns[slot] = null;
    this.dark[slot] = 0;
  }

  /** A silent outage: the link goes dark; the session stays held until keepalive finds it dead. */
  silence(slot: number): void {
    const c = this.conns[slot];
    if (!c || c.state !== 'connected') return;
    this.dark[slot] = 1;
    c.silence();
  }

  /** A reboot: the session leaves the fleet without a word; its link stays open, dark, for the target to close. */
  abandon(slot: number): void {
    const c = this.conns[slot];
    if (!c || c.state !== 'connected') return;
    c.silence();
    this.abandoned.add(c);
    this.conns[slot] = null;
    this.dark[slot] = 0;
    this.nConnected--;
  }

  /** Whether `c` is a connection a device abandoned (its reports are not the device's); forgets it once it ended. */
  isAbandoned(c: Device): boolean {
    if (this.conns[c.deviceId] === c || !this.abandoned.has(c)) return false;
    if (c.state === 'closed') this.abandoned.delete(c);
    return true;
  }

  /** Ends a held session herd's way; once it has closed, `closed` says what follows. */
  endSession(slot: number, how: EndHow, then: AfterClose): void {
    const c = this.conns[slot];
    if (!c || c.state !== 'connected') return;
    this.nConnected--;
    this.nClosing++;
    this.afterClose[slot] = AFTER.indexOf(then);
    // A dark link cannot carry a DISCONNECT: close it outright.
    const dark = this.dark[slot] === 1;
    this.dark[slot] = 0;
    if (dark || how === 'abort') c.abort();
    else if (how === 'reset') c.reset();
    else c.end();
  }

  /** A session herd ended has closed: what was asked for follows. */
  closed(slot: number, nowUs: number): void {
    this.nClosing--;
    this.conns[slot] = null;
    const then = AFTER[this.afterClose[slot] as number] ?? 'never';
    this.afterClose[slot] = 0;
    if (this.h.tearingDown) return;
    if (then === 'policy') this.reconnectLater(slot, nowUs);
    else if (then === 'now') {
      // Churn: a planned attempt at its churn time.
      this.h.dev.pending[slot] = 1;
      this.h.push(this.h.dev.intendedUs[slot] as number, slot, EV_RECONNECT);
    }
  }

  /** Schedules the slot's next attempt by its cohort's policy (once), or counts that it gave up. */
  reconnectLater(slot: number, nowUs: number): void {
    const d = this.h.dev;
    if (this.h.tearingDown || d.pending[slot] === 1) return;
    const delay = d.reconnectDelayUs(slot);
    if (delay === null) {
      this.rec.counters.gaveUp++;
      return;
    }
    d.pending[slot] = 1;
    this.h.push(nowUs + delay, slot, EV_RECONNECT);
  }

  /** Teardown: ends every held session, a batch per event-loop turn. */
  endAll(clock: EngineClock, onBatch: () => void): void {
    // Their reports still come (onClosed) and are recognised by isAbandoned, which forgets them.
    for (const c of this.abandoned) c.abort();
    const slots: number[] = [];
    this.conns.forEach((c, slot) => {
      if (c !== null && c.state === 'connected') slots.push(slot);
    });
    this.endBatch(clock, onBatch, slots, 0);
  }

  private endBatch(clock: EngineClock, onBatch: () => void, slots: number[], from: number): void {
    onBatch();
    const end = Math.min(slots.length, from + END_BATCH);
    for (let k = from; k < end; k++) this.endSession(slots[k] as number, 'end', 'never');
    if (end < slots.length) clock.setImmediate((f) => f.endBatch(clock, onBatch, slots, end), this);
  }

  /** The teardown's grace ran out: closes everything; returns the handshakes still in flight. */
  abortAll(): number {
    let inFlight = 0;
    for (const c of this.conns) {
      if (!c) continue;
      if (c.state === 'connecting' || c.state === 'handshaking') inFlight++;
      c.abort();
    }
    return inFlight;
  }
}
